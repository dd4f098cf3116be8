//! `TestApp`: the real app, built from a TOML string on a temporary store, every task under
//! its own supervisor, with the fakes on 127.0.0.1 port 0 (bors' `BorsTester` is the model).
//! A test feeds mentions through the fake feed (`%FEED%` in the TOML), types in the terminal
//! (the harness's chat: the real adapter on an in-memory screen), and waits for what the store
//! or the screen shows, looking again every few milliseconds until a deadline: nothing sleeps
//! a fixed time. The test fails when a task of the app died, or when the app logged an ERROR
//! the test did not declare with [`TestApp::expect_error`].

pub mod capture;
mod fails;
pub mod fake_chat;
pub mod fake_source;
pub mod terminal;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use earshot::app::{App, RunOptions};
use earshot::chat::shell::Shell;
use earshot::config::Config;
use earshot::store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::common::{start_feed_server, FeedState};
use capture::Capture;
use terminal::{terminal, Screen};

/// How long a wait lasts before it fails the test: the app runs on real sockets, on a machine
/// other builds share.
const PATIENCE: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const LOOK_EVERY: Duration = Duration::from_millis(10);
/// How long the app may take to stop (its own shutdown grace is 10 s).
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// The config most tests start from: the store in the test's folder, the terminal relaying
/// cards as `you`, and rules for Acme; a test appends its `[[sources]]` and chats.
pub const BASE: &str = "[store]\npath = \"data\"\n\n[chat.shell]\nuser = \"you\"\n\n[rules]\nkeywords = [\"acme\", \"\\\"acme coffee\\\"\"]\nexclude = [\"vacature\"]\nown_accounts = [\"acmehq\"]\n\n";

/// The fake feed as a `[[sources]]` table, polled at the shortest interval the config allows
/// (the first poll is at start; a later one is a restart away).
pub const FEED: &str =
    "[[sources]]\nkind = \"feed\"\nname = \"alerts\"\nurl = \"%FEED%\"\nevery = \"10s\"\n";

pub struct TestApp {
    /// What the terminal printed in this run.
    pub screen: Screen,
    /// The fake feed: what it serves and the requests it saw.
    pub feed: FeedState,
    dir: tempfile::TempDir,
    capture: Capture,
    expected: Vec<String>,
    /// Expected errors seen in earlier runs (the capture is cleared at a restart).
    seen: HashSet<String>,
    running: Option<Running>,
}

/// One run of the app on its own thread and runtime.
struct Running {
    store: Store,
    typed: mpsc::Sender<String>,
    /// Taken to stop the app.
    stop: Option<oneshot::Sender<()>>,
    thread: std::thread::JoinHandle<Result<(), String>>,
    /// How the app ended, set once it has (so a wait can fail at once, and say why).
    ended: Ended,
}

type Ended = Arc<Mutex<Option<Result<(), String>>>>;

impl TestApp {
    /// Starts the app from `toml`, where `%FEED%` is the fake feed's URL and `%DIR%` the
    /// test's folder (the config file's, so relative paths land there).
    pub async fn start(toml: &str) -> TestApp {
        let mut app = TestApp::prepare(toml);
        app.launch(None).await;
        app
    }

    /// The folder, the config file and the fake feed, without starting the app: a test serves
    /// its feed or writes its files first (the first poll is at start), then
    /// [`TestApp::launch`]es it.
    pub fn prepare(toml: &str) -> TestApp {
        let feed = FeedState::default();
        let feed_url = format!("http://{}/feed", start_feed_server(feed.clone()));
        let dir = tempfile::tempdir().unwrap();
        let text = toml
            .replace("%FEED%", &feed_url)
            .replace("%DIR%", &dir.path().display().to_string());
        std::fs::write(dir.path().join("earshot.toml"), text).unwrap();
        TestApp {
            screen: Screen::default(),
            feed,
            dir,
            capture: Capture::default(),
            expected: Vec::new(),
            seen: HashSet::new(),
            running: None,
        }
    }

    /// The test's folder (the config file and the store are in it).
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// An ERROR whose text contains `text` is part of this test: it does not fail it, and
    /// [`TestApp::finish`] fails if it was never logged.
    pub fn expect_error(&mut self, text: &str) -> &mut TestApp {
        self.expected.push(text.to_string());
        self
    }

