//! The platform-neutral heart of earshot: what a mention is, how it moves through its life, and
//! the command language. Pure code: no I/O, no clocks (time is passed in), no chat or network types.

pub mod business_hours;
pub mod command;
pub mod complaint;
pub mod cursor;
pub mod health;
pub mod length;
pub mod lifecycle;
pub mod mention;
pub mod network;
pub mod priority;
pub mod replies;
pub mod retention;
pub mod review;
pub mod routing;
pub mod schedule;
pub mod sla;
pub mod stats;
pub mod storm;
pub mod text;

pub use command::{Command, ListFilter, MemberRef, SnoozeUntil};
pub use cursor::Cursor;
pub use lifecycle::{Action, Actor, HistoryEntry, Member, Refusal, State, Status, Step};
pub use mention::{Author, Mention, MentionKey, Tracked};
pub use network::{CopyLimit, Network, NetworkTraits, ReplyPath};
pub use priority::{Lexicon, Priority};
pub use retention::{Reread, TextCopy};
pub use review::{BusinessReply, Rating, Review};
