//! `search:<query>`: new videos that name the brand (`search.list`, `order=date`, from the
//! newest video seen, with an overlap, since YouTube indexes late). Searches have their own
//! bucket of about 100 a day, so each search watch runs at most every
//! [`super::quota::search_spacing`], whatever the source's `every`. They pass the rules (they
//! are not addressed to the brand) and are answered with a top-level comment on the video.

use super::quota::{search_spacing, Bucket};
use super::wire::{Listing, SearchMark, SearchResult};
use super::{YouTube, SITE, VIDEO_PREFIX};
use crate::domain::text::plain_text;
use crate::domain::{Author, Mention, MentionKey};
use crate::net::Purpose;
use crate::sources::SourceError;

/// Videos published this long before the newest one seen are asked for again.
const OVERLAP: chrono::Duration = chrono::Duration::hours(1);
/// The first search looks this far back.
const FIRST_LOOK: chrono::Duration = chrono::Duration::days(1);

impl YouTube {
    pub(super) async fn search(
        &self,
        query: &str,
        mut mark: SearchMark,
        watches: usize,
    ) -> Result<(Vec<Mention>, Option<SearchMark>), SourceError> {
        let now = self.now();
        let spacing =
            chrono::Duration::from_std(search_spacing(watches, self.quota.allocation().1))
                .unwrap_or(chrono::Duration::hours(1));
        if mark.searched_at.is_some_and(|at| now < at + spacing) {
            return Ok((Vec::new(), None));
        }
        let after = mark
            .newest
            .map_or(now - FIRST_LOOK, |newest| newest - OVERLAP);
        let after = after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let page: Listing<SearchResult> = self
            .call(
                "YouTube search.list",
                Bucket::Search,
                Purpose::Poll,
                1,
                false,
                |http, api| {
                    http.get(format!("{api}/search")).query(&[
                        ("part", "snippet"),
                        ("q", query),
                        ("type", "video"),
                        ("order", "date"),
                        ("maxResults", "50"),
                        ("publishedAfter", after.as_str()),
                    ])
                },
            )
            .await?;
        let mut found = Vec::new();
        for result in page.items {
            let (Some(id), Some(snippet)) = (result.id.and_then(|id| id.video_id), result.snippet)
            else {
                continue;
            };
            let Some(published) = snippet.published_at else {
                continue;
            };
            if snippet.channel_id.as_deref() == Some(self.settings.channel_id.as_str()) {
                continue; // the brand's own upload
            }
            mark.newest = Some(
                mark.newest
                    .map_or(published, |newest| newest.max(published)),
            );
            let title = plain_text(snippet.title.as_deref().unwrap_or_default());
            let description = plain_text(snippet.description.as_deref().unwrap_or_default());
            found.push(Mention {
                key: MentionKey::new(&self.name, format!("{VIDEO_PREFIX}{id}")),
                network: super::TRAITS.network(),
                author: Author {
                    handle: String::new(),
                    name: snippet.channel_title.filter(|name| !name.is_empty()),
                    profile: snippet
                        .channel_id
                        .map(|channel| format!("{SITE}/channel/{channel}")),
                },
                text: format!("{title}\n{description}").trim().to_string(),
                link: Some(format!("{SITE}/watch?v={id}")),
                created_at: published,
                matched: Vec::new(),
                language: None,
                in_reply_to: None,
                direct: false,
                review: None,
            });
        }
        mark.searched_at = Some(now);
        Ok((found, Some(mark)))
    }
}
