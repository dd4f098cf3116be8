//! A comment's text read again: LinkedIn's Data Storage Requirements let earshot keep a copy
//! of a member's comment for 48 hours, so a mention still owed an answer is read again before
//! then (`domain::retention`), and one LinkedIn no longer has (404) is dropped.

use super::wire::{self, Comment};
use super::{encode, LinkedIn};
use crate::domain::{Mention, Reread};
use crate::net::{read_json, Failure, Purpose};

impl LinkedIn {
    /// `GET socialActions/{activity}/comments/{id}` for a comment mention; a mention of the
    /// Page in a post holds earshot's own words ("mentioned the Page in a post"), so there is
    /// nothing to read again.
    pub(super) async fn reread(&self, mention: &Mention) -> Result<Reread, Failure> {
        let Some((object, id)) = wire::comment_parts(&mention.key.id) else {
            return Ok(Reread::Unsupported);
        };
        let (object, id) = (encode(&object), encode(&id));
        let what = "LinkedIn comment read again";
        let response = self
            .respond(what, Purpose::Poll, |http, api| {
                http.get(format!("{api}/socialActions/{object}/comments/{id}"))
            })
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(Reread::Gone);
        }
        let response = self.transport.check(what, response).await?;
        let comment: Comment = read_json(what, response).await?;
        match comment.message.and_then(|message| message.text) {
            Some(text) => Ok(Reread::Text(text)),
            None => Err(Failure::Permanent(format!(
                "{what}: LinkedIn's answer holds no message text"
            ))),
        }
    }
}
