//! Chat adapters: where cards appear and where people type commands. Each adapter renders the
//! core's state its own way (Block Kit, embeds, text) and escapes relayed text so that a post
//! can never ping anyone or fake the bot's own markup.

pub mod discord;
pub mod shell;
pub mod slack;

use std::time::Duration;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::desk::Desk;
use crate::domain::{Member, Tracked};

/// One chat the bot relays to.
#[async_trait]
pub trait Chat: Send + Sync {
    /// The name its outbox effects are filed under ("shell", "slack", "discord").
    fn name(&self) -> &str;

    /// Whether a send can be neither checked afterwards nor de-duplicated by the chat (the
    /// terminal). Such chats are sent to at most once: the outbox records the send before making
    /// it, so a crash in between leaves a card unshown (still listed) rather than shown twice.
    /// Other chats are sent to at least once and de-duplicate retries themselves.
    fn at_most_once(&self) -> bool {
        false
    }

    /// Shows a new mention; returns the chat's id for the message, to update it later.
    async fn post(&self, mention: &Tracked, now: DateTime<Utc>) -> Result<String, ChatError>;

    /// Re-renders the mention's message after a change, and notes the change (in a thread,
    /// where the chat has them).
    async fn update(
        &self,
        message: &str,
        mention: &Tracked,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError>;

    /// Looks for a message this chat already shows for `mention`. The outbox asks before it
    /// posts again a mention whose earlier attempt may have landed unseen (a crash or a lost
    /// answer between the post and its record), so the card is not shown twice. Chats that
    /// cannot tell keep the default, which finds nothing.
    async fn find_posted(&self, mention: &Tracked) -> Result<Option<String>, ChatError> {
        let _ = mention;
        Ok(None)
    }

    /// Posts a message that belongs to no single mention (the daily digest, a report) to the
    /// channel. Chats that have not implemented it refuse, and the outbox logs the refusal.
    async fn post_notice(&self, text: &str, now: DateTime<Utc>) -> Result<(), ChatError> {
        let _ = (text, now);
        Err(ChatError::Permanent(format!(
            "the {} chat cannot post notices yet",
            self.name()
        )))
    }

    /// Posts a notice in `channel` (a route's channel; `None`: the chat's own). Chats with one
    /// channel keep the default, which is [`Chat::post_notice`].
    async fn post_notice_in(
        &self,
        channel: Option<&str>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let _ = channel;
        self.post_notice(text, now).await
    }

    /// [`Chat::post_summary`] in `channel` (`None`: the chat's own).
    async fn post_summary_in(
        &self,
        channel: Option<&str>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<String, ChatError> {
        let _ = channel;
        self.post_summary(text, now).await
    }

    /// Posts a storm's summary card, which stands in for the cards of the mentions that arrive
    /// during a storm; returns the chat's id for it, to update it as the storm grows. By default
    /// a notice ([`Chat::post_notice`]) with no id.
    async fn post_summary(&self, text: &str, now: DateTime<Utc>) -> Result<String, ChatError> {
        self.post_notice(text, now).await?;
        Ok(String::new())
    }

    /// Replaces the summary card `message` with `text`. Chats that cannot edit a notice in
    /// place keep the default, which posts the new version as another notice.
    async fn update_summary(
        &self,
        message: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let _ = message;
        self.post_notice(text, now).await
    }

    /// Chases an unclaimed mention in its thread, alerting `ping` (member names, `@oncall`, or
    /// `@channel` for everyone). `message` is the mention's card, `None` when it is not shown
    /// (yet, or its post failed for good): the reminder then goes to the channel itself. By
    /// default a thread note through [`Chat::update`], or a notice without a card.
    async fn nudge(
        &self,
        message: Option<&str>,
        mention: &Tracked,
        text: &str,
        ping: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let note = if ping.is_empty() {
            text.to_string()
        } else {
            format!("{} {text}", ping.join(" "))
        };
        match message {
            Some(message) => self.update(message, mention, &note, now).await,
            None => {
                self.post_notice(&format!("#{}: {note}", mention.number), now)
                    .await
            }
        }
    }

    /// Tells `member` something about a mention they hold: a direct message where the chat has
    /// them; by default a note in the mention's thread (`message`, as for [`Chat::nudge`]) that
    /// names them.
    async fn notify_member(
        &self,
        member: &Member,
        message: Option<&str>,
        mention: &Tracked,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.nudge(message, mention, text, &[member.to_string()], now)
            .await
    }

    /// Shares a file (the weekly report's PNG chart) with `caption`. By default only the
    /// caption is posted.
    async fn upload(
        &self,
        file_name: &str,
        bytes: &[u8],
        caption: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let _ = (file_name, bytes);
        self.post_notice(caption, now).await
    }

    /// Whether [`Chat::listen`] is a listener that runs until shutdown (Slack, Discord): one
    /// that returns early is started again. The terminal's ends with its input, by design.
    fn listens(&self) -> bool {
        false
    }

    /// Whether only one process may hold the listener (Discord's gateway is one bot session):
    /// then only the leader runs it. Slack's Socket Mode spreads events over every
    /// connection, and HTTP endpoints serve on any process, so they run everywhere.
    fn listens_alone(&self) -> bool {
        false
    }

    /// Receives what people type and click, hands it to `desk`, and answers them, until
    /// `shutdown` turns true. Chats that take no input keep the default, which returns at once.
    async fn listen(
        self: Arc<Self>,
        desk: Desk,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), ChatError> {
        let _ = (desk, shutdown);
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// Worth trying again: rate limited, the chat is down, a timeout.
    #[error("{reason}")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Trying again cannot help (bad token, unknown channel); needs a person.
    #[error("{0}")]
    Permanent(String),
}

/// What a person is told when handling their command panicked (a bug): nothing was changed
/// that they were not told of, since the desk's transaction either committed or did not.
pub const SORRY: &str =
    "Sorry, earshot failed on that (a bug, logged). Check the card or `show N` before trying again.";

/// Runs `work`, turning a panic in it into `None` with an error line naming `what`, so that a
/// bug in handling one command is logged and answered instead of reaching only the default
/// panic hook and leaving the person without a word.
pub async fn caught<T>(what: &str, work: impl std::future::Future<Output = T>) -> Option<T> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(done) => Some(done),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            tracing::error!(what, panic = %message, "handling a command panicked");
            None
        }
    }
}

