//! Reading the reviews: newest first (`orderBy=createdat.desc`), page after page until the walk
//! is a week behind the newest review seen before ([`review_walk`]). Re-reading the week finds
//! edits (the review's `updatedAt` keeps a stale read from undoing one) and replies made on
//! Trustpilot's own site.

use reqwest::Method;

use super::wire::{self, Page};
use super::Trustpilot;
use crate::domain::Cursor;
use crate::net::transport::decode;
use crate::net::{Failure, Pager, Purpose};
use crate::sources::review_walk::{self, Listing, Read};
use crate::sources::Fetched;

/// Trustpilot's largest page.
const PAGE_SIZE: u32 = 100;
/// The first poll relays the newest reviews, not the business's whole history.
const FIRST_PAGE_SIZE: u32 = 50;
/// Pages per poll: 1,000 reviews, more than most businesses get in a week.
const LISTING: Listing = Listing {
    network: "Trustpilot",
    page_size: PAGE_SIZE,
    pager: Pager::new(10),
};

impl Trustpilot {
    pub(super) async fn walk(&self, cursor: &Cursor) -> Result<Fetched, Failure> {
        review_walk::newest_first(cursor, &LISTING, |token, first_poll| async move {
            let number: u32 = token.as_deref().and_then(|n| n.parse().ok()).unwrap_or(1);
            let page = self.page(number, first_poll).await?;
            let reviews = page
                .reviews
                .iter()
                .map(|review| wire::to_mention(&self.name, review))
                .collect();
            let next =
                (page.has_next() && !page.reviews.is_empty()).then(|| (number + 1).to_string());
            Ok(Read { reviews, next })
        })
        .await
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
