//! Reading the reviews: newest first (`orderBy=createdat.desc`), page after page until the walk
//! is a week behind the newest review seen before. Re-reading the week finds edits (the
//! review's `updatedAt` keeps a stale read from undoing one) and replies made on Trustpilot's
//! own site; the store compares each read with what it holds (`Store::revise`).

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::wire::{self, Page};
use super::Trustpilot;
use crate::domain::Cursor;
use crate::net::transport::decode;
use crate::net::{Failure, Pager, Purpose, Turn};
use crate::sources::Fetched;

/// Trustpilot's largest page.
const PAGE_SIZE: u32 = 100;
/// The first poll relays the newest reviews, not the business's whole history.
const FIRST_PAGE_SIZE: u32 = 50;
/// How far back each poll re-reads, to find edits and replies made elsewhere.
pub const REREAD: chrono::Duration = chrono::Duration::days(7);
/// Pages per poll: 1,000 reviews, more than most businesses get in a week.
const PAGER: Pager = Pager::new(10);

#[derive(Debug, Default, Serialize, Deserialize)]
struct Mark {
    /// The `createdAt` of the newest review read.
    newest: Option<DateTime<Utc>>,
}

impl Trustpilot {
    pub(super) async fn walk(&self, cursor: &Cursor) -> Result<Fetched, Failure> {
        let mut problems = Vec::new();
        let mark = match cursor.position.as_deref() {
            None => Mark::default(),
            Some(text) => serde_json::from_str(text).unwrap_or_else(|error| {
                problems.push(format!(
                    "the stored Trustpilot position is unreadable ({error}); reading the newest reviews again"
                ));
                Mark::default()
            }),
        };
        let first_poll = mark.newest.is_none();
        let reach = mark.newest.map(|newest| newest - REREAD);
        let mut newest = mark.newest;
        let mut reached_known = first_poll;
        let mut mentions = Vec::new();
        let mut pages = PAGER.pages();
        while let Some(token) = pages.next_page() {
            let number: u32 = token.as_deref().and_then(|n| n.parse().ok()).unwrap_or(1);
            let page = match self.page(number, first_poll).await {
                Ok(page) => page,
                Err(error) if pages.read() == 1 => return Err(error),
                // A later page failing keeps what was read; the next poll re-reads the week.
                Err(error) => {
                    problems.push(format!("reading older Trustpilot reviews failed: {error}"));
                    reached_known = true;
                    break;
                }
            };
            let mut oldest: Option<DateTime<Utc>> = None;
            for review in &page.reviews {
                match wire::to_mention(&self.name, review) {
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
            let far_enough =
                matches!((oldest, reach), (Some(oldest), Some(reach)) if oldest < reach);
            let more = page.has_next() && !page.reviews.is_empty();
            pages.turn(if more && !first_poll && !far_enough {
                Turn::Next((number + 1).to_string())
            } else {
                Turn::Stop
            });
        }
        if !reached_known && pages.cut_short() {
            problems.push(format!(
                "more Trustpilot reviews arrived since the last poll than one poll reads ({} pages of {PAGE_SIZE}); older ones among them were not read",
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

    async fn page(&self, number: u32, first_poll: bool) -> Result<Page, Failure> {
        let what = "Trustpilot (the business unit's reviews)";
        let url = self.url(&format!(
            "/v1/private/business-units/{}/reviews",
            self.settings.business_unit_id
        ));
        let query = [
            ("orderBy", "createdat.desc".to_string()),
            (
                "perPage",
                if first_poll {
                    FIRST_PAGE_SIZE
                } else {
                    PAGE_SIZE
                }
                .to_string(),
            ),
            ("page", number.to_string()),
        ];
        let not_found = format!(
            "`business_unit_id` {} is not a business unit Trustpilot knows",
            self.settings.business_unit_id
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
            .await?;
        decode(what, &body)
    }
}
