//! LinkedIn's REST JSON shapes earshot reads (Rest.li 2.0 collections, notifications, posts,
//! comments). Every field is optional: a missing one skips the item.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Elements<T> {
    #[serde(default = "Vec::new")]
    pub elements: Vec<T>,
    pub paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    pub total: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub action: Option<String>,
    pub source_post: Option<String>,
    pub generated_activity: Option<String>,
    pub last_modified_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Post {
    pub id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    #[serde(rename = "$URN")]
    pub dollar_urn: Option<String>,
    pub comment_urn: Option<String>,
    pub actor: Option<String>,
    pub message: Option<Message>,
    pub created: Option<Stamp>,
    pub comments_summary: Option<Summary>,
    pub parent_comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub text: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Stamp {
    pub time: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub aggregated_total_comments: Option<u32>,
    pub total_first_level_comments: Option<u32>,
}

impl Comment {
    pub fn urn(&self) -> Option<String> {
        self.comment_urn.clone().or_else(|| self.dollar_urn.clone())
    }
}

/// The activity a comment URN belongs to: `urn:li:comment:(urn:li:activity:1,2)` ->
/// `urn:li:activity:1`.
pub fn comment_object(urn: &str) -> Option<String> {
    comment_parts(urn).map(|(object, _)| object)
}

/// The activity a comment URN belongs to and the comment's own id:
/// `urn:li:comment:(urn:li:activity:1,2)` -> (`urn:li:activity:1`, `2`).
pub fn comment_parts(urn: &str) -> Option<(String, String)> {
    let inner = urn.strip_prefix("urn:li:comment:(")?.strip_suffix(')')?;
    let (object, id) = inner.rsplit_once(',')?;
    Some((object.to_string(), id.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_comment_urn_names_its_activity() {
        assert_eq!(
            super::comment_object("urn:li:comment:(urn:li:activity:7000,6999)").as_deref(),
            Some("urn:li:activity:7000")
        );
        assert_eq!(super::comment_object("urn:li:share:1"), None);
        assert_eq!(
            super::comment_parts("urn:li:comment:(urn:li:ugcPost:7000,6999)"),
            Some(("urn:li:ugcPost:7000".to_string(), "6999".to_string()))
        );
    }
}
