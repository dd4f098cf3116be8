//! The Google Play Developer API's JSON (`androidpublisher` v3 `reviews`), and a review as a
//! mention, in one function.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{Author, BusinessReply, Mention, MentionKey, Rating, Review};

const STORE: &str = "https://play.google.com/store/apps/details";

/// `reviews.list`: a page of the last week's reviews, newest first.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewPage {
    #[serde(default)]
    pub reviews: Vec<PlayReview>,
    pub token_pagination: Option<TokenPagination>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPagination {
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayReview {
    pub review_id: Option<String>,
    pub author_name: Option<String>,
    /// The reviewer's comment, then the developer's reply if there is one.
    #[serde(default)]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub user_comment: Option<UserComment>,
    pub developer_comment: Option<DeveloperComment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserComment {
    pub text: Option<String>,
    pub last_modified: Option<Timestamp>,
    pub star_rating: Option<i64>,
    pub reviewer_language: Option<String>,
    pub app_version_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperComment {
    pub text: Option<String>,
    pub last_modified: Option<Timestamp>,
}

/// `{"seconds": "1733130000", "nanos": 0}`: protobuf's int64 comes as a string, or a number.
#[derive(Debug, Deserialize)]
pub struct Timestamp {
    pub seconds: Option<serde_json::Value>,
    #[serde(default)]
    pub nanos: u32,
}

impl Timestamp {
    pub fn at(&self) -> Option<DateTime<Utc>> {
        let seconds = match self.seconds.as_ref()? {
            serde_json::Value::String(text) => text.trim().parse::<i64>().ok()?,
            serde_json::Value::Number(number) => number.as_i64()?,
            _ => return None,
        };
        DateTime::from_timestamp(seconds, self.nanos.min(999_999_999))
    }
}

/// `en_GB`, `pt-BR` → `en`, `pt`: the language tag the complaint lexicons are keyed by.
fn language(tag: &str) -> Option<String> {
    let primary = tag.split(['_', '-']).next()?.trim().to_ascii_lowercase();
    (primary.len() >= 2 && primary.chars().all(|c| c.is_ascii_alphabetic())).then_some(primary)
}

impl PlayReview {
    fn user(&self) -> Option<&UserComment> {
        self.comments.iter().find_map(|c| c.user_comment.as_ref())
    }

    fn developer(&self) -> Option<&DeveloperComment> {
        self.comments
            .iter()
            .find_map(|c| c.developer_comment.as_ref())
    }

    /// When the reviewer last changed it.
    pub fn changed(&self) -> Option<DateTime<Utc>> {
        self.user()?.last_modified.as_ref()?.at()
    }

    /// The review as a mention of app `package` for `source`, or why it cannot be one. Play
    /// gives no creation time: the first read's `lastModified` stands for it.
    pub fn mention(&self, source: &str, package: &str) -> Result<Mention, String> {
        let id = self
            .review_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or("a review without reviewId")?;
        let user = self
            .user()
            .ok_or_else(|| format!("review {id} has no userComment"))?;
        let changed = self
            .changed()
            .ok_or_else(|| format!("review {id} has no lastModified"))?;
        let review = user
            .star_rating
            .and_then(|stars| u8::try_from(stars).ok())
            .and_then(Rating::new)
            .map(|rating| Review {
                place: Some(package.to_string()),
                version: user.app_version_name.clone().filter(|v| !v.is_empty()),
                updated_at: Some(changed),
                reply: self.reply(),
                ..Review::new(rating)
            });
        Ok(Mention {
            key: MentionKey::new(source, id),
            network: super::TRAITS.network(),
            author: Author {
                handle: String::new(),
                name: self
                    .author_name
                    .clone()
                    .filter(|name| !name.trim().is_empty()),
                profile: None,
            },
            // Play starts many texts with a tab.
            text: user.text.clone().unwrap_or_default().trim().to_string(),
            link: Some(format!("{STORE}?id={package}&reviewId={id}")),
            created_at: changed,
            matched: Vec::new(),
            language: user.reviewer_language.as_deref().and_then(language),
            in_reply_to: None,
            direct: true,
            review,
        })
    }

    fn reply(&self) -> Option<BusinessReply> {
        let developer = self.developer()?;
        let text = developer.text.as_deref()?.trim();
        (!text.is_empty()).then(|| BusinessReply {
            text: text.to_string(),
            at: developer.last_modified.as_ref().and_then(Timestamp::at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_review_reads_as_a_mention_with_its_stars_version_and_reply() {
        let page: ReviewPage = serde_json::from_str(
            r#"{"reviews": [{
                "reviewId": "gp:AOqpTOH",
                "authorName": "Kim",
                "comments": [
                  {"userComment": {"text": "\tCrashes on start", "lastModified": {"seconds": "1796202000", "nanos": 500},
                    "starRating": 1, "reviewerLanguage": "en_GB", "device": "a51", "androidOsVersion": 33,
                    "appVersionCode": 231, "appVersionName": "2.3.1", "thumbsUpCount": 0, "thumbsDownCount": 0}},
                  {"developerComment": {"text": "Fixed in 2.3.2", "lastModified": {"seconds": 1796205600, "nanos": 0}}}
                ]}],
              "tokenPagination": {"nextPageToken": "next"},
              "pageInfo": {"totalResults": 1, "resultPerPage": 100, "startIndex": 0}}"#,
        )
        .unwrap();
        assert_eq!(
            page.token_pagination.unwrap().next_page_token.as_deref(),
            Some("next")
        );
        let mention = page.reviews[0].mention("play", "com.acme.app").unwrap();
        assert_eq!(mention.text, "Crashes on start");
        assert_eq!(mention.language.as_deref(), Some("en"));
        assert_eq!(mention.created_at.timestamp(), 1_796_202_000);
        assert_eq!(
            mention.link.as_deref(),
            Some("https://play.google.com/store/apps/details?id=com.acme.app&reviewId=gp:AOqpTOH")
        );
        let review = mention.review.unwrap();
        assert_eq!(review.headline(), "★☆☆☆☆ 1/5 · com.acme.app · v2.3.1");
        let reply = review.reply.unwrap();
        assert_eq!(reply.text, "Fixed in 2.3.2");
        assert_eq!(reply.at.unwrap().timestamp(), 1_796_205_600);
        let bare: PlayReview =
            serde_json::from_str(r#"{"reviewId": "x", "comments": []}"#).unwrap();
        assert!(bare
            .mention("play", "com.acme.app")
            .unwrap_err()
            .contains("no userComment"));
    }

    #[test]
    fn languages_are_reduced_to_their_primary_tag() {
        assert_eq!(language("pt-BR").as_deref(), Some("pt"));
        assert_eq!(language("nl").as_deref(), Some("nl"));
        assert_eq!(language(""), None);
        assert_eq!(language("419"), None);
    }
}
