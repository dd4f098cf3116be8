//! The terminal as a chat, like Hubot's shell adapter: cards print to standard output, and each
//! line typed on standard input is a command, read and parsed here like the other chats' input
//! and executed by the desk for the configured user.

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use super::{Chat, ChatError};
use crate::desk::{Caller, Desk};
use crate::domain::lifecycle::ago;
use crate::domain::{Member, MemberRef, Tracked};

/// Lines typed ahead of the desk: a paste of many commands waits here, not in memory unbounded.
const TYPED_AHEAD: usize = 64;

pub struct Shell {
    out: Mutex<Box<dyn Write + Send>>,
    /// Where uploaded files (report charts) are written; the terminal prints their path.
    files: Option<std::path::PathBuf>,
    /// Who types in the terminal (`[chat.shell] user`, or `--as`).
    member: Member,
    /// The lines typed; standard input unless [`Shell::with_input`] gave others. Taken by the
    /// first [`Chat::listen`].
    input: Mutex<Option<mpsc::Receiver<String>>>,
}

impl Shell {
    pub fn stdout() -> Shell {
        Shell::new(Box::new(std::io::stdout()))
    }

    pub fn new(out: Box<dyn Write + Send>) -> Shell {
        Shell {
            out: Mutex::new(out),
            files: None,
            member: Member::new("you", "you"),
            input: Mutex::new(None),
        }
    }

    /// Writes uploaded files into `folder` (created when needed).
    pub fn with_files(mut self, folder: std::path::PathBuf) -> Shell {
        self.files = Some(folder);
        self
    }

    /// Types as `member`.
    pub fn with_member(mut self, member: Member) -> Shell {
        self.member = member;
        self
    }

    /// Reads typed lines from `lines` instead of standard input.
    pub fn with_input(self, lines: mpsc::Receiver<String>) -> Shell {
        *self
            .input
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(lines);
        self
    }

    /// Who types here.
    pub fn member(&self) -> &Member {
        &self.member
    }

    /// Prints a message to the channel (command replies go through here too, so lines from
    /// the outbox and from commands never interleave mid-line).
    pub fn say(&self, text: &str) -> Result<(), ChatError> {
        let mut out = self
            .out
            .lock()
            .map_err(|_| ChatError::Permanent("terminal output is unavailable".into()))?;
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(|error| ChatError::Permanent(format!("cannot write to the terminal: {error}")))
    }

    /// The lines to read: those given, or standard input.
    pub fn lines(&self) -> mpsc::Receiver<String> {
        let given = self
            .input
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        given.unwrap_or_else(stdin_lines)
    }

    /// One line typed in the terminal: `/mentions claim 3`, or just `claim 3`, executed by the
    /// desk and answered here. A panic while handling it (a bug) is answered with an apology.
    pub async fn type_line(&self, desk: &Desk, line: &str) {
        let answer = crate::chat::caught("a terminal command", self.answer(desk, line)).await;
        let said = match answer {
            Some(Some(text)) => text,
            Some(None) => return,
            None => crate::chat::SORRY.to_string(),
        };
        // The terminal is the person's own screen: a failed write has nobody else to tell.
        if let Err(error) = self.say(&said) {
            tracing::warn!(%error, "cannot show a reply in the terminal");
        }
    }

    /// What to print for `line`, `None` for a blank one.
    async fn answer(&self, desk: &Desk, line: &str) -> Option<String> {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        let prefix = desk.prefix();
        let text = match line.strip_prefix(prefix) {
            Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest,
            _ if line.starts_with('/') => {
                let given = line.split_whitespace().next().unwrap_or(line);
                return Some(format!("Unknown command `{given}`. Try `{prefix} help`."));
            }
            _ => line,
        };
        // The terminal has no directory of people: a name in `assign` is the member.
        let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
        let caller = Caller::new(self.member.clone(), self.name());
        Some(desk.handle(&caller, text, &resolve, Utc::now()).await.text)
    }
}

/// Lines from standard input, read on a plain thread: a blocked read must not hold up the
/// runtime's shutdown.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel(TYPED_AHEAD);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if sender.blocking_send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

#[async_trait]
impl Chat for Shell {
    fn name(&self) -> &str {
        "shell"
    }

    fn at_most_once(&self) -> bool {
        true
    }

    async fn post(&self, mention: &Tracked, now: DateTime<Utc>) -> Result<String, ChatError> {
        self.say(&card(mention, now))?;
        Ok(format!("shell-{}", mention.number))
    }

    async fn update(
        &self,
        _message: &str,
        mention: &Tracked,
        note: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.say(&update_line(mention, note))
    }

    async fn post_notice(&self, text: &str, _now: DateTime<Utc>) -> Result<(), ChatError> {
        self.say(&clean_lines(text))
    }

    async fn post_summary(&self, text: &str, _now: DateTime<Utc>) -> Result<String, ChatError> {
        self.say(&summary_card(text))?;
        Ok("shell-storm".into())
    }

    /// The terminal cannot edit what it printed: the card's new version is printed in full.
    async fn update_summary(
        &self,
        _message: &str,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.say(&summary_card(text))
    }

    async fn nudge(
        &self,
        _message: Option<&str>,
        mention: &Tracked,
        text: &str,
        ping: &[String],
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let ping = ping
            .iter()
            .map(|who| format!("{} ", clean(who)))
            .collect::<String>();
        self.say(&format!("── #{} ⏰ {ping}{}", mention.number, clean(text)))
    }

