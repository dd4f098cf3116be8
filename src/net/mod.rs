//! The network toolkit every source and both chats' REST clients share, so that a network's
//! folder holds only what is its own (its endpoints, its wire types, its quirks):
//!
//! - [`Secret`]: a token or password that never reaches a log;
//! - [`wait`]: how long a server asked us to wait (`Retry-After` in both forms, reset headers),
//!   always clamped to [`wait::LONGEST_WAIT`], with time arithmetic that cannot overflow;
//! - [`status`]: one classification of HTTP statuses: retry later, needs a person, token expired;
//! - [`Failure`]: what a request's failure means, which sources and chats turn into their own
//!   error (see [`failure`] for how `SourceError`, `ChatError` and the outbox relate);
//! - [`Budget`]: the rate-limit window a network's headers announce, on an injected [`Clock`];
//! - [`Transport`]: one client per network: budget, auth with one renewal on refusal, status,
//!   body snippets in errors, JSON decoding that names what it could not read;
//! - [`CursorSet`]: per-watch positions in one cursor, with one failure policy;
//! - [`oauth`]: a token endpoint's exchange (refresh tokens and other grants) and the
//!   [`oauth::TokenCache`] that holds an access token until shortly before it expires;
//! - [`Pager`]: one paging loop (cursor tokens, Graph-API `paging.next`, page numbers);
//! - [`PostOnce`]: "post only once" for networks without an idempotency key.
//!
//! Nothing here knows a network, the store or the chat: it depends on `reqwest`, `chrono` and
//! `domain::Cursor` only.

pub mod budget;
pub mod cursor_set;
pub mod failure;
pub mod oauth;
pub mod pager;
pub mod post_once;
pub mod secret;
pub mod status;
pub mod transport;
pub mod wait;

pub use budget::{wall_clock, Budget, Clock, Limits, RateHeaders, Reset};
pub use cursor_set::CursorSet;
pub use failure::{error_chain, Failure};
pub use pager::{Paged, Pager, Turn};
pub use post_once::PostOnce;
pub use secret::Secret;
pub use status::{classify, Class};
pub use transport::{read_json, Auth, Purpose, Transport};

/// "https://api.example/v1/" and "https://api.example/v1" both mean the same base.
pub fn base_url(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}
