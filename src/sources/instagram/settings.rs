//! The `[[sources]]` keys of an Instagram source, checked, and the source they build.

use std::time::Duration;

use super::Instagram;
use crate::net::Secret;
use crate::sources::facebook::settings::{graph_id, http_url};

/// Two minutes, as for Facebook: two requests a poll when nothing is new.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(2 * 60);

/// The keys a `kind = "instagram"` section takes besides `kind`, `name`, `every` and `rules`.
pub const KEYS: &[&str] = &["user_id", "token", "app_secret", "watch", "graph_url"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub user_id: String,
    pub token: Secret,
    pub app_secret: Option<Secret>,
    pub watch: Vec<Watch>,
    pub graph_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// New comments and replies on the account's recent media.
    Comments,
    /// Media the account is tagged in.
    Tags,
}

impl Watch {
    pub const ALL: [Watch; 2] = [Watch::Comments, Watch::Tags];

    pub fn key(self) -> &'static str {
        match self {
            Watch::Comments => "comments",
            Watch::Tags => "tags",
        }
    }

    pub fn parse(text: &str) -> Result<Watch, String> {
        Watch::ALL
            .into_iter()
            .find(|watch| watch.key() == text.trim())
            .ok_or_else(|| {
                format!("`{text}` is not an Instagram watch; use \"comments\" or \"tags\" (@mentions arrive through [webhooks.meta])")
            })
    }
}

#[derive(Debug, Default)]
pub struct Fields {
    pub user_id: Option<String>,
    pub token: Option<String>,
    pub app_secret: Option<String>,
    pub watch: Option<Vec<String>>,
    pub graph_url: Option<String>,
}

impl Settings {
    pub fn parse(fields: Fields) -> Result<Settings, (&'static str, String)> {
        let user_id = graph_id(
            fields.user_id,
            "user_id",
            "the Instagram professional account's id (`GET /{page-id}?fields=instagram_business_account`)",
        )?;
        let token = fields
            .token
            .filter(|token| !token.trim().is_empty())
            .ok_or((
                "token",
                "an instagram source needs `token`: a long-lived access token with instagram_basic and instagram_manage_comments".to_string(),
            ))?;
        let watch = match fields.watch {
            None => Watch::ALL.to_vec(),
            Some(list) if list.is_empty() => {
                return Err((
                    "watch",
                    "`watch` is empty; leave it out for both \"comments\" and \"tags\"".into(),
                ))
            }
            Some(list) => list
                .iter()
                .map(|item| Watch::parse(item).map_err(|message| ("watch", message)))
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(Settings {
            user_id,
            token: Secret::new(token.trim()),
            app_secret: fields
                .app_secret
                .filter(|secret| !secret.trim().is_empty())
                .map(|secret| Secret::new(secret.trim())),
            watch,
            graph_url: http_url(fields.graph_url, "graph_url")?,
        })
    }
}

pub fn build(
    name: String,
    settings: Settings,
    every: Duration,
    http: reqwest::Client,
) -> Instagram {
    Instagram::new(name, settings, every, http)
}
