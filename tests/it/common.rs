//! Shared test harness: a local feed server on 127.0.0.1 and a way to run the real binary.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// What the feed server answers, changeable while it runs.
#[derive(Clone, Default)]
pub struct FeedState {
    inner: Arc<Mutex<Served>>,
}

#[derive(Default)]
struct Served {
    body: Option<String>,
    content_type: String,
    etag: Option<String>,
    requests: Vec<RequestSeen>,
}

#[derive(Debug, Clone)]
pub struct RequestSeen {
    pub if_none_match: Option<String>,
    pub status: u16,
}

impl FeedState {
    /// Serves `body` with an ETag derived from its content; `None` makes the feed disappear (404).
    pub fn serve(&self, body: Option<&str>, content_type: &str) {
        let mut served = self.inner.lock().unwrap();
        served.body = body.map(str::to_string);
        served.content_type = content_type.to_string();
        served.etag = body.map(|b| format!("\"{:x}\"", fxhash(b)));
    }

    pub fn requests(&self) -> Vec<RequestSeen> {
        self.inner.lock().unwrap().requests.clone()
    }
}

fn fxhash(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

async fn feed(State(state): State<FeedState>, headers: HeaderMap) -> Response {
    let mut served = state.inner.lock().unwrap();
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (status, response) = match (&served.body, &served.etag) {
        (None, _) => (404, (StatusCode::NOT_FOUND, "gone").into_response()),
        (Some(_), Some(etag)) if if_none_match.as_deref() == Some(etag.as_str()) => (
            304,
            (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response(),
        ),
        (Some(body), etag) => (
            200,
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, served.content_type.clone()),
                    (header::ETAG, etag.clone().unwrap_or_default()),
                ],
                body.clone(),
            )
                .into_response(),
        ),
    };
    served.requests.push(RequestSeen {
        if_none_match,
        status,
    });
    response
}

/// Starts the feed server on 127.0.0.1 (port chosen by the OS) on its own thread; returns its
/// address. It lives as long as the test process.
pub fn start_feed_server(state: FeedState) -> SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            let app = Router::new().route("/feed", get(feed)).with_state(state);
            axum::serve(listener, app).await.unwrap();
        });
    });
    receiver.recv().unwrap()
}

/// A config folder with a store inside it, for one test.
pub struct Setup {
    pub dir: tempfile::TempDir,
}

impl Setup {
    /// `sources` is the TOML of the `[[sources]]` tables.
    pub fn new(sources: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[store]\npath = \"data\"\n\n[chat.shell]\nuser = \"you\"\n\n[rules]\nkeywords = [\"acme\", \"\\\"acme coffee\\\"\"]\nexclude = [\"vacature\"]\nown_accounts = [\"acmehq\"]\n\n{sources}"
        );
        std::fs::write(dir.path().join("earshot.toml"), config).unwrap();
        Setup { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("earshot.toml")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `earshot run --once` with `stdin` typed in the terminal.
    pub fn run_once(&self, stdin: &str, extra: &[&str]) -> Run {
        let mut command = self.command(&["run", "--once"]);
        command.args(extra);
        run(command, stdin)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_earshot"));
        command
            .args(args)
            .arg("--config")
            .arg(self.config())
            .env("RUST_LOG", "earshot=debug")
            .env_remove("RUST_LOG_STYLE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

impl Run {
    /// The numbers of the cards printed, in order.
    pub fn cards(&self) -> Vec<u64> {
        self.stdout
            .lines()
            .filter_map(|line| line.strip_prefix("┌─ #"))
            .filter_map(|rest| rest.split(' ').next()?.parse().ok())
            .collect()
    }
}

pub fn run(mut command: Command, stdin: &str) -> Run {
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        success: status.success(),
    }
}

/// A small deterministic generator, so a failing run of a randomised test can be replayed.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// A feed file that gains entries round after round, as a busy Google Alert does.
pub struct GrowingFeed {
    path: PathBuf,
    entries: Vec<(String, String, String)>,
}

impl GrowingFeed {
    pub fn new(path: PathBuf) -> GrowingFeed {
        GrowingFeed {
            path,
            entries: Vec::new(),
        }
    }

    /// Adds `count` entries for `round` (ids `r<round>-<j>`, all about acme) and rewrites the
    /// file with every entry so far.
    pub fn add_round(&mut self, round: impl std::fmt::Display, count: usize) {
        for j in 0..count {
            self.entries.push((
                format!("r{round}-{j}"),
                format!("Acme post {round}-{j}"),
                "about acme".into(),
            ));
        }
        let view: Vec<(&str, &str, &str)> = self
            .entries
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        std::fs::write(&self.path, atom(&view)).unwrap();
    }
}

/// An Atom feed with one entry per (id, title, html content).
pub fn atom(entries: &[(&str, &str, &str)]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>test</id><title>Google Alert - acme</title><updated>2026-11-21T16:18:45Z</updated>"#,
    );
    for (id, title, content) in entries {
        xml.push_str(&format!(
            r#"<entry><id>{id}</id><title type="html">{title}</title><link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news.example.com/{id}&amp;ct=ga"/><published>2026-11-21T14:26:15Z</published><updated>2026-11-21T14:26:15Z</updated><content type="html">{content}</content><author><name/></author></entry>"#
        ));
    }
    xml.push_str("</feed>");
    xml
}

/// Opens a store's sled folder directly, to damage or inspect it. A store just dropped may hold
/// its file lock for a moment while sled's flusher thread ends (longer on a busy machine), so
/// this waits for it as `Store::open` does.
pub fn raw_sled(path: &Path) -> sled::Db {
    let mut tries = 0;
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(error) if tries < 100 && error.to_string().contains("could not acquire lock") => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(error) => panic!("cannot open {}: {error}", path.display()),
        }
    }
}
