//! The desk executes what people ask: a parsed [`Command`] becomes a read or one state
//! transition in the store, and a reply for the person who asked. Chat adapters call
//! [`Desk::handle`] with the text after the command name, or [`Desk::execute`] for a button,
//! naming the [`Caller`]; the desk applies the domain's rules (who may answer, what the
//! lifecycle allows) alike for every chat.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::config::FollowUp;
use crate::digest::Digester;
use crate::domain::command::{self, help};
use crate::domain::lifecycle::{ago, permit, snooze_until, Answerers, Role};
use crate::domain::replies::{self, SavedReplies};
use crate::domain::{review, stats, SnoozeUntil};
use crate::domain::{Action, Command, ListFilter, Member, MemberRef, Tracked};
use crate::store::{Store, StoreError};

mod forms;

pub use forms::AnswerForm;

/// Lines on one page of `list`: a screenful in every chat, and within Discord's 2,000
/// characters at the line length `list_line` keeps.
const LIST_PAGE: usize = 15;
/// How much of the reply an answer replaces a confirmation quotes.
const REPLACED_QUOTE: usize = 300;

/// What the desk says back to the person, only to them where the chat allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    /// Whether the command did what was asked (chats may style refusals differently).
    pub ok: bool,
}

impl Reply {
    fn ok(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            ok: true,
        }
    }

    fn refused(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            ok: false,
        }
    }
}

#[derive(Clone)]
pub struct Desk {
    store: Store,
    /// The command name people type, such as `/mentions`; used in help and hints.
    prefix: String,
    /// Wakes the outbox worker after a change queued effects.
    outbox: Arc<Notify>,
    /// The team's time zone and hours, for `snooze`, `digest` and `stats`.
    follow_up: Arc<FollowUp>,
    /// What `answer N :name` and `replies` read.
    replies: Arc<SavedReplies>,
    /// Each chat's `answerers`, by chat name; a chat not named lets everyone answer.
    answerers: Arc<HashMap<String, Answerers>>,
}

/// Who asks, as their chat knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub member: Member,
    /// The chat they asked in ("shell", "slack", "discord"): its `answerers` apply.
    pub chat: String,
    /// The ids that chat's `answerers` may name them by: their own, and the groups (Slack
    /// user groups, Discord roles) they are in.
    pub ids: Vec<String>,
}

impl Caller {
    /// `member` asking in `chat`, known there by their member id alone.
    pub fn new(member: Member, chat: impl Into<String>) -> Caller {
        Caller {
            ids: vec![member.id.clone()],
            member,
            chat: chat.into(),
        }
    }

    /// Known in their chat by `ids` instead (a platform user id without the namespace the
    /// member id carries, and their groups).
    pub fn known_as(mut self, ids: impl IntoIterator<Item = String>) -> Caller {
        self.ids = ids.into_iter().collect();
        self
    }
}

/// Where a command was typed: the chat, and the channel (`None`: the chat's own channel).
/// `list` there shows that channel's mentions first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Here {
    pub chat: String,
    pub channel: Option<String>,
}

impl Desk {
    pub fn new(store: Store, prefix: String, outbox: Arc<Notify>) -> Desk {
        Desk {
            store,
            prefix,
            outbox,
            follow_up: Arc::default(),
            replies: Arc::default(),
            answerers: Arc::default(),
        }
    }

    /// Lets only `answerers` post answers from `chat` (its config section's `answerers`).
    pub fn with_answerers(mut self, chat: &str, answerers: Answerers) -> Desk {
        Arc::make_mut(&mut self.answerers).insert(chat.to_string(), answerers);
        self
    }

    /// What `caller` may do, by their chat's `answerers`.
    pub fn role(&self, caller: &Caller) -> Role {
        self.answerers
            .get(&caller.chat)
            .map_or(Role::Answerer, |answerers| answerers.role_of(&caller.ids))
    }

    /// Refuses an answer to #`number` by someone their chat does not let answer; chats ask
    /// before they open an answer form.
    pub fn may_answer(&self, caller: &Caller, number: u64) -> Result<(), Reply> {
        let answer = Action::Answer {
            text: String::new(),
        };
        permit(self.role(caller), &answer, number, &caller.chat)
            .map_err(|refusal| Reply::refused(refusal.to_string()))
    }