    /// The running app's store, to read what it holds.
    pub fn store(&self) -> &Store {
        &self.running().store
    }

    /// Types `line` in the terminal, as a person would.
    pub async fn type_line(&self, line: &str) {
        self.running()
            .typed
            .send(line.to_string())
            .await
            .expect("the terminal stopped reading");
    }

    /// Waits until `check` finds what it looks for in the store.
    pub async fn until<T>(&self, what: &str, check: impl Fn(&Store) -> Option<T>) -> T {
        self.eventually(what, || check(self.store())).await
    }

    /// Waits until the screen shows `text`.
    pub async fn until_screen(&self, text: &str) {
        self.eventually(&format!("the screen to show {text:?}"), || {
            self.screen.text().contains(text).then_some(())
        })
        .await
    }

    /// Waits until an event containing `text` was logged.
    pub async fn until_logged(&self, text: &str) {
        self.eventually(&format!("a log line with {text:?}"), || {
            self.capture.contains(text).then_some(())
        })
        .await
    }

    /// Waits until this run has polled its sources `times` times in all (a failed poll
    /// counts) and the outbox holds nothing due.
    pub async fn until_polled(&self, times: usize) {
        self.eventually(&format!("{times} poll(s) and an empty outbox"), || {
            let polls = self
                .capture
                .events()
                .iter()
                .filter(|event| {
                    event.text.starts_with("polled") || event.text.contains("poll failed")
                })
                .count();
            (polls >= times && self.store().outbox_len() == 0).then_some(())
        })
        .await
    }

    /// Stops the app and starts it again on the same store and config, as `member` when given;
    /// returns what the terminal printed in the run that ended.
    pub async fn restart(&mut self, member: Option<&str>) -> String {
        self.stop().await;
        self.remember_expected();
        self.capture = Capture::default();
        let printed = self.screen.take();
        self.launch(member).await;
        printed
    }

    /// Stops the app; fails the test if a task died or an error was logged that it did not
    /// expect, or an expected one was never logged. Returns what the last run printed.
    pub async fn finish(mut self) -> String {
        self.stop().await;
        self.remember_expected();
        let missing: Vec<&String> = self
            .expected
            .iter()
            .filter(|text| !self.seen.contains(*text))
            .collect();
        assert!(
            missing.is_empty(),
            "expected an ERROR with {missing:?}, but none was logged\n-- the app's log:\n{}",
            self.capture.dump()
        );
        self.screen.take()
    }

    /// Starts the app on this folder's config (read again: a test may change it between
    /// runs), typing in the terminal as `member` when given (as `earshot run --as`).
    pub async fn launch(&mut self, member: Option<&str>) {
        assert!(self.running.is_none(), "the app is running already");
        let file = self.dir.path().join("earshot.toml");
        let config = Config::load(&file).unwrap_or_else(|error| panic!("{error}"));
        let (shell, typed) = terminal(&self.screen);
        let options = RunOptions {
            once: false,
            member: member.map(str::to_string),
        };
        let (ready, started) = oneshot::channel();
        let (stop, stopped) = oneshot::channel();
        let ended = Ended::default();
        let thread = spawn(
            config,
            options,
            shell,
            self.capture.clone(),
            ready,
            stopped,
            ended.clone(),
        );
        match started.await {
            Ok(Ok(store)) => {
                self.running = Some(Running {
                    store,
                    typed,
                    stop: Some(stop),
                    thread,
                    ended,
                })
            }
            Ok(Err(error)) => panic!("the app did not start: {error}"),
            Err(_) => panic!("the app did not start: {:?}", thread.join()),
        }
    }

    fn running(&self) -> &Running {
        self.running.as_ref().expect("the app is not running")
    }

    /// Looks for `found` until [`PATIENCE`] runs out, failing at once if a task of the app died.
    async fn eventually<T>(&self, what: &str, found: impl Fn() -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(found) = found() {
                return found;
            }
            if let Some(outcome) = self.running().ended.lock().unwrap().clone() {
                let why = outcome.err().unwrap_or_else(|| "the app returned".into());
                panic!(
                    "a task of the app died: {why}\n-- the app's log:\n{}",
                    self.capture.dump()
                );
            }
            assert!(
                started.elapsed() < PATIENCE,
                "timed out waiting for {what}\n-- the screen:\n{}\n-- the app's log:\n{}",
                self.screen.text(),
                self.capture.dump()
            );
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }

