//! The one recording chat for tests that drive the outbox and the follow-up producers without
//! a real adapter: it logs one line per thing it was asked to show and fails on demand. It says
//! in which channel a thing went when a route sent it elsewhere, and
//! [`FakeChat::rendering`] logs whole cards as the terminal renders them.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use earshot::chat::{Chat, ChatError};
use earshot::domain::{Member, Tracked};

/// Named `fake` (a store for it is opened with that chat name). Each line of its log says
/// what was asked: `post #3`, `update msg-3 #3: <note> [<state>]`, `notice: <text>`,
/// `summary: <text>`, `edit <message>: <text>`, `nudge #3 in <message> [<pings>]`,
/// `remind <member> #3`, `upload <file>: <caption's first line>`. What a route sent to another
/// channel says so: `post #3 in C0`, `notice in C0: <text>`, `summary in C0: <text>` (its
/// message is `C0/summary`).
#[derive(Default)]
pub struct FakeChat {
    log: Mutex<Vec<String>>,
    /// Cards posted and updated are logged whole, as the terminal renders them: the post is
    /// the card, an update `update #3: <note>` and the card below it.
    rendering: bool,
    /// Uploaded files, with their bytes.
    pub uploads: Mutex<Vec<(String, Vec<u8>)>>,
    /// How the next posts and updates fail, in order.
    failures: Mutex<VecDeque<ChatError>>,
}

impl FakeChat {
    /// A chat that logs whole cards (see [`FakeChat::rendering`]'s field).
    pub fn rendering() -> FakeChat {
        FakeChat {
            rendering: true,
            ..FakeChat::default()
        }
    }

    pub fn fail_next(&self, error: ChatError) {
        self.failures.lock().unwrap().push_back(error);
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The log so far, emptied for what comes next.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn push(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn next_failure(&self) -> Option<ChatError> {
        self.failures.lock().unwrap().pop_front()
    }
}

#[async_trait]
impl Chat for FakeChat {
    fn name(&self) -> &str {
        "fake"
    }

    async fn post(&self, mention: &Tracked, now: DateTime<Utc>) -> Result<String, ChatError> {
        if let Some(error) = self.next_failure() {
            return Err(error);
        }
        if self.rendering {
            self.push(earshot::chat::shell::card(mention, now));
        } else if let Some(channel) = mention.place.channel("fake") {
            self.push(format!("post #{} in {channel}", mention.number));
        } else {
            self.push(format!("post #{}", mention.number));
        }
        Ok(format!("msg-{}", mention.number))
    }

    async fn update(
        &self,
        message: &str,
        mention: &Tracked,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        if let Some(error) = self.next_failure() {
            return Err(error);
        }
        if self.rendering {
            let card = earshot::chat::shell::card(mention, now);
            self.push(format!("update #{}: {note}\n{card}", mention.number));
            return Ok(());
        }
        self.push(format!(
            "update {message} #{}: {note} [{}]",
            mention.number,
            mention.state.describe()
        ));
        Ok(())
    }

    async fn post_notice(&self, text: &str, _now: DateTime<Utc>) -> Result<(), ChatError> {
        self.push(format!("notice: {text}"));
        Ok(())
    }

    async fn post_notice_in(
        &self,
        channel: Option<&str>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        match channel {
            Some(channel) => self.push(format!("notice in {channel}: {text}")),
            None => return self.post_notice(text, now).await,
        }
        Ok(())
    }

    async fn post_summary(&self, text: &str, _now: DateTime<Utc>) -> Result<String, ChatError> {
        self.push(format!("summary: {text}"));
        Ok("summary-msg".into())
    }

    async fn post_summary_in(
        &self,
        channel: Option<&str>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<String, ChatError> {
        match channel {
            Some(channel) => {
                self.push(format!("summary in {channel}: {text}"));
                Ok(format!("{channel}/summary"))
            }
            None => self.post_summary(text, now).await,
        }
    }

    async fn update_summary(
        &self,
        message: &str,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.push(format!("edit {message}: {text}"));
        Ok(())
    }

    async fn nudge(
        &self,
        message: Option<&str>,
        mention: &Tracked,
        _text: &str,
        ping: &[String],
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let message = message.unwrap_or("(no card)");
        self.push(format!("nudge #{} in {message} {ping:?}", mention.number));
        Ok(())
    }

    async fn notify_member(
        &self,
        member: &Member,
        _message: Option<&str>,
        mention: &Tracked,
        _text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.push(format!("remind {member} #{}", mention.number));
        Ok(())
    }

    async fn upload(
        &self,
        file_name: &str,
        bytes: &[u8],
        caption: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.push(format!(
            "upload {file_name}: {}",
            caption.lines().next().unwrap_or_default()
        ));
        self.uploads
            .lock()
            .unwrap()
            .push((file_name.to_string(), bytes.to_vec()));
        Ok(())
    }
}
