//! What the Google networks share: the OAuth token endpoint (a refresh token for Business
//! Profile and YouTube, a service account's signed JWT for Google Play), Google's error bodies,
//! and the newest-first walk both review listings take.
//!
//! `token.rs` caches an access token and exchanges a grant for a fresh one, `oauth.rs` holds the
//! refresh-token grant, `service_account.rs` the key file and its RS256 assertion, `error.rs`
//! reads `{"error": {...}}` into a failure, `window.rs` decides which reviews a poll relays.

pub mod error;
pub mod oauth;
pub mod service_account;
mod token;
pub mod window;

pub use oauth::{OAuth, RefreshGrant, Renewal};
pub use service_account::{ServiceAccount, ServiceAccountGrant};
pub use token::TokenCache;

/// Google's OAuth 2.0 token endpoint (a service-account file names its own `token_uri`).
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