    /// Tells the app to stop, as Ctrl-C does, without waiting for it: the test looks at what
    /// it does while it stops, then [`TestApp::finish`]es.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self
            .running
            .as_mut()
            .and_then(|running| running.stop.take())
        {
            let _ = stop.send(());
        }
    }

    /// Stops the running app and checks how it ended.
    async fn stop(&mut self) {
        self.signal_stop();
        let Some(running) = self.running.take() else {
            return;
        };
        let started = Instant::now();
        while !running.thread.is_finished() && started.elapsed() < STOP_WITHIN {
            tokio::time::sleep(LOOK_EVERY).await;
        }
        self.check(running);
    }

    /// Fails the test if the run ended with a task that died, or logged an unexpected error.
    fn check(&self, running: Running) {
        assert!(
            running.thread.is_finished(),
            "the app did not stop within {STOP_WITHIN:?}\n-- the app's log:\n{}",
            self.capture.dump()
        );
        drop(running.store);
        let outcome = running.thread.join();
        if std::thread::panicking() {
            return;
        }
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!(
                "a task of the app died: {error}\n-- the app's log:\n{}",
                self.capture.dump()
            ),
            Err(_) => panic!(
                "the app's thread panicked\n-- the app's log:\n{}",
                self.capture.dump()
            ),
        }
        let unexpected: Vec<String> = self
            .capture
            .errors()
            .into_iter()
            .filter(|error| !self.expected.iter().any(|text| error.text.contains(text)))
            .map(|error| error.text)
            .collect();
        assert!(
            unexpected.is_empty(),
            "the app logged an ERROR the test did not expect: {}\n-- the app's log:\n{}",
            unexpected.join("\n"),
            self.capture.dump()
        );
    }

    fn remember_expected(&mut self) {
        for text in &self.expected {
            if self
                .capture
                .errors()
                .iter()
                .any(|error| error.text.contains(text))
            {
                self.seen.insert(text.clone());
            }
        }
    }
}

impl Drop for TestApp {
    /// A test that ends without [`TestApp::finish`] is checked all the same (a failing test
    /// is already unwinding: then the app is only stopped).
    fn drop(&mut self) {
        let Some(mut running) = self.running.take() else {
            return;
        };
        if let Some(stop) = running.stop.take() {
            let _ = stop.send(());
        }
        let started = Instant::now();
        while !running.thread.is_finished() && started.elapsed() < STOP_WITHIN {
            std::thread::sleep(LOOK_EVERY);
        }
        if !std::thread::panicking() {
            self.check(running);
        }
    }
}

/// Runs the app on a thread of its own, on a runtime whose threads log into `capture` only.
fn spawn(
    config: Config,
    options: RunOptions,
    shell: Shell,
    capture: Capture,
    ready: oneshot::Sender<Result<Store, String>>,
    stopped: oneshot::Receiver<()>,
    ended: Ended,
) -> std::thread::JoinHandle<Result<(), String>> {
    std::thread::spawn(move || {
        let dispatch = tracing::Dispatch::new(capture.subscriber());
        let _default = tracing::dispatcher::set_default(&dispatch);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || {
                // Kept for the worker's life (the guard would undo it when dropped).
                std::mem::forget(tracing::dispatcher::set_default(&dispatch));
            })
            .build()
            .map_err(|error| error.to_string())?;
        let outcome = runtime.block_on(async move {
            let app = match App::build_with_terminal(&config, &options, shell) {
                Ok(app) => app,
                Err(error) => {
                    let _ = ready.send(Err(error.to_string()));
                    return Ok(());
                }
            };
            let _ = ready.send(Ok(app.store.clone()));
            app.run_until(async {
                let _ = stopped.await;
                Ok(())
            })
            .await
            .map_err(|error| error.to_string())
        });
        *ended.lock().unwrap() = Some(outcome.clone());
        runtime.shutdown_timeout(Duration::from_secs(1));
        outcome
    })
}
