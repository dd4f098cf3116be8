//! Reading the reviews: newest first, page after page until the walk is a week behind the
//! newest review seen before ([`review_walk`]). App Store Connect gives no update time, so an
//! edit (new stars, new text) can only be found by reading the review again.

use reqwest::Method;
use serde_json::Value;

use super::wire::{self, Page};
use super::AppStore;
use crate::domain::Cursor;
use crate::net::transport::decode;
use crate::net::{Failure, Pager, Purpose};
use crate::sources::review_walk::{self, Listing, Read};
use crate::sources::Fetched;

/// Apple's largest page.
const PAGE_SIZE: u32 = 200;
/// The first poll relays the newest reviews, not the app's whole history.
const FIRST_PAGE_SIZE: u32 = 50;
/// Pages per poll: 2,000 reviews, more than most apps get in a week; the rest of the week is
/// not re-read (and new reviews beyond it are reported).
const LISTING: Listing = Listing {
    network: "App Store",
    page_size: PAGE_SIZE,
    pager: Pager::new(10),
};

impl AppStore {
    pub(super) async fn walk(&self, cursor: &Cursor) -> Result<Fetched, Failure> {
        let app_name = self.app_name().await;
        review_walk::newest_first(cursor, &LISTING, |token, first_poll| {
            let app_name = app_name.clone();
            async move {
                let page = self.page(token.as_deref(), first_poll).await?;
                let responses = page.responses();
                let reviews = page
                    .data
                    .iter()
                    .map(|review| {
                        wire::to_mention(
                            &self.name,
                            &self.settings.app_id,
                            app_name.as_deref(),
                            review,
                            &responses,
                        )
                    })
                    .collect();
                let next = page
                    .links
                    .next
                    .as_deref()
                    .and_then(path_of)
                    .filter(|_| !page.data.is_empty());
                Ok(Read { reviews, next })
            }
        })
        .await
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
