//! An Instagram source's `[[sources]]` keys, checked, and the source they build.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::Instagram;
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::graph::{self, keys::Described};
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// Two minutes, as for Facebook: two requests a poll when nothing is new.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(2 * 60);

/// How Instagram takes answers.
/// The Graph API refuses comments over 2,200 characters (a caption's limit) and comments
/// naming more than 20 accounts; an answer to a reply lands under the top-level comment, so
/// it names the person it answers.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 2_200 },
    max_mentions: Some(20),
    names_author: true,
    colour: 0xE1306C,
    ..NetworkTraits::new("instagram", "Instagram")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &["user_id", "token", "app_secret", "watch", "graph_url"],
    every: DEFAULT_EVERY,
    parse,
};

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

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let read = graph::keys::read(
        keys,
        &Described {
            id_key: "user_id",
            id_help: "the Instagram professional account's id (`GET /{page-id}?fields=instagram_business_account`)",
            token_help: "a long-lived access token with instagram_basic and instagram_manage_comments",
            watches: &["comments", "tags"],
            parse_watch: Watch::parse,
            empty_watch: "`watch` is empty; leave it out for both \"comments\" and \"tags\"",
        },
    )?;
    Ok(Box::new(Settings {
        user_id: read.id,
        token: read.token,
        app_secret: read.app_secret,
        watch: read.watch,
        graph_url: read.graph_url,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("account {}, {} watch(es)", self.user_id, self.watch.len())
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(Instagram::new(
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