/// The media type chats are told for an uploaded file: earshot uploads PNG charts.
pub(crate) fn content_type(file_name: &str) -> &'static str {
    if file_name.ends_with(".png") {
        "image/png"
    } else {
        "application/octet-stream"
    }
}

impl From<crate::net::Failure> for ChatError {
    /// See `net::failure`: a refused token needs a person by the time it reaches the outbox.
    fn from(failure: crate::net::Failure) -> ChatError {
        match failure {
            crate::net::Failure::Retry { reason, after } => ChatError::Retry { reason, after },
            crate::net::Failure::Permanent(reason) | crate::net::Failure::TokenExpired(reason) => {
                ChatError::Permanent(reason)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Author, Mention, MentionKey, State};

    /// A chat that keeps every default and records what reaches `update` and `post_notice`.
    #[derive(Default)]
    struct Recording(std::sync::Mutex<Vec<String>>);

    #[async_trait]
    impl Chat for Recording {
        fn name(&self) -> &str {
            "recording"
        }

        async fn post(&self, _: &Tracked, _: DateTime<Utc>) -> Result<String, ChatError> {
            Ok("card-12".into())
        }

        async fn update(
            &self,
            message: &str,
            _: &Tracked,
            note: &str,
            _: DateTime<Utc>,
        ) -> Result<(), ChatError> {
            self.0.lock().unwrap().push(format!("{message}: {note}"));
            Ok(())
        }

        async fn post_notice(&self, text: &str, _: DateTime<Utc>) -> Result<(), ChatError> {
            self.0.lock().unwrap().push(format!("notice: {text}"));
            Ok(())
        }
    }

    fn tracked() -> Tracked {
        let now = DateTime::UNIX_EPOCH;
        Tracked {
            number: 12,
            mention: Mention {
                key: MentionKey::new("masto", "109"),
                network: crate::domain::network::examples::READ_ONLY,
                author: Author {
                    handle: "jane@example.social".into(),
                    name: None,
                    profile: None,
                },
                text: "acme".into(),
                link: None,
                created_at: now,
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
        }
    }

    #[tokio::test]
    async fn a_reminder_goes_to_the_card_or_without_one_to_the_channel() {
        let chat = Recording::default();
        let now = DateTime::UNIX_EPOCH;
        let jane = Member::new("U1", "jane");
        let ping = ["@oncall".to_string()];
        chat.nudge(Some("card-12"), &tracked(), "still open", &ping, now)
            .await
            .unwrap();
        chat.nudge(None, &tracked(), "still open", &ping, now)
            .await
            .unwrap();
        chat.notify_member(&jane, None, &tracked(), "yours", now)
            .await
            .unwrap();
        assert_eq!(
            chat.0.into_inner().unwrap(),
            [
                "card-12: @oncall still open",
                "notice: #12: @oncall still open",
                "notice: #12: @jane yours",
            ]
        );
    }

    #[tokio::test]
    async fn a_panic_while_handling_a_command_is_caught() {
        assert_eq!(caught("ok", async { 2 }).await, Some(2));
        let panicked: Option<u8> = caught("boom", async { panic!("index out of bounds") }).await;
        assert_eq!(panicked, None);
    }
}
