//! Answering: `POST /v1/private/reviews/{id}/reply` sets the company reply, replacing the one
//! there (Trustpilot keeps one per review), so a retry after a lost response writes the same
//! text over itself, never a second reply.

use reqwest::Method;
use serde_json::json;

use super::{wire, Trustpilot};
use crate::domain::Mention;
use crate::net::{Failure, Purpose};
use crate::sources::Posted;

impl Trustpilot {
    pub(super) async fn post_reply(
        &self,
        mention: &Mention,
        text: &str,
    ) -> Result<Posted, Failure> {
        let review = &mention.key.id;
        let url = self.url(&format!("/v1/private/reviews/{review}/reply"));
        let body = json!({
            "authorBusinessUserId": self.settings.business_user_id,
            "message": text,
        });
        self.call(
            "Trustpilot (replying to a review)",
            Purpose::Answer,
            Method::POST,
            &url,
            &[],
            Some(&body),
            "the review is gone (the reviewer deleted it, or Trustpilot removed it)",
        )
        .await?;
        Ok(Posted {
            link: Some(wire::review_link(review)),
            id: None,
        })
    }
}
