//! earshot: every public mention of a brand reaches the team's chat, someone claims it, someone
//! answers it, and nothing goes unanswered.
//!
//! Data flows one way, in reading order:
//! - [`sources`] fetch new posts from networks and feeds since their cursor;
//! - [`rules`] keep the ones that mention the brand;
//! - [`store`] numbers them, de-duplicates them and queues their cards in the outbox;
//! - [`outbox`] delivers cards, card updates and answers, with retries;
//! - [`chat`] adapters show cards and turn what people type or click into [`domain::Command`]s;
//! - [`desk`] executes a command: one state transition with its history and outbox effects.
//!
//! Following up, each a periodic producer of outbox effects: [`digest`] (daily, what is owed),
//! [`reminders`] (nudges, owner reminders, stale claims), [`answered`] (answers made outside
//! earshot), [`report`] (stats and the weekly chart) and [`retention`] (copied texts a
//! network's terms limit, read again or dropped hourly). Storm mode (many mentions at once: one
//! summary card instead of a flood) is decided in `domain::storm` and applied at ingest.
//!
//! [`webhooks`] take what networks push (Meta's, for Facebook and Instagram) through the same
//! path as a poll.
//!
//! [`status`] tells the operator what waits in the outbox and why (`earshot status`, the digest).
//!
//! [`domain`] holds the pure model all of them share; [`net`] the network toolkit sources and
//! chats share (transport, rate budget, paging, cursors, post-once); [`config`] and [`app`] wire
//! it together.

pub mod answered;
pub mod app;
pub mod chat;
pub mod config;
pub mod desk;
pub mod digest;
pub mod domain;
pub mod net;
pub mod outbox;
pub mod reminders;
pub mod report;
pub mod retention;
pub mod rules;
pub mod sources;
pub mod status;
pub mod store;
pub mod webhooks;
