//! A Hacker News source's `[[sources]]` keys.

use std::any::Any;
use std::sync::Arc;

use super::{HackerNews, Settings, DEFAULT_API_URL, DEFAULT_EVERY};
use crate::config::keys::{KeyError, Keys};
use crate::domain::NetworkTraits;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// How Hacker News takes answers.
/// Hacker News has no write API: a person answers on the site.
pub static TRAITS: NetworkTraits = NetworkTraits {
    colour: 0xFF6600,
    ..NetworkTraits::new("hackernews", "Hacker News")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &["hn"],
    keys: &["query", "api_url", "account"],
    every: DEFAULT_EVERY,
    parse,
};

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    Ok(Box::new(Settings {
        query: keys.required("query", "the words to search Hacker News for")?,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
        account: match keys.string("account")? {
            Some(account) => {
                Some(hn_account(&account).map_err(|message| keys.error("account", message))?)
            }
            None => None,
        },
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("search {:?}", self.query)
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(HackerNews::new(
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

/// The brand's Hacker News username, as HN spells it (letters, digits, `-` and `_`). It is
/// compared exactly, because HN usernames are case-sensitive.
fn hn_account(text: &str) -> Result<String, String> {
    let account = text.trim();
    let valid = !account.is_empty()
        && account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(account.to_string())
    } else {
        Err(format!(
            "`{text}` is not a Hacker News username; give the brand's account as HN shows it (letters, digits, `-`, `_`), or leave `account` out"
        ))
    }
}
