//! Instagram professional accounts, through the Graph API (with Facebook Login at
//! graph.facebook.com, or Instagram Login at graph.instagram.com): new comments and replies on
//! the account's recent media, and media the account is tagged in. @mentions in others'
//! captions and comments have no polling endpoint: they arrive through Meta's webhooks.
//! Every item is addressed to the brand (no keyword needed; `exclude` applies); the account's
//! own comments are never relayed.
//!
//! Answers: `POST /{comment}/replies`, which only works on top-level comments, so an answer to
//! a reply goes under its top-level comment and names the person it answers; media and
//! comments the account is @mentioned in are answered with `POST /{user}/mentions`
//! (`mentions.rs`). Posted once, as on Facebook; what can be read back under a mention, and
//! what cannot, is in `thread.rs`. `push.rs` reads what Meta's webhooks push.

pub mod config;
mod mentions;
mod push;
mod reply;
mod thread;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

pub use config::{Settings, Watch, DEFAULT_EVERY, NETWORK, TRAITS};

use super::facebook::poll::Window;
use super::facebook::wire::Mark;
use super::graph::{parse_time, Graph, Page};
use super::{Fetched, Hook, Posted, Push, Source, SourceError};
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};
use crate::net::{CursorSet, Failure, Pager, PostOnce, Purpose, Turn};
use mentions::Target;

/// Recent media read for comments each poll, and comments per media item.
const MEDIA_PAGE: usize = 25;
const COMMENTS_PAGE: usize = 50;
const PAGER: Pager = Pager::new(4);
const COMMENT_FIELDS: &str = "id,text,timestamp,username,from{id,username},parent_id";

