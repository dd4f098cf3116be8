//! Reading the reviews: newest first, page after page until the walk is a week behind the
//! newest review seen before. App Store Connect gives no update time, so an edit (new stars,
//! new text) can only be found by reading the review again; the store compares each read with
//! what it holds (`Store::revise`), and a re-read that changed nothing writes nothing.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{self, Page};
use super::AppStore;
use crate::domain::Cursor;
use crate::net::transport::decode;
use crate::net::{Failure, Pager, Purpose, Turn};
use crate::sources::Fetched;

/// Apple's largest page.
const PAGE_SIZE: u32 = 200;
/// The first poll relays the newest reviews, not the app's whole history.
const FIRST_PAGE_SIZE: u32 = 50;
/// How far back each poll re-reads, to find edits and responses made elsewhere.
pub const REREAD: chrono::Duration = chrono::Duration::days(7);
/// Pages per poll: 2,000 reviews, more than most apps get in a week; the rest of the week is
/// not re-read (and new reviews beyond it are reported).
const PAGER: Pager = Pager::new(10);

/// What the stored cursor holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Mark {
    /// The `createdDate` of the newest review read.
    newest: Option<DateTime<Utc>>,
}

impl AppStore {
    pub(super) async fn walk(&self, cursor: &Cursor) -> Result<Fetched, Failure> {
        let mut problems = Vec::new();
        let mark = match cursor.position.as_deref() {
            None => Mark::default(),
            Some(text) => serde_json::from_str(text).unwrap_or_else(|error| {
                problems.push(format!(
                    "the stored App Store position is unreadable ({error}); reading the newest reviews again"
                ));
                Mark::default()
            }),
        };
        let app_name = self.app_name().await;
        let first_poll = mark.newest.is_none();
        let reach = mark.newest.map(|newest| newest - REREAD);
        let mut newest = mark.newest;
        let mut reached_known = first_poll;
        let mut mentions = Vec::new();
        let mut pages = PAGER.pages();
        while let Some(token) = pages.next_page() {
            let page = match self.page(token.as_deref(), first_poll).await {
                Ok(page) => page,
                // The first page failing fails the poll; a later one keeps what was read (the
                // next poll re-reads the week anyway).
                Err(error) if pages.read() == 1 => return Err(error),
                Err(error) => {
                    problems.push(format!("reading older App Store reviews failed: {error}"));
                    reached_known = true;
                    break;
                }
            };
            let responses = page.responses();
            let mut oldest: Option<DateTime<Utc>> = None;
            for review in &page.data {
                match wire::to_mention(
                    &self.name,
                    &self.settings.app_id,
                    app_name.as_deref(),
                    review,
                    &responses,
                ) {
                    Ok(mention) => {
                        let at = mention.created_at;
                        newest = Some(newest.map_or(at, |known| known.max(at)));
                        oldest = Some(oldest.map_or(at, |seen| seen.min(at)));
                        mentions.push(mention);
                    }
                    Err(problem) => problems.push(problem),
                }
            }
            if let (Some(oldest), Some(known)) = (oldest, mark.newest) {
                reached_known |= oldest <= known;
            }
            let next = page.links.next.as_deref().and_then(path_of);
            let far_enough = match (oldest, reach) {
                (Some(oldest), Some(reach)) => oldest < reach,
                _ => false,
            };
            pages.turn(match next {
                Some(next) if !first_poll && !far_enough && !page.data.is_empty() => {
                    Turn::Next(next)
                }
                _ => Turn::Stop,
            });
        }
        if !reached_known && pages.cut_short() {
            problems.push(format!(
                "more App Store reviews arrived since the last poll than one poll reads ({} pages of {PAGE_SIZE}); older ones among them were not read",
                PAGER.max_pages
            ));
        }
        let position = serde_json::to_string(&Mark { newest }).unwrap_or_default();
        Ok(Fetched {
            mentions,
            cursor: Cursor {
                position: Some(position),
                ..cursor.clone()
            },
            problems,
        })
    }

    /// One page: the first (`token` `None`) or the one a `links.next` named.
    async fn page(&self, token: Option<&str>, first_poll: bool) -> Result<Page, Failure> {
        let what = "App Store Connect (customer reviews)";
        let (url, query) = match token {
            Some(path) => (self.url(path), Vec::new()),
            None => (
                self.url(&format!(
                    "/v1/apps/{}/customerReviews",
                    self.settings.app_id
                )),
                vec![
                    ("sort", "-createdDate".to_string()),
                    ("include", "response".to_string()),
                    (
                        "limit",
                        if first_poll {
                            FIRST_PAGE_SIZE
                        } else {
                            PAGE_SIZE
                        }
                        .to_string(),
                    ),
                ],
            ),
        };
        let not_found = format!(
            "`app_id` {} is not an app this key can see (App Store Connect → Apps → the app → App Information → Apple ID)",
            self.settings.app_id
        );
        let (_, body) = self
            .call(
                what,
                Purpose::Poll,
                Method::GET,
                &url,
                &query,
                None,
                &not_found,
            )
            .await
            .map_err(Failure::from)?;
        decode(what, &body)
    }

    /// The app's name, read once; without it the cards name no app (and the next poll asks
    /// again).
    async fn app_name(&self) -> Option<String> {
        let mut known = self.app_name.lock().await;
        if known.is_some() {
            return known.clone();
        }
        let url = self.url(&format!("/v1/apps/{}", self.settings.app_id));
        let query = [("fields[apps]", "name".to_string())];
        let read = self
            .call(
                "App Store Connect (the app)",
                Purpose::Poll,
                Method::GET,
                &url,
                &query,
                None,
                "no such app for this key",
            )
            .await
            .map_err(Failure::from)
            .and_then(|(_, body)| decode::<Value>("App Store Connect (the app)", &body));
        match read {
            Ok(app) => {
                *known = app["data"]["attributes"]["name"]
                    .as_str()
                    .map(str::to_string);
            }
            Err(error) => {
                tracing::warn!(source = %self.name, %error, "cannot read the app's name; the cards name no app")
            }
        }
        known.clone()
    }
}

/// The path and query of a `links.next` URL: followed against the configured `api_url`, so a
/// proxy (or a test's server) stays in the loop.
fn path_of(next: &str) -> Option<String> {
    let url = url::Url::parse(next).ok()?;
    Some(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_keep_their_path_and_query() {
        assert_eq!(
            path_of("https://api.appstoreconnect.apple.com/v1/apps/1/customerReviews?cursor=Mg&limit=200").as_deref(),
            Some("/v1/apps/1/customerReviews?cursor=Mg&limit=200")
        );
        assert_eq!(path_of("not a url"), None);
    }
}
