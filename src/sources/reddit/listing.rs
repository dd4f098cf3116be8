//! Reading a listing: newest first, page by page (`after`), down to the newest item handled
//! last time.

use super::wire::{Item, Mark, Thing};
use super::{Reddit, Watch};
use crate::domain::Mention;
use crate::net::{read_json, Failure, Pager, Purpose, Turn};

/// Reddit listings hold at most 100 items a page and 1,000 in all.
const PAGE_SIZE: u32 = 100;
const PAGER: Pager = Pager::new(10);
/// Reddit's search index lags behind new posts, so search looks back this far before the newest
/// post it has seen, instead of stopping at it; the store drops the repeats.
const SEARCH_OVERLAP_SECS: f64 = 10.0 * 60.0;

/// One listing endpoint read by a watch, with its own place in the cursor.
pub(super) struct Listing {
    pub key: String,
    path: String,
    query: Vec<(&'static str, String)>,
    search: bool,
}

impl Watch {
    pub(super) fn listings(&self) -> Vec<Listing> {
        let listing =
            |key: String, path: String, query: Vec<(&'static str, String)>, search| Listing {
                key,
                path,
                query,
                search,
            };
        match self {
            Watch::Search(words) => vec![listing(
                format!("search:{words}"),
                "/search".into(),
                vec![
                    ("q", words.clone()),
                    ("sort", "new".into()),
                    ("type", "link".into()),
                ],
                true,
            )],
            Watch::Subreddit(sub) => vec![
                listing(
                    format!("r/{sub}/new"),
                    format!("/r/{sub}/new"),
                    vec![],
                    false,
                ),
                listing(
                    format!("r/{sub}/comments"),
                    format!("/r/{sub}/comments"),
                    vec![],
                    false,
                ),
            ],
            // `mark=false`: reading the inbox must not mark it read for the people who use it.
            Watch::Mentions => vec![listing(
                "mentions".into(),
                "/message/inbox".into(),
                vec![("mark", "false".into())],
                false,
            )],
        }
    }
}

impl Reddit {
    /// New items of one listing, newest first, down to the last one handled (`seen`).
    pub(super) async fn read_listing(
        &self,
        listing: &Listing,
        seen: Option<&Mark>,
    ) -> Result<(Vec<Mention>, Option<Mark>), Failure> {
        let what = format!("Reddit {}", listing.key);
        let mut found = Vec::new();
        let mut newest: Option<Mark> = None;
        let mut pages = PAGER.pages();
        while let Some(after) = pages.next_page() {
            let response = self
                .call(&what, Purpose::Poll, |http, api| {
                    let mut request = http
                        .get(format!("{api}{}", listing.path))
                        .query(&listing.query)
                        .query(&[("limit", PAGE_SIZE.to_string()), ("raw_json", "1".into())]);
                    if let Some(after) = &after {
                        request = request.query(&[("after", after)]);
                    }
                    request
                })
                .await?;
            let page: Thing = read_json(&what, response).await?;
            let data = page.listing();
            let mut reached = false;
            for child in data.children {
                let item = match Item::read(child) {
                    Ok(item) => item,
                    Err(reason) => {
                        tracing::warn!(source = %self.name, listing = %listing.key, %reason, "skipped a Reddit item");
                        continue;
                    }
                };
                if let Some(seen) = seen {
                    let older = if listing.search {
                        item.mark.created < seen.created - SEARCH_OVERLAP_SECS
                    } else {
                        item.mark.name == seen.name || item.mark.created < seen.created
                    };
                    if older {
                        reached = true;
                        break;
                    }
                }
                if newest
                    .as_ref()
                    .is_none_or(|newest| item.mark.created > newest.created)
                {
                    newest = Some(item.mark.clone());
                }
                if let Some(mention) = item.mention(&self.name, &self.settings.username) {
                    found.push(mention);
                }
            }
            // The first read of a listing starts from now: its newest page only.
            pages.turn(match data.after.filter(|after| !after.is_empty()) {
                Some(after) if !reached && seen.is_some() => Turn::Next(after),
                _ => Turn::Stop,
            });
        }
        let mark = match (newest, seen) {
            (Some(newest), Some(seen)) if newest.created < seen.created => Some(seen.clone()),
            (newest, seen) => newest.or_else(|| seen.cloned()),
        };
        Ok((found, mark))
    }
}
