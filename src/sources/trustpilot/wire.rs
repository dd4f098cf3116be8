//! Trustpilot's JSON for the business unit's private reviews, and the one function that turns
//! a review into a [`Mention`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::review::{BusinessReply, Rating, Review};
use crate::domain::{Author, Mention, MentionKey};

/// A page of `GET /v1/private/business-units/{id}/reviews`.
#[derive(Debug, Deserialize)]
pub struct Page {
    #[serde(default)]
    pub reviews: Vec<ServiceReview>,
    #[serde(default)]
    pub links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub struct Link {
    #[serde(default)]
    pub rel: String,
}

impl Page {
    /// Whether a `next-page` link says more pages follow.
    pub fn has_next(&self) -> bool {
        self.links.iter().any(|link| link.rel == "next-page")
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReview {
    pub id: String,
    #[serde(default)]
    pub consumer: Option<Consumer>,
    #[serde(default)]
    pub business_unit: Option<BusinessUnit>,
    pub stars: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub company_reply: Option<CompanyReply>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consumer {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessUnit {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub identifying_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyReply {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

pub fn review_link(id: &str) -> String {
    format!("https://www.trustpilot.com/reviews/{id}")
}

/// A review as a mention: its stars, title, text, the consumer's display name, the business
/// unit's name, its update time, and the company's reply if there is one. A review without
/// readable stars or date is refused with why.
pub fn to_mention(source: &str, review: &ServiceReview) -> Result<Mention, String> {
    let rating = review
        .stars
        .and_then(|stars| u8::try_from(stars).ok())
        .and_then(Rating::new)
        .ok_or_else(|| {
            format!(
                "Trustpilot review {} has no stars of 1 to 5 ({:?})",
                review.id, review.stars
            )
        })?;
    let created_at = review.created_at.as_deref().and_then(time).ok_or_else(|| {
        format!(
            "Trustpilot review {} has no readable createdAt ({:?})",
            review.id, review.created_at
        )
    })?;
    let mut found = Review::new(rating);
    found.title = nonblank(review.title.as_deref());
    found.place = review.business_unit.as_ref().and_then(|unit| {
        nonblank(unit.display_name.as_deref())
            .or_else(|| nonblank(unit.identifying_name.as_deref()))
    });
    found.updated_at = review.updated_at.as_deref().and_then(time);
    found.reply = review.company_reply.as_ref().and_then(|reply| {
        let text = nonblank(reply.text.as_deref())?;
        Some(BusinessReply {
            text,
            at: reply
                .updated_at
                .as_deref()
                .or(reply.created_at.as_deref())
                .and_then(time),
        })
    });
    let consumer = review.consumer.as_ref();
    Ok(Mention {
        key: MentionKey::new(source, &review.id),
        network: super::TRAITS.network(),
        author: Author {
            handle: String::new(),
            name: consumer.and_then(|who| nonblank(who.display_name.as_deref())),
            profile: consumer
                .and_then(|who| who.id.as_deref())
                .map(|id| format!("https://www.trustpilot.com/users/{id}")),
        },
        text: review
            .text
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_string(),
        link: Some(review_link(&review.id)),
        created_at,
        matched: Vec::new(),
        language: nonblank(review.language.as_deref()),
        in_reply_to: None,
        direct: true,
        review: Some(found),
    })
}

/// What an error body says: Trustpilot's `message`/`details`, an OAuth `error_description`,
/// or the gateway's `fault.faultstring`; else the start of the body.
pub fn error_text(body: &[u8]) -> String {
    let snippet = || crate::net::transport::snippet(&String::from_utf8_lossy(body));
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return snippet();
    };
    let said: Vec<&str> = [
        &json["message"],
        &json["details"],
        &json["error"],
        &json["error_description"],
        &json["fault"]["faultstring"],
    ]
    .into_iter()
    .filter_map(Value::as_str)
    .filter(|text| !text.trim().is_empty())
    .collect();
    if said.is_empty() {
        snippet()
    } else {
        said.join(": ")
    }
}

fn nonblank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

pub fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"{
      "links": [{"href": "https://api.trustpilot.com/v1/private/business-units/5f0000000000000000000000/reviews?page=2", "method": "GET", "rel": "next-page"}],
      "reviews": [{
        "id": "61a000000000000000000001",
        "consumer": {"id": "61c000000000000000000001", "displayName": "Jan de Vries", "displayLocation": "Utrecht, NL", "numberOfReviews": 2},
        "businessUnit": {"id": "5f0000000000000000000000", "identifyingName": "acme.nl", "displayName": "Acme"},
        "stars": 1, "title": "Never arrived", "text": "Ordered two weeks ago.", "language": "nl",
        "createdAt": "2026-12-01T09:00:00Z", "updatedAt": "2026-12-02T10:00:00Z",
        "companyReply": {"text": "Sorry Jan, we sent a new one.", "authorBusinessUserId": "5f1111111111111111111111", "authorBusinessUserName": "Acme", "createdAt": "2026-12-02T11:00:00Z", "updatedAt": null},
        "isVerified": true, "status": "active",
        "links": [{"href": "https://api.trustpilot.com/v1/reviews/61a000000000000000000001", "method": "GET", "rel": "reviews"}]
      }, {
        "id": "61a000000000000000000002", "stars": 0, "createdAt": "2026-12-01T09:00:00Z"
      }]
    }"#;

    #[test]
    fn a_review_becomes_a_mention_with_its_stars_and_reply() {
        let page: Page = serde_json::from_str(PAGE).unwrap();
        assert!(page.has_next());
        let mention = to_mention("tp", &page.reviews[0]).unwrap();
        assert_eq!(mention.author.name.as_deref(), Some("Jan de Vries"));
        assert_eq!(mention.text, "Ordered two weeks ago.");
        assert_eq!(mention.language.as_deref(), Some("nl"));
        assert_eq!(
            mention.link.as_deref(),
            Some("https://www.trustpilot.com/reviews/61a000000000000000000001")
        );
        let review = mention.review.unwrap();
        assert_eq!(review.headline(), "★☆☆☆☆ 1/5 · Acme");
        assert_eq!(review.title.as_deref(), Some("Never arrived"));
        assert_eq!(review.updated_at, time("2026-12-02T10:00:00Z"));
        let reply = review.reply.unwrap();
        assert_eq!(reply.text, "Sorry Jan, we sent a new one.");
        assert_eq!(reply.at, time("2026-12-02T11:00:00Z"));
        let refused = to_mention("tp", &page.reviews[1]).unwrap_err();
        assert!(refused.contains("no stars of 1 to 5"), "{refused}");
    }

    #[test]
    fn error_bodies_say_what_trustpilot_said() {
        assert_eq!(
            error_text(br#"{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}"#),
            "Invalid ApiKey"
        );
        assert_eq!(
            error_text(br#"{"message":"Review not found","details":"id 1"}"#),
            "Review not found: id 1"
        );
        assert_eq!(error_text(b"<html>oops</html>"), "<html>oops</html>");
    }
}
