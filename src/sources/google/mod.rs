//! What the Google networks share: the OAuth token endpoint (a refresh token for Business
//! Profile and YouTube, a service account's signed JWT for Google Play), Google's error bodies,
//! and the newest-first walk both review listings take.
//!
//! The token cache and the exchange at the endpoint are the toolkit's (`net::oauth`); here
//! `oauth.rs` words Google's refusals of a refresh token (the "Testing" trap),
//! `service_account.rs` holds the key file and its RS256 assertion, `error.rs` reads
//! `{"error": {...}}` into a failure, `window.rs` decides which reviews a poll relays.

pub mod error;
pub mod oauth;
pub mod service_account;
pub mod window;

pub use oauth::{RefreshExpiry, RefreshGrant, Renewal};
pub use service_account::{ServiceAccount, ServiceAccountGrant};

/// Google's OAuth 2.0 token endpoint (a service-account file names its own `token_uri`).
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// Names Google's token endpoint in errors.
const TOKEN_ENDPOINT: &str = "Google's token endpoint";
/// Google's access tokens last an hour when the answer does not say.
const DEFAULT_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// Google's token endpoint at `url`.
fn token_endpoint(url: &str) -> crate::net::oauth::TokenEndpoint<'_> {
    crate::net::oauth::TokenEndpoint {
        what: TOKEN_ENDPOINT,
        url,
        default_lifetime: DEFAULT_LIFETIME,
    }
}
