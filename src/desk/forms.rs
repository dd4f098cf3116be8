//! What chats with forms and autocomplete ask the desk for, so that no adapter reads the store:
//! the answer form's contents and the mentions to suggest as someone types a number.

use super::{Caller, Desk, Reply};
use crate::domain::{Refusal, ReplyPath, Tracked};

/// How many of the newest owed mentions suggestions are picked from: a chat shows a couple of
/// dozen, and reading every owed mention on each keystroke would not scale.
const SUGGEST_FROM: usize = 200;

/// What an answer form for one mention holds.
#[derive(Debug, Clone)]
pub struct AnswerForm {
    pub tracked: Tracked,
    /// The most the network takes, as it counts (see `Network::length_unit`).
    pub max_chars: usize,
    /// What the text box starts with: the saved reply asked for, filled in, or the network's
    /// draft (the author's handle where a reply must name them).
    pub draft: String,
    /// The team's saved replies, each filled in for this mention, by name; one that cannot
    /// be filled in for it is left out.
    pub replies: Vec<(String, String)>,
}

impl Desk {
    /// The answer form for #`number`, starting from saved reply `saved` if named; or what to
    /// tell `caller` instead: that they may not answer, that there is no such mention, that
    /// its network takes no answers from earshot.
    pub fn answer_form(
        &self,
        caller: &Caller,
        number: u64,
        saved: Option<&str>,
    ) -> Result<AnswerForm, Reply> {
        self.may_answer(caller, number)?;
        let tracked = self.mention(number)?;
        let mention = &tracked.mention;
        let max_chars = match mention.network.reply_path() {
            ReplyPath::Direct { max_chars } => max_chars,
            ReplyPath::Manual => {
                let refusal = Refusal::NoReplyApi {
                    number,
                    network: mention.network,
                    link: mention.link.clone(),
                };
                return Err(Reply::refused(refusal.to_string()));
            }
        };
        let draft = match saved {
            Some(name) => self.saved_reply(name, number)?,
            None => mention.answer_draft(),
        };
        let replies = self
            .replies
            .replies
            .keys()
            .filter_map(|name| Some((name.clone(), self.saved_reply(name, number).ok()?)))
            .collect();
        Ok(AnswerForm {
            tracked,
            max_chars,
            draft,
            replies,
        })
    }

    /// The owed mentions to suggest for what was typed: the newest ones, whoever asks, and the
    /// one whose number was typed however old it is. A bounded read on every keystroke; a
    /// storage failure is logged and suggests nothing.
    pub fn suggestions(&self, typed: &str) -> Vec<Tracked> {
        let store = &self.store;
        let candidates = store.newest_owed(SUGGEST_FROM).map(|mut owed| {
            let typed_number = typed.trim().trim_start_matches('#').parse::<u64>().ok();
            if let Some(number) = typed_number.filter(|n| !owed.iter().any(|t| t.number == *n)) {
                if let Ok(tracked) = store.mention(number) {
                    if tracked.state.status().is_owed() {
                        owed.push(tracked);
                    }
                }
            }
            owed
        });
        candidates.unwrap_or_else(|error| {
            tracing::error!(%error, "cannot list open mentions for suggestions");
            Vec::new()
        })
    }
}
