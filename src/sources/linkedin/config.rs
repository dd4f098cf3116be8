//! A LinkedIn source's `[[sources]]` keys: the organization, its token (and when it expires)
//! or a refresh token to renew it with, the `LinkedIn-Version` to send, and what to watch.

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::{LinkedIn, DEFAULT_API_URL, DEFAULT_EVERY, DEFAULT_TOKEN_URL, DEFAULT_VERSION};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{CopyLimit, NetworkTraits, ReplyPath};
use crate::net::oauth::OAuth;
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// How LinkedIn takes answers, and how long its copies may be kept.
/// LinkedIn's comment text limit is 1,250 characters. Its Data Storage Requirements allow
/// keeping members' social activity (their posts and comments) for 48 hours and other
/// members' profile data for 24; earshot keeps no names (a comment's author is its member
/// URN), so the 48 hours bound the text.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 1_250 },
    colour: 0x0A66C2,
    copies_expire: Some(CopyLimit {
        after: std::time::Duration::from_secs(48 * 3600),
        terms: "LinkedIn's API Data Storage Requirements",
        link: "https://learn.microsoft.com/en-us/linkedin/marketing/data-storage-requirements",
    }),
    ..NetworkTraits::new("linkedin", "LinkedIn")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &[
        "organization",
        "token",
        "token_expires",
        "refresh_token",
        "client_id",
        "client_secret",
        "token_url",
        "watch",
        "api_url",
        "version",
    ],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `urn:li:organization:<id>`: whose mentions and comments are read, and who answers.
    pub organization: String,
    /// A Page admin's access token; optional with `refresh`, which gets one.
    pub token: Option<Secret>,
    /// When the access token expires (LinkedIn shows it when the token is made; ~60 days).
    pub token_expires: Option<DateTime<Utc>>,
    /// A programmatic refresh token and the app it was issued to: earshot renews the access
    /// token itself, before it expires and when LinkedIn refuses it.
    pub refresh: Option<OAuth>,
    pub watch: Vec<Watch>,
    pub api_url: String,
    /// The `LinkedIn-Version` header, `YYYYMM`.
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// The organization's social-action notifications: mentions in posts and comments.
    Mentions,
    /// Comments (and their replies) on the organization's recent posts.
    Comments,
}

impl Watch {
    pub fn parse(text: &str) -> Result<Watch, String> {
        match text.trim() {
            "mentions" => Ok(Watch::Mentions),
            "comments" => Ok(Watch::Comments),
            other => Err(format!(
                "`{other}` is not a LinkedIn watch; use \"mentions\" and/or \"comments\""
            )),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Watch::Mentions => "mentions",
            Watch::Comments => "comments",
        }
    }
}

/// A string key, trimmed; blank counts as absent.
fn value(keys: &Keys<'_>, key: &str) -> Result<Option<String>, KeyError> {
    Ok(keys
        .string(key)?
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty()))
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let organization = keys
        .required(
            "organization",
            "the Page's URN, \"urn:li:organization:<id>\" (the number in the Page admin URL)",
        )?
        .trim()
        .to_string();
    let valid = organization
        .strip_prefix("urn:li:organization:")
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()));
    if !valid {
        return Err(keys.error(
            "organization",
            format!("`{organization}` is not an organization URN; write it as \"urn:li:organization:1234567\""),
        ));
    }
    let refresh = keys.refresh_grant(DEFAULT_TOKEN_URL, "to renew the access token")?;
    let token = value(keys, "token")?.map(Secret::new);
    if token.is_none() && refresh.is_none() {
        keys.required(
            "token",
            "an access token of a Page admin from the Community Management API app (or `refresh_token`, `client_id` and `client_secret`, when the app has refresh tokens)",
        )?;
    }
    let token_expires = match value(keys, "token_expires")? {
        Some(date) => Some(
            NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .ok()
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map(|at| at.and_utc())
                .ok_or_else(|| {
                    keys.error(
                        "token_expires",
                        format!("`{date}` is not a date; write it as \"2027-01-31\""),
                    )
                })?,
        ),
        None => None,
    };
    let version = value(keys, "version")?.unwrap_or_else(|| DEFAULT_VERSION.to_string());
    if !(version.len() == 6 || version.len() == 9)
        || !version.chars().take(6).all(|c| c.is_ascii_digit())
    {
        return Err(keys.error(
            "version",
            format!("`{version}` is not a LinkedIn API version; write it as \"YYYYMM\", such as \"{DEFAULT_VERSION}\""),
        ));
    }
    let mut watch = Vec::new();
    for parsed in keys.watch(&["mentions", "comments"], Watch::parse)? {
        if watch.contains(&parsed) {
            return Err(keys.error("watch", format!("`{}` is listed twice", parsed.key())));
        }
        watch.push(parsed);
    }
    if watch.is_empty() {
        return Err(keys.error(
            "watch",
            "`watch` is empty; use [\"mentions\", \"comments\"]",
        ));
    }
    let api_url = keys.base_url("api_url", DEFAULT_API_URL)?;
    Ok(Box::new(Settings {
        organization,
        token,
        token_expires,
        refresh,
        watch,
        api_url,
        version,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        let watches: Vec<&str> = self.watch.iter().map(|w| w.key()).collect();
        format!(
            "{} ({}), LinkedIn-Version {}{}",
            self.organization,
            watches.join(", "),
            self.version,
            if self.refresh.is_some() {
                "; renews its token"
            } else {
                ""
            }
        )
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(
            LinkedIn::new(context.name, self.clone(), context.every, context.http)
                // The renewed token outlives the process: a restart does not renew again.
                .with_credentials(context.credentials),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
