//! The walk App Store Connect and Trustpilot reviews share: listed newest first by creation,
//! read page after page until the walk is [`REREAD`] behind the newest review seen before
//! (the first poll reads one page: the newest reviews, not the whole history). Neither lists
//! by last change, so edits and replies made elsewhere are found by reading the week again;
//! the store compares each read with what it holds (`Store::revise`), and a re-read that
//! changed nothing writes nothing. Only the newest creation time is kept in the cursor.
//! (Google's listings go by last change instead: `google/window.rs`.)

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Cursor, Mention};
use crate::net::{Failure, Pager, Turn};
use crate::sources::Fetched;

/// How far back each poll re-reads, to find edits and replies made elsewhere.
pub const REREAD: chrono::Duration = chrono::Duration::days(7);

/// What the stored cursor holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Mark {
    /// The creation time of the newest review read.
    newest: Option<DateTime<Utc>>,
}

/// One listing, as its source describes it.
pub struct Listing<'a> {
    /// "App Store", "Trustpilot": for the problems reported.
    pub network: &'a str,
    pub page_size: u32,
    pub pager: Pager,
}

/// One page read: each review as a mention (or why it could not be), and the next page's
/// token when the listing has one and this page was not empty.
pub struct Read {
    pub reviews: Vec<Result<Mention, String>>,
    pub next: Option<String>,
}

/// Walks the listing from `cursor`; `read(token, first_poll)` reads a page (`None`: the first).
/// The first page failing fails the poll; a later one keeps what was read (the next poll
/// re-reads the week anyway).
pub async fn newest_first<F, Fut>(
    cursor: &Cursor,
    listing: &Listing<'_>,
    mut read: F,
) -> Result<Fetched, Failure>
where
    F: FnMut(Option<String>, bool) -> Fut,
    Fut: Future<Output = Result<Read, Failure>>,
{
    let network = listing.network;
    let mut problems = Vec::new();
    let mark = match cursor.position.as_deref() {
        None => Mark::default(),
        Some(text) => serde_json::from_str(text).unwrap_or_else(|error| {
            problems.push(format!(
                "the stored {network} position is unreadable ({error}); reading the newest reviews again"
            ));
            Mark::default()
        }),
    };
    let first_poll = mark.newest.is_none();
    let reach = mark.newest.map(|newest| newest - REREAD);
    let mut newest = mark.newest;
    let mut reached_known = first_poll;
    let mut mentions = Vec::new();
    let mut pages = listing.pager.pages();
    while let Some(token) = pages.next_page() {
        let page = match read(token, first_poll).await {
            Ok(page) => page,
            Err(error) if pages.read() == 1 => return Err(error),
            Err(error) => {
                problems.push(format!("reading older {network} reviews failed: {error}"));
                reached_known = true;
                break;
            }
        };
        let mut oldest: Option<DateTime<Utc>> = None;
        for review in page.reviews {
            match review {
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
        let far_enough = matches!((oldest, reach), (Some(oldest), Some(reach)) if oldest < reach);
        pages.turn(match page.next {
            Some(next) if !first_poll && !far_enough => Turn::Next(next),
            _ => Turn::Stop,
        });
    }
    if !reached_known && pages.cut_short() {
        problems.push(format!(
            "more {network} reviews arrived since the last poll than one poll reads ({} pages of {}); older ones among them were not read",
            listing.pager.max_pages, listing.page_size
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