    async fn notify_member(
        &self,
        member: &Member,
        _message: Option<&str>,
        mention: &Tracked,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.say(&format!(
            "→ {} (direct) #{}: {}",
            clean(&member.to_string()),
            mention.number,
            clean(text)
        ))
    }

    /// Reads the typed lines until they end (no terminal: a service, or input closed) or
    /// `shutdown`. The app runs it beside the chats whether or not `[chat.shell]` relays
    /// cards, so it is not restarted when it returns.
    async fn listen(
        self: Arc<Self>,
        desk: Desk,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), ChatError> {
        let mut lines = self.lines();
        loop {
            tokio::select! {
                line = lines.recv() => match line {
                    Some(line) => self.type_line(&desk, &line).await,
                    None => return Ok(()),
                },
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    async fn upload(
        &self,
        file_name: &str,
        bytes: &[u8],
        caption: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let folder = self.files.clone().unwrap_or_else(std::env::temp_dir);
        let path = folder.join(file_name);
        std::fs::create_dir_all(&folder)
            .and_then(|()| std::fs::write(&path, bytes))
            .map_err(|error| {
                ChatError::Permanent(format!("cannot write {}: {error}", path.display()))
            })?;
        self.say(&format!("{}\n📈 {}", clean_lines(caption), path.display()))
    }
}

/// A storm's summary card, framed like a mention's card.
pub fn summary_card(text: &str) -> String {
    let mut lines = vec!["┌─ ⚡ storm".to_string()];
    lines.extend(text.lines().map(|line| format!("│ {}", clean(line))));
    lines.push("└─".to_string());
    lines.join("\n")
}

/// [`clean`] for text of several lines: the line breaks stay.
fn clean_lines(text: &str) -> String {
    text.lines().map(clean).collect::<Vec<_>>().join("\n")
}

/// A mention as the terminal shows it.
pub fn card(tracked: &Tracked, now: DateTime<Utc>) -> String {
    let mention = &tracked.mention;
    let mut lines = vec![
        format!(
            "┌─ #{} · {} · {} · {}",
            tracked.number,
            mention.network,
            clean(&mention.key.source),
            clean(&tracked.state.describe())
        ),
        format!(
            "│ {} · {}",
            clean(&mention.author.display()),
            ago(mention.created_at, now)
        ),
    ];
    if let Some(earlier) = tracked.follow_up_of {
        lines.push(format!("│ ↪ replies to our answer on #{earlier}"));
    }
    if let Some(found) = &mention.review {
        lines.push(format!("│ {}", clean(&found.headline())));
    }
    if let Some(flag) = tracked.priority.flag() {
        lines.push(format!("│ ⚠ {}", clean(&flag)));
    }
    let body = match &mention.review {
        Some(found) => crate::domain::review::body(found, &mention.text),
        None => mention.text.clone(),
    };
    for line in body.lines() {
        lines.push(format!("│ {}", clean(line)));
    }
    if let Some(reply) = mention
        .review
        .as_ref()
        .and_then(|found| found.reply.as_ref())
    {
        lines.push(format!(
            "│ ↳ reply on {}: {}",
            mention.network,
            clean(&crate::domain::review::quote(&reply.text, 200))
        ));
    }
    if let Some(link) = &mention.link {
        lines.push(format!("│ {}", clean(link)));
    }
    if !mention.matched.is_empty() {
        lines.push(format!("│ matched: {}", clean(&mention.matched.join(", "))));
    }
    lines.push("└─".to_string());
    lines.join("\n")
}

/// "── #3 claimed by @jane"; when more has happened since, the current state follows.
pub fn update_line(mention: &Tracked, note: &str) -> String {
    let now = mention.state.describe();
    if now == note {
        format!("── #{} {}", mention.number, clean(note))
    } else {
        format!(
            "── #{} {} · now {}",
            mention.number,
            clean(note),
            clean(&now)
        )
    }
}

/// Relayed text must not drive the terminal: control characters (escape sequences that move
/// the cursor, clear the screen or retitle the window) are shown as `�`.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Author, Mention, MentionKey, State};

    #[test]
    fn card_shows_everything_and_neutralises_escape_sequences() {
        let now = Utc::now();
        let tracked = Tracked {
            number: 7,
            mention: Mention {
                key: MentionKey::new("google-alerts", "x"),
                network: crate::sources::feed::TRAITS.network(),
                author: Author {
                    handle: String::new(),
                    name: Some("Example News".into()),
                    profile: None,
                },
                text: "Acme opens\n\u{1b}[2Jcafé".into(),
                link: Some("https://news.example/acme".into()),
                created_at: now - chrono::Duration::hours(2),
                matched: vec!["acme".into()],
                language: None,
                in_reply_to: None,
                direct: false,
                review: None,
            },
            state: State::Open,
            received_at: now,
            follow_up_of: None,
            priority: Default::default(),
            place: Default::default(),
            copy: Default::default(),
        };
        let text = card(&tracked, now);
        assert_eq!(
            text,
            "┌─ #7 · feed · google-alerts · open\n│ Example News · 2 h ago\n│ Acme opens\n│ \u{FFFD}[2Jcafé\n│ https://news.example/acme\n│ matched: acme\n└─"
        );
    }
}