    /// Answers `answer N :name` with the team's saved replies.
    pub fn with_replies(mut self, replies: SavedReplies) -> Desk {
        self.replies = Arc::new(replies);
        self
    }

    pub fn replies(&self) -> &SavedReplies {
        &self.replies
    }

    /// Saved reply `name` filled in for mention #`number`, for chats that prefill a form with
    /// it; otherwise what to tell the person.
    pub fn saved_reply(&self, name: &str, number: u64) -> Result<String, Reply> {
        let tracked = self.mention(number)?;
        self.replies
            .expand(name, &tracked)
            .map_err(|error| Reply::refused(error.to_string()))
    }

    /// Uses the team's time zone and hours from the config (UTC and always-open otherwise).
    pub fn with_follow_up(mut self, follow_up: FollowUp) -> Desk {
        self.follow_up = Arc::new(follow_up);
        self
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Parses and executes `text` (what follows the command name). `resolve` turns a member
    /// named in `assign` into a member, the way the chat knows them.
    pub async fn handle(
        &self,
        caller: &Caller,
        text: &str,
        resolve: &(dyn Fn(&MemberRef) -> Member + Sync),
        now: DateTime<Utc>,
    ) -> Reply {
        match command::parse(text, &self.prefix) {
            Ok(command) => self.execute(caller, command, resolve, now).await,
            Err(error) => Reply::refused(error.to_string()),
        }
    }

    pub async fn execute(
        &self,
        caller: &Caller,
        command: Command,
        resolve: &(dyn Fn(&MemberRef) -> Member + Sync),
        now: DateTime<Utc>,
    ) -> Reply {
        self.execute_in(caller, command, resolve, now, None).await
    }

    /// [`Desk::execute`] for a command typed in `here`.
    pub async fn execute_in(
        &self,
        caller: &Caller,
        command: Command,
        resolve: &(dyn Fn(&MemberRef) -> Member + Sync),
        now: DateTime<Utc>,
        here: Option<&Here>,
    ) -> Reply {
        let prefix = &self.prefix;
        let member = &caller.member;
        if let Command::Answer(number, _) = &command {
            if let Err(reply) = self.may_answer(caller, *number) {
                return reply;
            }
        }
        let (number, action) = match command {
            Command::Help => return Reply::ok(help(prefix)),
            Command::List { filter, page } => return self.list(filter, page, member, now, here),
            Command::Replies => return Reply::ok(self.replies.listing(prefix)),
            Command::Health => {
                return match crate::status::health(&self.store, now) {
                    Ok(text) => Reply::ok(text),
                    Err(error) => self.failure(error),
                }
            }
            Command::Show(number) => return self.show(number, now),
            Command::Answer(number, None) => {
                return Reply::refused(format!(
                    "Write the answer after the number: `{prefix} answer {number} <your reply>`."
                ))
            }
            Command::Snooze(number, until) => return self.snooze(member, number, until, now).await,
            Command::Digest => {
                let timezone = self.follow_up.timezone;
                // In a route's channel: that channel's digest; elsewhere the whole team's.
                let text = match here {
                    Some(Here {
                        chat,
                        channel: Some(channel),
                    }) => Digester::text_in(&self.store, timezone, now, chat, Some(channel)),
                    _ => Digester::text(&self.store, timezone, now),
                };
                return match text {
                    Ok(text) => Reply::ok(text),
                    Err(error) => self.failure(error),
                };
            }
            Command::Stats { days } => return self.stats(days, now),
            Command::Claim(number) => (number, Action::Claim),
            Command::Release(number) => (number, Action::Release),
            Command::Assign(number, who) => (number, Action::Assign { to: resolve(&who) }),
            Command::Answer(number, Some(text)) => match replies::reference(&text) {
                // Filled in first: the network's length limit applies to what is sent.
                Some(name) => match self.saved_reply(name, number) {
                    Ok(text) => (number, Action::Answer { text }),
                    Err(reply) => return reply,
                },
                None => (number, Action::Answer { text }),
            },
            Command::Done(number, note) => (number, Action::Done { note }),
            Command::Ignore(number, reason) => (number, Action::Ignore { reason }),
            Command::Reopen(number) => (number, Action::Reopen),
        };
        if let Err(refusal) = permit(self.role(caller), &action, number, &caller.chat) {
            return Reply::refused(refusal.to_string());
        }
        match self.store.apply(number, member, &action, now).await {
            Ok(applied) => {
                self.outbox.notify_one();
                Reply::ok(confirmation(prefix, &applied.tracked, &action))
            }
            Err(error) => self.failure(error),
        }
    }

    /// Mention #`number`, for chats that show it in a form (Slack's answer modal); otherwise
    /// what to tell the person.
    pub fn mention(&self, number: u64) -> Result<Tracked, Reply> {
        self.store
            .mention(number)
            .map_err(|error| self.failure(error))
    }

    fn list(
        &self,
        filter: ListFilter,
        page: u32,
        member: &Member,
        now: DateTime<Utc>,
        here: Option<&Here>,
    ) -> Reply {
        let here = here.map(|here| (here.chat.as_str(), here.channel.as_deref()));
        let listed = match self
            .store
            .list_page_in(filter, member, page, LIST_PAGE, here)
        {
            Ok(listed) => listed,
            Err(error) => return self.failure(error),
        };
        if listed.total == 0 {
            return Reply::ok(match filter {
                ListFilter::Open => "Nothing owed: every mention is handled.".to_string(),
                ListFilter::Mine => "You hold no mentions.".to_string(),
                ListFilter::Claimed => "No mention is claimed right now.".to_string(),
                ListFilter::All => "No mentions yet.".to_string(),
            });
        }
        let pages = listed.total.div_ceil(LIST_PAGE);
        if listed.shown.is_empty() {
            return Reply::refused(format!(
                "`list {filter}` has {pages} page(s); there is no page {page}."
            ));
        }
        let mut text = format!("{} mention(s), {filter}", listed.total);
        if pages > 1 {
            text.push_str(&format!(" (page {page} of {pages})"));
        }
        text.push(':');
        for tracked in &listed.shown {
            text.push('\n');
            text.push_str(&list_line(tracked, now));
        }
        if (page as usize) < pages {
            text.push_str(&format!(
                "\nMore: `{} list {filter} {}`",
                self.prefix,
                page + 1
            ));
        }
        Reply::ok(text)
    }

    fn show(&self, number: u64, now: DateTime<Utc>) -> Reply {
        let (tracked, history) = match self
            .store
            .mention(number)
            .and_then(|tracked| Ok((tracked, self.store.history(number)?)))
        {
            Ok(found) => found,
            Err(error) => return self.failure(error),
        };
        let mention = &tracked.mention;
        let body = match &mention.review {
            Some(found) => review::body(found, &mention.text),
            None => mention.text.clone(),
        };
        let mut text = format!(
            "#{} · {} · {} · {}\n{}\n{}",
            tracked.number,
            mention.network,
            mention.author.display(),
            tracked.state.describe(),
            ago(mention.created_at, now),
            body
        );
        if let Some(found) = &mention.review {
            text.push_str(&format!("\n{}", found.headline()));
            if let Some(reply) = &found.reply {
                text.push_str(&format!(
                    "\nReply on {} now: {}",
                    mention.network, reply.text
                ));
            }
        }
        if let Some(link) = &mention.link {
            text.push_str(&format!("\n{link}"));
        }
        if let Some(flag) = tracked.priority.flag() {
            text.push_str(&format!("\n⚠ {flag}"));
        }
        text.push_str("\nHistory:");
        for entry in history {
            text.push_str(&format!(
                "\n  {} {}",
                entry.at.format("%Y-%m-%d %H:%M UTC"),
                entry.summary()
            ));
        }
        Reply::ok(text)
    }

    async fn snooze(
        &self,
        member: &Member,
        number: u64,
        until: SnoozeUntil,
        now: DateTime<Utc>,
    ) -> Reply {
        let follow_up = &self.follow_up;
        let until = match snooze_until(&until, &follow_up.timezone, &follow_up.hours, now) {
            Ok(until) => until,
            Err(refusal) => return Reply::refused(refusal.to_string()),
        };
        match self.store.snooze(number, member, until, now).await {
            Ok(_) => {
                self.outbox.notify_one();
                Reply::ok(format!(
                    "#{number} is snoozed: no reminders until {}.",
                    until
                        .with_timezone(&follow_up.timezone)
                        .format("%a %Y-%m-%d %H:%M %Z")
                ))
            }
            Err(error) => self.failure(error),
        }
    }

    fn stats(&self, days: u32, now: DateTime<Utc>) -> Reply {
        let mut figures = stats::Stats::new(now - chrono::Duration::days(i64::from(days)), now);
        let counted = self
            .store
            .visit_received_since(figures.from, |tracked, history| {
                figures.add(&tracked, &history)
            });
        match counted {
            Ok(()) => Reply::ok(figures.text(&format!("Last {days} days"))),
            Err(error) => self.failure(error),
        }
    }

    fn failure(&self, error: StoreError) -> Reply {
        match error {
            StoreError::Refused(refusal) => Reply::refused(refusal.to_string()),
            StoreError::NoSuchMention(number) => Reply::refused(format!(
                "There is no mention #{number}. `{} list` shows the open ones.",
                self.prefix
            )),
            error => {
                tracing::error!(error = %error, "command failed in the store");
                Reply::refused(
                    "Sorry, earshot could not save that: its storage failed. Nothing changed; try again in a moment.",
                )
            }
        }
    }
}

/// One line per mention in `list`: "#12 · open · Mastodon · @jane · 2 h ago · first words…".
pub fn list_line(tracked: &Tracked, now: DateTime<Utc>) -> String {
    let mention = &tracked.mention;
    let flag = if tracked.priority.complaint {
        "⚠ "
    } else {
        ""
    };
    format!(
        "{flag}#{} · {} · {} · {} · {} · {}",
        tracked.number,
        tracked.state.describe(),
        mention.network,
        mention.author.display(),
        ago(mention.created_at, now),
        review::excerpt(mention, 60)
    )
}

fn confirmation(prefix: &str, tracked: &Tracked, action: &Action) -> String {
    let said = said(prefix, tracked, action);
    // On review networks an answer replaces the reply there: whoever is about to answer sees it.
    let about_to_answer = matches!(
        action,
        Action::Claim | Action::Assign { .. } | Action::Reopen
    );
    match review::replaced(&tracked.mention, REPLACED_QUOTE) {
        Some(replaced) if about_to_answer && tracked.state.status().is_owed() => {
            format!("{said}\n{replaced}")
        }
        _ => said,
    }
}

fn said(prefix: &str, tracked: &Tracked, action: &Action) -> String {
    let number = tracked.number;
    match action {
        Action::Claim => format!(
            "#{number} is yours. Answer with `{prefix} answer {number} <text>`, or `{prefix} release {number}` to hand it back."
        ),
        Action::Release => format!("#{number} is open again for the team."),
        Action::Assign { to } => format!("#{number} is now with {to}."),
        Action::Answer { .. } => match review::replaced(&tracked.mention, REPLACED_QUOTE) {
            Some(replaced) => format!(
                "Your answer to #{number} is queued for {}. {replaced}",
                tracked.mention.network
            ),
            None => format!(
                "Your answer to #{number} is queued for {}; the card shows the link once it is posted.",
                tracked.mention.network
            ),
        },
        Action::Done { .. } => format!("#{number} is done."),
        Action::Ignore { .. } => format!("#{number} is ignored."),
        Action::Reopen => format!("#{number} is open again."),
        Action::AnswerDelivered { .. }
        | Action::AnswerFailed { .. }
        | Action::AnsweredElsewhere { .. }
        | Action::ReleaseStale
        | Action::Snooze { .. } => {
            format!("#{number}: {}", tracked.state.describe())
        }
    }
}
