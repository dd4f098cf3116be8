//! A Mastodon source's `[[sources]]` keys.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::{Mastodon, Watch};
use crate::config::keys::{web_url, KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// Mastodon allows 300 requests per 5 minutes per account; a poll costs one request per watched
/// stream (two when something new came), so 30 s spends under a tenth of the budget.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30);

/// How Mastodon takes answers.
/// 500 is Mastodon's default (an instance may raise it; the source checks the real
/// limit). A reply only reaches its author when it names them, so an answer opens with their
/// handle; an account on another instance is also known by its full name.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 500 },
    names_author: true,
    aliases: super::accounts::aliases,
    colour: 0x6364FF,
    ..NetworkTraits::new("mastodon", "Mastodon")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &["watch", "instance", "token", "stream", "account_domain"],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub instance: url::Url,
    pub token: Secret,
    pub watch: Vec<Watch>,
    /// Follow the streaming API beside the polls.
    pub stream: bool,
    /// The domain in the instance's account names (`@name@acme.example`) when it differs from
    /// the host earshot talks to (`social.acme.example`); the instance's host otherwise.
    pub account_domain: Option<String>,
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let instance = keys.required("instance", "the instance's URL")?;
    let instance = web_url(&instance).map_err(|message| keys.error("instance", message))?;
    let watch = keys.watch(&["mentions"], Watch::parse)?;
    Ok(Box::new(Settings {
        instance,
        token: keys.secret(
            "token",
            "an access token with read:notifications, read:statuses, read:search and write:statuses",
        )?,
        watch,
        stream: keys.bool("stream")?.unwrap_or(false),
        account_domain: account_domain(keys)?,
    }))
}

fn account_domain(keys: &Keys<'_>) -> Result<Option<String>, KeyError> {
    let Some(domain) = keys.string("account_domain")? else {
        return Ok(None);
    };
    let domain = domain.trim().trim_start_matches('@').to_lowercase();
    let valid = !domain.is_empty()
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if valid {
        Ok(Some(domain))
    } else {
        Err(keys.error(
            "account_domain",
            format!("`{domain}` is not a domain; expected the part after the second @ in your accounts' names, such as \"acme.example\""),
        ))
    }
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("{} watching {:?}", self.instance, self.watch)
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(
            Mastodon::new(
                context.name,
                self.instance.clone(),
                self.token.expose().to_string(),
                self.watch.clone(),
                context.every,
                context.http,
            )
            .with_stream(self.stream),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn home(&self) -> Option<String> {
        self.account_domain
            .clone()
            .or_else(|| self.instance.host_str().map(str::to_lowercase))
    }
}
