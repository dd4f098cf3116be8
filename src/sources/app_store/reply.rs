//! Answering: `POST /v1/customerReviewResponses` creates the developer response, or replaces
//! the one there (Apple keeps at most one per review), so a retry after a lost response posts
//! the same text over itself, never a second response. Should Apple refuse the overwrite (409,
//! as a response still pending review can be), the response there is read: if it is already
//! this text the answer is delivered; otherwise it is deleted and the answer posted again.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::wire::{self, Created};
use super::{AppStore, Refused};
use crate::domain::Mention;
use crate::net::transport::decode;
use crate::net::{Failure, Purpose};
use crate::sources::Posted;

const WHAT: &str = "App Store Connect (responding to a review)";

impl AppStore {
    pub(super) async fn respond(&self, mention: &Mention, text: &str) -> Result<Posted, Failure> {
        let review = &mention.key.id;
        match self.post(review, text).await {
            Err(Refused {
                status: Some(StatusCode::CONFLICT),
                ..
            }) => {
                tracing::info!(source = %self.name, review, "App Store Connect kept the earlier response; replacing it");
                let (id, body) = match self.current(review).await? {
                    Some(current) => current,
                    None => return Ok(self.post(review, text).await?),
                };
                if body.trim() == text.trim() {
                    return Ok(self.posted(Some(id)));
                }
                self.delete(&id).await?;
                Ok(self.post(review, text).await?)
            }
            other => Ok(other?),
        }
    }

    async fn post(&self, review: &str, text: &str) -> Result<Posted, Refused> {
        let body = json!({
            "data": {
                "type": "customerReviewResponses",
                "attributes": {"responseBody": text},
                "relationships": {"review": {"data": {"type": "customerReviews", "id": review}}}
            }
        });
        let url = self.url("/v1/customerReviewResponses");
        let (status, answer) = self
            .call(
                WHAT,
                Purpose::Answer,
                Method::POST,
                &url,
                &[],
                Some(&body),
                GONE,
            )
            .await?;
        let id = if status == StatusCode::NO_CONTENT {
            None
        } else {
            decode::<Created>(WHAT, &answer)
                .ok()
                .map(|created| created.data.id)
        };
        Ok(self.posted(id))
    }

    /// The response under `review` now: its id and text.
    async fn current(&self, review: &str) -> Result<Option<(String, String)>, Failure> {
        let what = "App Store Connect (the review's response)";
        let url = self.url(&format!("/v1/customerReviews/{review}/response"));
        match self
            .call(what, Purpose::Answer, Method::GET, &url, &[], None, GONE)
            .await
        {
            Ok((_, body)) => {
                let created: Created = decode(what, &body)?;
                let text = created.data.attributes.response_body.unwrap_or_default();
                Ok(Some((created.data.id, text)))
            }
            Err(Refused {
                status: Some(StatusCode::NOT_FOUND),
                ..
            }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    async fn delete(&self, response: &str) -> Result<(), Failure> {
        let what = "App Store Connect (deleting the earlier response)";
        let url = self.url(&format!("/v1/customerReviewResponses/{response}"));
        match self
            .call(what, Purpose::Answer, Method::DELETE, &url, &[], None, GONE)
            .await
        {
            // Gone already: what matters is that it is not there.
            Err(Refused {
                status: Some(StatusCode::NOT_FOUND),
                ..
            }) => Ok(()),
            other => other.map(|_| ()).map_err(Failure::from),
        }
    }

    fn posted(&self, id: Option<String>) -> Posted {
        Posted {
            link: Some(wire::app_link(&self.settings.app_id)),
            id,
        }
    }
}

/// What a 404 means when answering.
const GONE: &str = "the review is gone (the reviewer deleted it, or Apple removed it)";
