//! App Store Connect's JSON:API shapes for customer reviews and their responses, and the one
//! function that turns a review into a [`Mention`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::review::{BusinessReply, Rating, Review};
use crate::domain::{Author, Mention, MentionKey};

/// A page of `GET /v1/apps/{id}/customerReviews?include=response`.
#[derive(Debug, Deserialize)]
pub struct Page {
    #[serde(default)]
    pub data: Vec<CustomerReview>,
    /// The responses the reviews' `response` relationships name.
    #[serde(default)]
    pub included: Vec<Included>,
    #[serde(default)]
    pub links: Links,
}

#[derive(Debug, Default, Deserialize)]
pub struct Links {
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CustomerReview {
    pub id: String,
    #[serde(default)]
    pub attributes: ReviewAttributes,
    #[serde(default)]
    pub relationships: Option<Relationships>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewAttributes {
    pub rating: Option<i64>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub reviewer_nickname: Option<String>,
    pub created_date: Option<String>,
    pub territory: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Relationships {
    pub response: Option<Relation>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Relation {
    pub data: Option<Reference>,
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    pub id: String,
}

/// An included resource; the ones of type `customerReviewResponses` are the developer's
/// responses.
#[derive(Debug, Deserialize)]
pub struct Included {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub attributes: ResponseAttributes,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseAttributes {
    pub response_body: Option<String>,
    /// A response counts whether `PENDING_PUBLISH` or `PUBLISHED` (its `state`): either way
    /// it is the one a new answer replaces.
    pub last_modified_date: Option<String>,
}

/// What `POST /v1/customerReviewResponses` answers.
#[derive(Debug, Deserialize)]
pub struct Created {
    pub data: Included,
}

/// `{"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":…,"detail":…}]}`
#[derive(Debug, Deserialize)]
pub struct Errors {
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorEntry {
    pub code: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
}

impl Errors {
    /// "NOT_AUTHORIZED: Provide a properly configured and signed bearer token…", or `None` when
    /// the body is not Apple's error document.
    pub fn read(body: &[u8]) -> Option<String> {
        let errors: Errors = serde_json::from_slice(body).ok()?;
        let first = errors.errors.into_iter().next()?;
        let code = first.code.unwrap_or_default();
        let said = first.detail.or(first.title).unwrap_or_default();
        Some(
            format!("{code}: {said}")
                .trim_matches([' ', ':'])
                .to_string(),
        )
    }
}

impl Page {
    /// The responses by id.
    pub fn responses(&self) -> HashMap<&str, &ResponseAttributes> {
        self.included
            .iter()
            .filter(|included| included.kind == "customerReviewResponses")
            .map(|included| (included.id.as_str(), &included.attributes))
            .collect()
    }
}

/// Where a review is read: the App Store's page of the app (reviews have no address of their
/// own).
pub fn app_link(app_id: &str) -> String {
    format!("https://apps.apple.com/app/id{app_id}")
}

/// A review as a mention: its stars, title, text, nickname, territory and the developer's
/// response if there is one. A review without a readable rating or date is refused with why.
pub fn to_mention(
    source: &str,
    app_id: &str,
    app_name: Option<&str>,
    review: &CustomerReview,
    responses: &HashMap<&str, &ResponseAttributes>,
) -> Result<Mention, String> {
    let attributes = &review.attributes;
    let rating = attributes
        .rating
        .and_then(|stars| u8::try_from(stars).ok())
        .and_then(Rating::new)
        .ok_or_else(|| {
            format!(
                "App Store review {} has no rating of 1 to 5 ({:?})",
                review.id, attributes.rating
            )
        })?;
    let created_at = attributes
        .created_date
        .as_deref()
        .and_then(time)
        .ok_or_else(|| {
            format!(
                "App Store review {} has no readable createdDate ({:?})",
                review.id, attributes.created_date
            )
        })?;
    let mut found = Review::new(rating);
    found.title = attributes
        .title
        .as_deref()
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .map(str::to_string);
    found.place = app_name.map(str::to_string);
    found.territory = attributes.territory.clone();
    found.reply = review
        .relationships
        .as_ref()
        .and_then(|relationships| relationships.response.as_ref())
        .and_then(|relation| relation.data.as_ref())
        .and_then(|reference| responses.get(reference.id.as_str()))
        .and_then(|response| {
            let text = response.response_body.as_deref()?.trim();
            (!text.is_empty()).then(|| BusinessReply {
                text: text.to_string(),
                at: response.last_modified_date.as_deref().and_then(time),
            })
        });
    let nickname = attributes
        .reviewer_nickname
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty());
    Ok(Mention {
        key: MentionKey::new(source, &review.id),
        network: super::TRAITS.network(),
        author: Author {
            handle: String::new(),
            name: nickname.map(str::to_string),
            profile: None,
        },
        text: attributes
            .body
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_string(),
        link: Some(app_link(app_id)),
        created_at,
        matched: Vec::new(),
        language: None,
        in_reply_to: None,
        direct: true,
        review: Some(found),
    })
}

pub fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of Apple's example response, with a response included.
    const PAGE: &str = r#"{
      "data": [{
        "type": "customerReviews",
        "id": "00000028-b08c-0014-729e-fbd500000000",
        "attributes": {"rating": 2, "title": "Crashes", "body": "Crashes on start\nsince 2.3",
          "reviewerNickname": "Anne Johnson", "createdDate": "2017-11-15T08:10:34-08:00", "territory": "USA"},
        "relationships": {"response": {"data": {"type": "customerReviewResponses", "id": "r-1"},
          "links": {"self": "https://api.appstoreconnect.apple.com/v1/customerReviews/00000028-b08c-0014-729e-fbd500000000/relationships/response"}}},
        "links": {"self": "https://api.appstoreconnect.apple.com/v1/customerReviews/00000028-b08c-0014-729e-fbd500000000"}
      }, {
        "type": "customerReviews", "id": "bad",
        "attributes": {"rating": 9, "createdDate": "2017-11-15T08:10:34-08:00"}
      }],
      "included": [{"type": "customerReviewResponses", "id": "r-1",
        "attributes": {"responseBody": "Fixed in 2.4", "lastModifiedDate": "2017-11-16T10:00:00-08:00", "state": "PUBLISHED"}}],
      "links": {"self": "https://api.appstoreconnect.apple.com/v1/apps/1/customerReviews", "next": "https://api.appstoreconnect.apple.com/v1/apps/1/customerReviews?cursor=Mg.AAAA&limit=2"},
      "meta": {"paging": {"total": 40, "limit": 2}}
    }"#;

    #[test]
    fn a_review_becomes_a_mention_with_its_stars_and_response() {
        let page: Page = serde_json::from_str(PAGE).unwrap();
        assert!(page
            .links
            .next
            .as_deref()
            .unwrap()
            .contains("cursor=Mg.AAAA"));
        let responses = page.responses();
        let mention = to_mention("asc", "1", Some("Acme"), &page.data[0], &responses).unwrap();
        assert_eq!(mention.key.id, "00000028-b08c-0014-729e-fbd500000000");
        assert_eq!(mention.text, "Crashes on start\nsince 2.3");
        assert_eq!(mention.author.name.as_deref(), Some("Anne Johnson"));
        assert_eq!(mention.created_at.to_rfc3339(), "2017-11-15T16:10:34+00:00");
        let review = mention.review.unwrap();
        assert_eq!(review.headline(), "★★☆☆☆ 2/5 · Acme · USA");
        assert_eq!(review.title.as_deref(), Some("Crashes"));
        assert_eq!(review.reply.unwrap().text, "Fixed in 2.4");
        let refused = to_mention("asc", "1", None, &page.data[1], &responses).unwrap_err();
        assert!(refused.contains("no rating of 1 to 5"), "{refused}");
    }

    #[test]
    fn apple_errors_read_as_code_and_detail() {
        let body = br#"{"errors":[{"id":"x","status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid.","detail":"Provide a properly configured and signed bearer token, and make sure that it has not expired."}]}"#;
        assert_eq!(
            Errors::read(body).unwrap(),
            "NOT_AUTHORIZED: Provide a properly configured and signed bearer token, and make sure that it has not expired."
        );
        assert_eq!(Errors::read(b"<html>"), None);
    }
}
