//! A Google Play source's `[[sources]]` keys: the app's package and the service account's key
//! file (a path relative to the config file), read and checked when the config is.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{GooglePlay, DEFAULT_API_URL};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::sources::google::ServiceAccount;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// Every 30 minutes: a poll reads the week's reviews a page (100) at a time, one to a few
/// requests, so two polls an hour stay far inside the ~200 review reads an hour Play allows an
/// app; a review waits at most half an hour.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30 * 60);

/// How Google Play takes answers.
/// A review holds one reply by the developer, replaced by the next; `reviews.reply`:
/// "replies longer than ~350 characters will be rejected", so 350 exactly, which Play takes.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 350 },
    replaces: true,
    colour: 0x01875F,
    ..NetworkTraits::new("google-play", "Google Play")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &["package", "service_account", "api_url", "token_url"],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `com.acme.app`.
    pub package: String,
    pub account: ServiceAccount,
    /// Where the key file was read from, for `earshot check`.
    pub key_file: PathBuf,
    pub api_url: String,
    /// Overrides the file's `token_uri` (a proxy, a test).
    pub token_url: Option<String>,
}

/// A Java package name as Play Console shows it: dot-separated, letters first.
fn package_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let package = keys.required(
        "package",
        "the app's package name as Play Console shows it under the app's name, e.g. \"com.acme.app\"",
    )?;
    let package = package.trim().to_string();
    if !package_name(&package) {
        return Err(keys.error(
            "package",
            format!("`{package}` is not an Android package name; expected something like \"com.acme.app\""),
        ));
    }
    let file = keys.required(
        "service_account",
        "the path of the service account's JSON key, relative to this config file",
    )?;
    let key_file = keys.base().join(file.trim());
    let text = std::fs::read_to_string(&key_file).map_err(|error| {
        keys.error(
            "service_account",
            format!(
                "cannot read the service account's key file {}: {error}",
                key_file.display()
            ),
        )
    })?;
    let account = ServiceAccount::from_json(&text).map_err(|problem| {
        keys.error(
            "service_account",
            format!("{} {problem}", key_file.display()),
        )
    })?;
    let token_url = if keys.has("token_url") {
        Some(keys.base_url("token_url", "")?)
    } else {
        None
    };
    Ok(Box::new(Settings {
        package,
        account,
        key_file,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
        token_url,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!(
            "reviews of {} as {} (key {})",
            self.package,
            self.account.client_email,
            self.key_file.display()
        )
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(GooglePlay::new(
            context.name,
            self.clone(),
            context.every,
            context.http,
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
