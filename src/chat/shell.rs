//! The terminal as a chat, like Hubot's shell adapter: cards print to standard output, and each
//! line typed on standard input is a message in the channel.

use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Chat, ChatError};
use crate::domain::lifecycle::ago;
use crate::domain::{Member, Tracked};

pub struct Shell {
    out: Mutex<Box<dyn Write + Send>>,
    /// Where uploaded files (report charts) are written; the terminal prints their path.
    files: Option<std::path::PathBuf>,
}

impl Shell {
    pub fn stdout() -> Shell {
        Shell::new(Box::new(std::io::stdout()))
    }

    pub fn new(out: Box<dyn Write + Send>) -> Shell {
        Shell {
            out: Mutex::new(out),
            files: None,
        }
    }

    /// Writes uploaded files into `folder` (created when needed).
    pub fn with_files(mut self, folder: std::path::PathBuf) -> Shell {
        self.files = Some(folder);
        self
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
        _message: &str,
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
        _message: &str,
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
        };
        let text = card(&tracked, now);
        assert_eq!(
            text,
            "┌─ #7 · feed · google-alerts · open\n│ Example News · 2 h ago\n│ Acme opens\n│ \u{FFFD}[2Jcafé\n│ https://news.example/acme\n│ matched: acme\n└─"
        );
    }
}
