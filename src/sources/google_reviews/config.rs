//! A Google Business Profile source's `[[sources]]` keys: the account and location whose
//! reviews it reads, and the OAuth grant (scope business.manage) it reads and answers with.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::{GoogleReviews, DEFAULT_API_URL};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::oauth::OAuth;
use crate::sources::google::DEFAULT_TOKEN_URL;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// Every 15 minutes: a poll is one request when nothing changed (a page of 50 reviews), far
/// inside the API's 300 requests a minute, and a one-star review is on the desk within the
/// quarter hour.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(15 * 60);

/// How Google Business Profile takes answers.
/// A review holds one reply by the business, replaced by the next; Google counts its
/// 4,096 in bytes of UTF-8 (`ReviewReply.comment`: "the maximum length is 4096 bytes").
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 4_096 },
    count: crate::domain::length::bytes,
    unit: "bytes",
    replaces: true,
    colour: 0x4285F4,
    ..NetworkTraits::new("google-reviews", "Google Business Profile")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &[
        "account",
        "location",
        "client_id",
        "client_secret",
        "refresh_token",
        "api_url",
        "token_url",
    ],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `accounts/1234567890`.
    pub account: String,
    /// `locations/9876543210`.
    pub location: String,
    pub oauth: OAuth,
    pub api_url: String,
}

/// `prefix/<digits>`, or the bare digits; the error says where to find it.
fn resource(keys: &Keys<'_>, key: &str, prefix: &str, what: &str) -> Result<String, KeyError> {
    let value = keys.required(key, what)?;
    let value = value.trim();
    let digits = value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(value);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(keys.error(
            key,
            format!("`{value}` is not a Business Profile {key}; expected \"{prefix}/\" and digits: {what}"),
        ));
    }
    Ok(format!("{prefix}/{digits}"))
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let account = resource(
        keys,
        "account",
        "accounts",
        "the account that owns the location, \"accounts/<digits>\" (GET https://mybusinessaccountmanagement.googleapis.com/v1/accounts lists yours)",
    )?;
    let location = resource(
        keys,
        "location",
        "locations",
        "the shop's location, \"locations/<digits>\" (GET https://mybusinessbusinessinformation.googleapis.com/v1/<account>/locations?readMask=name,title lists them)",
    )?;
    let oauth = OAuth {
        client_id: keys
            .required("client_id", "the OAuth client's id (Google Auth Platform → Clients)")?
            .trim()
            .to_string(),
        client_secret: keys.secret("client_secret", "the OAuth client's secret")?,
        refresh_token: keys.secret(
            "refresh_token",
            "a refresh token of an owner or manager of the profile, with scope https://www.googleapis.com/auth/business.manage",
        )?,
        token_url: keys.base_url("token_url", DEFAULT_TOKEN_URL)?,
    };
    Ok(Box::new(Settings {
        account,
        location,
        oauth,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("reviews of {}/{}", self.account, self.location)
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(GoogleReviews::new(
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