pub struct Instagram {
    name: String,
    settings: Settings,
    every: Duration,
    graph: Graph,
    answers: PostOnce<Posted>,
    own: Mutex<HashSet<String>>,
    /// Answers to @mentions whose last attempt Meta refused before it could land: a retry of
    /// one may post where the thread cannot be read back (`thread.rs`).
    refused: Mutex<HashSet<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    pub id: Option<String>,
    pub text: Option<String>,
    pub timestamp: Option<String>,
    pub username: Option<String>,
    pub from: Option<From>,
    pub parent_id: Option<String>,
    pub replies: Option<Page<Comment>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct From {
    pub id: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Media {
    id: Option<String>,
    caption: Option<String>,
    timestamp: Option<String>,
    username: Option<String>,
    permalink: Option<String>,
    comments: Option<Page<Comment>>,
}

impl Comment {
    fn author(&self) -> Option<&str> {
        self.username
            .as_deref()
            .or_else(|| self.from.as_ref().and_then(|from| from.username.as_deref()))
    }

    fn by(&self, user_id: &str) -> bool {
        self.from
            .as_ref()
            .and_then(|from| from.id.as_deref())
            .is_some_and(|id| id == user_id)
    }

    /// `parent`: the top-level comment of a reply, else the media it is on.
    pub fn mention(
        &self,
        source: &str,
        parent: Option<&str>,
        link: Option<&str>,
    ) -> Option<Mention> {
        let id = self.id.clone().filter(|id| !id.is_empty())?;
        let created_at = parse_time(self.timestamp.as_deref()?)?;
        let handle = self.author().unwrap_or_default().to_string();
        Some(Mention {
            key: MentionKey::new(source, id),
            network: TRAITS.network(),
            author: Author {
                profile: (!handle.is_empty())
                    .then(|| format!("https://www.instagram.com/{handle}/")),
                handle,
                name: None,
            },
            text: self.text.clone().unwrap_or_default(),
            link: link.map(str::to_string),
            created_at,
            matched: Vec::new(),
            language: None,
            in_reply_to: self
                .parent_id
                .clone()
                .or_else(|| parent.map(str::to_string)),
            direct: true,
            review: None,
        })
    }
}

impl Instagram {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> Instagram {
        let graph = Graph::new(
            "Instagram",
            &settings.graph_url,
            settings.token.clone(),
            settings.app_secret.as_ref(),
            format!("the `token` of source `{name}` (a long-lived Instagram access token)"),
            http,
        );
        Instagram {
            name,
            settings,
            every,
            graph,
            answers: PostOnce::default(),
            own: Mutex::new(HashSet::new()),
            refused: Mutex::new(HashSet::new()),
        }
    }

    fn is_own(&self, comment: &Comment) -> bool {
        comment.by(&self.settings.user_id)
            || comment
                .id
                .as_ref()
                .is_some_and(|id| self.own.lock().map(|own| own.contains(id)).unwrap_or(false))
    }

    fn admit(
        &self,
        comment: &Comment,
        window: &mut Window,
        found: &mut Vec<Mention>,
        parent: Option<&str>,
        link: Option<&str>,
    ) {
        let (Some(id), Some(created)) = (
            comment.id.as_deref(),
            comment.timestamp.as_deref().and_then(parse_time),
        ) else {
            return;
        };
        if window.admit(id, created.timestamp()) && !self.is_own(comment) {
            if let Some(mention) = comment.mention(&self.name, parent, link) {
                found.push(mention);
            }
        }
    }

    async fn read_comments(&self, window: &mut Window) -> Result<Vec<Mention>, Failure> {
        let what = "Instagram (recent media and their comments)";
        let user = &self.settings.user_id;
        let media: Page<Media> = self
            .graph
            .get(
                what,
                Purpose::Poll,
                &format!("{user}/media"),
                &[
                    (
                        "fields",
                        format!("id,permalink,comments.limit({COMMENTS_PAGE}){{{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}}}"),
                    ),
                    ("limit", MEDIA_PAGE.to_string()),
                ],
            )
            .await?;
        let mut found = Vec::new();
        for item in media.data {
            let (Some(media_id), Some(first)) = (item.id.clone(), item.comments) else {
                continue;
            };
            let link = item.permalink.as_deref();
            let mut pages = PAGER.pages();
            let mut page = Some(first);
            while let Some(after) = pages.next_page() {
                let current = match (page.take(), after) {
                    (Some(current), _) => current,
                    (None, Some(after)) => {
                        self.graph
                            .get(
                                what,
                                Purpose::Poll,
                                &format!("{media_id}/comments"),
                                &[
                                    (
                                        "fields",
                                        format!("{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}"),
                                    ),
                                    ("limit", COMMENTS_PAGE.to_string()),
                                    ("after", after),
                                ],
                            )
                            .await?
                    }
                    (None, None) => break,
                };
                for comment in &current.data {
                    self.admit(comment, window, &mut found, Some(&media_id), link);
                    let top = comment.id.as_deref();
                    for reply in comment.replies.iter().flat_map(|replies| &replies.data) {
                        self.admit(reply, window, &mut found, top, link);
                    }
                }
                pages.turn(match current.after() {
                    Some(after) => Turn::Next(after),
                    None => Turn::Stop,
                });
            }
        }
        Ok(found)
    }

    async fn read_tags(&self, window: &mut Window) -> Result<Vec<Mention>, Failure> {
        let what = "Instagram (media the account is tagged in)";
        let user = &self.settings.user_id;
        let page: Page<Media> = self
            .graph
            .get(
                what,
                Purpose::Poll,
                &format!("{user}/tags"),
                &[
                    (
                        "fields",
                        "id,caption,timestamp,username,permalink".to_string(),
                    ),
                    ("limit", "50".to_string()),
                ],
            )
            .await?;
        let mut found = Vec::new();
        for media in page.data {
            let as_comment = Comment {
                id: media.id,
                text: Some(
                    media
                        .caption
                        .filter(|caption| !caption.trim().is_empty())
                        .unwrap_or_else(|| {
                            "(tagged the account in a post without a caption)".into()
                        }),
                ),
                timestamp: media.timestamp,
                username: media.username,
                from: None,
                parent_id: None,
                replies: None,
            };
            self.admit(
                &as_comment,
                window,
                &mut found,
                None,
                media.permalink.as_deref(),
            );
        }
        Ok(found)
    }
}

#[async_trait]
impl Source for Instagram {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks = CursorSet::<Mark, SourceError>::read(cursor, "Instagram", &self.name);
        let mut mentions = Vec::new();
        let now = self.graph.budget().now();
        for watch in &self.settings.watch {
            let key = watch.key();
            let mut window = Window::new(marks.get(key), now);
            let read = match watch {
                Watch::Comments => self.read_comments(&mut window).await,
                Watch::Tags => self.read_tags(&mut window).await,
            };
            let outcome = read
                .map(|found| (found, Some(window.mark())))
                .map_err(SourceError::from);
            marks.record(key, outcome, &mut mentions);
        }
        let (cursor, problems) = marks.finish(cursor)?;
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        self.answer(mention, text, idempotency_key, false).await
    }

    async fn reply_again(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        self.answer(mention, text, idempotency_key, true).await
    }

    fn hooked(&self) -> Option<Hook> {
        Some(Hook {
            object: "instagram",
            id: self.settings.user_id.clone(),
        })
    }

    async fn pushed(&self, push: &Push) -> Result<Vec<Mention>, SourceError> {
        Ok(self.pushed_change(push).await?)
    }

    /// A reply by the account below the mention: a comment on its own media, a caption that
    /// @mentions it, or a comment elsewhere when Meta lets its replies be read (`thread.rs`).
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let link = mention.link.as_deref();
        let found = match Target::of(mention) {
            Some(Target::Comment) => {
                self.answered_mention(&mention.key.id, Some(&mention.key.id), link)
                    .await
            }
            Some(Target::Media { media }) => self.answered_mention(&media, None, link).await,
            Some(Target::MentionedComment { media, comment }) => {
                self.answered_mention(&media, Some(&comment), link).await
            }
            None => return Ok(None),
        };
        Ok(found?)
    }
}
