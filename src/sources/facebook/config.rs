//! A Facebook Page source's `[[sources]]` keys, checked, and the source they build.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::Facebook;
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::graph::{self, keys::Described};
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// Two minutes: one request per watch per poll when nothing is new, 90 an hour for all three,
/// far inside the Business Use Case budget of even a small Page (4,800 calls a day per engaged
/// user), and a new comment shows up within about two minutes.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(2 * 60);

/// How Facebook takes answers.
/// The Graph API refuses comments over 8,000 characters.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 8_000 },
    colour: 0x0866FF,
    ..NetworkTraits::new("facebook", "Facebook")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &["page_id", "token", "app_secret", "watch", "graph_url"],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub page_id: String,
    pub token: Secret,
    pub app_secret: Option<Secret>,
    pub watch: Vec<Watch>,
    pub graph_url: String,
}

/// What a Facebook source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// New comments and replies under the Page's recent posts.
    Comments,
    /// Posts others write on the Page.
    VisitorPosts,
    /// Public posts that tag the Page.
    Tagged,
}

impl Watch {
    pub const ALL: [Watch; 3] = [Watch::Comments, Watch::VisitorPosts, Watch::Tagged];

    pub fn key(self) -> &'static str {
        match self {
            Watch::Comments => "comments",
            Watch::VisitorPosts => "visitor_posts",
            Watch::Tagged => "tagged",
        }
    }

    pub fn parse(text: &str) -> Result<Watch, String> {
        Watch::ALL
            .into_iter()
            .find(|watch| watch.key() == text.trim())
            .ok_or_else(|| {
                format!("`{text}` is not a Facebook watch; use \"comments\", \"visitor_posts\" or \"tagged\"")
            })
    }
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let read = graph::keys::read(
        keys,
        &Described {
            id_key: "page_id",
            id_help: "the Page's numeric id (Page → About → Page transparency, or `GET /me?fields=id` with the Page token)",
            token_help: "a long-lived Page access token",
            watches: &["comments", "visitor_posts", "tagged"],
            parse_watch: Watch::parse,
            empty_watch: "`watch` is empty; leave it out for all of \"comments\", \"visitor_posts\" and \"tagged\"",
        },
    )?;
    Ok(Box::new(Settings {
        page_id: read.id,
        token: read.token,
        app_secret: read.app_secret,
        watch: read.watch,
        graph_url: read.graph_url,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("Page {}, {} watch(es)", self.page_id, self.watch.len())
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(Facebook::new(
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
