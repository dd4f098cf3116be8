//! The `[[sources]]` keys a Graph source has, read once for Facebook and Instagram: the
//! Page's or account's id, the token, the optional app secret, the watches and `graph_url`.

use crate::config::keys::{KeyError, Keys};
use crate::net::Secret;

use super::DEFAULT_GRAPH_URL;

/// What one network calls its keys and how it reads its watches.
pub struct Described<W> {
    /// `page_id`, `user_id`.
    pub id_key: &'static str,
    /// Where to find the id, for the error.
    pub id_help: &'static str,
    /// What the token must be, for the error.
    pub token_help: &'static str,
    /// The watches when `watch` is left out.
    pub watches: &'static [&'static str],
    pub parse_watch: fn(&str) -> Result<W, String>,
    /// The error for `watch = []`.
    pub empty_watch: &'static str,
}

/// The keys, checked.
pub struct GraphKeys<W> {
    pub id: String,
    pub token: Secret,
    pub app_secret: Option<Secret>,
    pub watch: Vec<W>,
    pub graph_url: String,
}

pub fn read<W>(keys: &Keys<'_>, described: &Described<W>) -> Result<GraphKeys<W>, KeyError> {
    let id = graph_id(keys, described.id_key, described.id_help)?;
    let watch = keys.watch(described.watches, described.parse_watch)?;
    if watch.is_empty() {
        return Err(keys.error("watch", described.empty_watch));
    }
    Ok(GraphKeys {
        id,
        token: trimmed(keys.secret("token", described.token_help)?),
        app_secret: keys.optional_secret("app_secret")?.map(trimmed),
        watch,
        graph_url: keys.base_url("graph_url", DEFAULT_GRAPH_URL)?,
    })
}

/// A Graph id: digits (Meta's ids are numbers written as strings); `what` says where to find it.
fn graph_id(keys: &Keys<'_>, key: &str, what: &str) -> Result<String, KeyError> {
    let value = keys.required(key, what)?.trim().to_string();
    if !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(keys.error(
            key,
            format!("`{value}` is not a Graph id; `{key}` is all digits: {what}"),
        ));
    }
    Ok(value)
}

/// Tokens pasted with a stray space or newline would fail every call.
fn trimmed(secret: Secret) -> Secret {
    Secret::new(secret.expose().trim())
}
