//! An X source's `[[sources]]` keys and the settings they make: the tokens, the brand's id,
//! and what to watch.

use std::any::Any;
use std::sync::Arc;

use super::{DEFAULT_API_URL, DEFAULT_EVERY, DEFAULT_TOKEN_URL, X};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// How X takes answers.
/// X refuses more than 280 weighted characters (links count 23, CJK and emoji 2).
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 280 },
    count: super::length::x_weighted_length,
    colour: 0x14171A,
    ..NetworkTraits::new("x", "X")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &["twitter"],
    keys: &[
        "watch",
        "api_url",
        "bearer_token",
        "user_token",
        "refresh_token",
        "client_id",
        "client_secret",
        "token_url",
        "user_id",
    ],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The app's bearer token: reads public posts.
    pub bearer_token: Secret,
    /// An OAuth 2.0 user-context access token of the brand account (`tweet.write`): posts
    /// answers. Without it (and without `refresh`) the source only reads.
    pub user_token: Option<Secret>,
    /// How to renew the user token; without it, the token is used until X refuses it.
    pub refresh: Option<Refresh>,
    /// The brand account's numeric id.
    pub user_id: String,
    pub watch: Vec<Watch>,
    pub api_url: String,
}

/// An OAuth 2.0 refresh token (`offline.access`) and the app it was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// The app's OAuth 2.0 client id.
    pub client_id: String,
    /// Only for confidential clients ("Web App, Automated App or Bot"), which authenticate
    /// with it; public clients ("Native App") have none.
    pub client_secret: Option<Secret>,
    /// The refresh token from the config: only the seed. X replaces it on every refresh, and
    /// earshot keeps the newest in the store.
    pub token: Secret,
    pub token_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Posts that mention the brand account, replies to it included.
    Mentions,
    /// Recent search (the last 7 days), retweets left out.
    Search(String),
}

impl Watch {
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "mentions" {
            return Ok(Watch::Mentions);
        }
        match text.strip_prefix("search:").map(str::trim) {
            Some(query) if !query.is_empty() && query.len() <= 500 => {
                Ok(Watch::Search(query.to_string()))
            }
            Some(query) if query.len() > 500 => Err(format!(
                "the X search `{query}` is too long: X takes queries up to 512 characters, earshot adds ` -is:retweet`"
            )),
            _ => Err(format!(
                "`{text}` is not an X watch; use \"mentions\" or \"search:<query>\""
            )),
        }
    }

    pub(super) fn key(&self) -> String {
        match self {
            Watch::Mentions => "mentions".into(),
            Watch::Search(query) => format!("search:{query}"),
        }
    }
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let watch = keys.watch(&["mentions"], Watch::parse)?;
    let refresh = if keys.has("refresh_token") {
        Some(Refresh {
            client_id: keys.required(
                "client_id",
                "the app's OAuth 2.0 client id, to renew the user token with `refresh_token`",
            )?,
            client_secret: keys.optional_secret("client_secret")?,
            token: keys.secret(
                "refresh_token",
                "an OAuth 2.0 refresh token (scope offline.access)",
            )?,
            token_url: keys.base_url("token_url", DEFAULT_TOKEN_URL)?,
        })
    } else {
        if let Some(field) = ["client_id", "client_secret", "token_url"]
            .into_iter()
            .find(|field| keys.has(field))
        {
            return Err(keys.error(
                field,
                format!("`{field}` is only used to renew the user token; set `refresh_token` too"),
            ));
        }
        None
    };
    Ok(Box::new(Settings {
        bearer_token: keys.secret("bearer_token", "the app's bearer token, for reading")?,
        user_token: keys.string("user_token")?.map(Into::into),
        refresh,
        user_id: keys.required("user_id", "the brand account's numeric id")?,
        watch,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("user {}, {} watch(es)", self.user_id, self.watch.len())
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(
            X::new(context.name, self.clone(), context.every, context.http)
                // X voids a refresh token once used; the new one must outlive the process.
                .with_credentials(context.credentials),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_parse() {
        assert_eq!(Watch::parse("mentions"), Ok(Watch::Mentions));
        assert_eq!(
            Watch::parse("search:\"acme coffee\" lang:en"),
            Ok(Watch::Search("\"acme coffee\" lang:en".into()))
        );
        assert!(Watch::parse("search:").is_err());
        assert!(Watch::parse(&format!("search:{}", "a".repeat(501))).is_err());
        assert!(Watch::parse("#acme").is_err());
    }
}
