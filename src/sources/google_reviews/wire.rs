//! The Business Profile API's JSON (v4 `accounts.locations.reviews`), and a review as a
//! mention, in one function.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{Author, BusinessReply, Mention, MentionKey, Rating, Review};

/// `reviews.list`: a page of reviews, newest change first.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewPage {
    #[serde(default)]
    pub reviews: Vec<GoogleReview>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleReview {
    /// `accounts/{a}/locations/{l}/reviews/{id}`.
    pub name: Option<String>,
    pub review_id: Option<String>,
    pub reviewer: Option<Reviewer>,
    /// `ONE` to `FIVE`, or `STAR_RATING_UNSPECIFIED`.
    pub star_rating: Option<String>,
    pub comment: Option<String>,
    pub create_time: Option<DateTime<Utc>>,
    pub update_time: Option<DateTime<Utc>>,
    pub review_reply: Option<ReviewReply>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reviewer {
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_anonymous: bool,
}

/// The business's reply, as listed under a review and as `updateReply` returns it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewReply {
    pub comment: Option<String>,
    pub update_time: Option<DateTime<Utc>>,
}

/// Google's star rating as stars; `None` for `STAR_RATING_UNSPECIFIED` or a value Google adds.
pub fn stars(rating: &str) -> Option<Rating> {
    let stars = match rating {
        "ONE" => 1,
        "TWO" => 2,
        "THREE" => 3,
        "FOUR" => 4,
        "FIVE" => 5,
        _ => return None,
    };
    Rating::new(stars)
}

impl GoogleReview {
    /// The review's id: `reviewId`, else the last part of its `name`.
    pub fn id(&self) -> Option<&str> {
        self.review_id
            .as_deref()
            .or_else(|| self.name.as_deref()?.rsplit('/').next())
            .filter(|id| !id.is_empty())
    }

    /// When the reviewer last changed it (Google lists newest change first).
    pub fn changed(&self) -> Option<DateTime<Utc>> {
        self.update_time.or(self.create_time)
    }

    /// The review as a mention for `source`, or why it cannot be one. A review whose rating
    /// Google does not give (`STAR_RATING_UNSPECIFIED`) is still relayed, without stars.
    pub fn mention(&self, source: &str) -> Result<Mention, String> {
        let id = self.id().ok_or("a review without reviewId or name")?;
        let created_at = self
            .create_time
            .or(self.update_time)
            .ok_or_else(|| format!("review {id} has no createTime"))?;
        let review = self
            .star_rating
            .as_deref()
            .and_then(stars)
            .map(|rating| Review {
                updated_at: self.update_time,
                reply: self.reply(),
                ..Review::new(rating)
            });
        let reviewer = self.reviewer.as_ref();
        let name = match reviewer {
            Some(reviewer) if reviewer.is_anonymous => Some("Anonymous reviewer".to_string()),
            Some(reviewer) => reviewer
                .display_name
                .clone()
                .filter(|name| !name.trim().is_empty()),
            None => None,
        };
        Ok(Mention {
            key: MentionKey::new(source, id),
            network: super::TRAITS.network(),
            author: Author {
                handle: String::new(),
                name,
                profile: None,
            },
            text: self.comment.clone().unwrap_or_default().trim().to_string(),
            link: None,
            created_at,
            matched: Vec::new(),
            language: None,
            in_reply_to: None,
            direct: true,
            review,
        })
    }

    fn reply(&self) -> Option<BusinessReply> {
        let reply = self.review_reply.as_ref()?;
        let text = reply.comment.as_deref()?.trim();
        (!text.is_empty()).then(|| BusinessReply {
            text: text.to_string(),
            at: reply.update_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_review_reads_as_a_mention_with_its_stars_and_reply() {
        let page: ReviewPage = serde_json::from_str(
            r#"{"reviews": [{
                "name": "accounts/1/locations/2/reviews/AbC",
                "reviewId": "AbC",
                "reviewer": {"profilePhotoUrl": "https://lh3.example/p.png", "displayName": "Jane D", "isAnonymous": false},
                "starRating": "TWO",
                "comment": " Cold coffee ",
                "createTime": "2026-12-01T09:00:00.123Z",
                "updateTime": "2026-12-02T09:00:00Z",
                "reviewReply": {"comment": "Sorry, Jane!", "updateTime": "2026-12-02T10:00:00Z"}
              }, {
                "name": "accounts/1/locations/2/reviews/XyZ",
                "reviewer": {"isAnonymous": true},
                "starRating": "STAR_RATING_UNSPECIFIED",
                "createTime": "2026-12-01T08:00:00Z",
                "updateTime": "2026-12-01T08:00:00Z"
              }],
              "averageRating": 3.5, "totalReviewCount": 2, "nextPageToken": "p2"}"#,
        )
        .unwrap();
        assert_eq!(page.next_page_token.as_deref(), Some("p2"));
        let first = page.reviews[0].mention("gbp").unwrap();
        assert_eq!(first.key, MentionKey::new("gbp", "AbC"));
        assert_eq!(first.text, "Cold coffee");
        assert_eq!(first.author.display(), "Jane D");
        let review = first.review.unwrap();
        assert_eq!(review.rating.stars(), 2);
        assert_eq!(review.reply.unwrap().text, "Sorry, Jane!");
        assert_eq!(review.updated_at, page.reviews[0].update_time);
        let second = page.reviews[1].mention("gbp").unwrap();
        assert_eq!(second.key.id, "XyZ", "the id from the name");
        assert_eq!(second.review, None, "no stars to show");
        assert_eq!(second.author.display(), "Anonymous reviewer");
        assert_eq!(second.text, "");
        assert!(GoogleReview {
            name: None,
            review_id: None,
            reviewer: None,
            star_rating: None,
            comment: None,
            create_time: None,
            update_time: None,
            review_reply: None,
        }
        .mention("gbp")
        .is_err());
    }

    #[test]
    fn star_ratings_are_googles_words() {
        let read: Vec<Option<u8>> = [
            "ONE",
            "TWO",
            "THREE",
            "FOUR",
            "FIVE",
            "STAR_RATING_UNSPECIFIED",
            "SIX",
        ]
        .iter()
        .map(|word| stars(word).map(Rating::stars))
        .collect();
        assert_eq!(
            read,
            vec![Some(1), Some(2), Some(3), Some(4), Some(5), None, None]
        );
    }
}
