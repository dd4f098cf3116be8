//! Saved replies: the answers a team writes again and again, kept in `replies.toml` and filled
//! in for one mention. Placeholders are `{author}`, `{brand}`, `{number}` and `{link}`; `{{` and
//! `}}` stand for literal braces. Templates are checked when the file is read, so a typo in a
//! placeholder is a config error, not a broken answer.

use std::collections::BTreeMap;

use super::Tracked;

/// The placeholders a saved reply may use.
pub const PLACEHOLDERS: &[&str] = &["author", "brand", "number", "link"];

/// The saved replies by name, in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedReplies {
    /// What `{brand}` becomes.
    pub brand: String,
    pub replies: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder `{{{0}}}`; a saved reply may use {{author}}, {{brand}}, {{number}} and {{link}} (write {{{{ and }}}} for literal braces)")]
    Unknown(String),
    #[error("a `{{` is never closed; write {{{{ for a literal brace")]
    Unclosed,
    #[error("a `}}` closes nothing; write }}}} for a literal brace")]
    Stray,
}

/// The name in an answer text that asks for a saved reply: `:refund` (and nothing else).
pub fn reference(text: &str) -> Option<&str> {
    let name = text.trim().strip_prefix(':')?;
    valid_name(name).then_some(name)
}

/// Reply names: letters, digits, `-` and `_`, so `:name` is one word.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks a template's placeholders without filling it.
pub fn check(template: &str) -> Result<(), TemplateError> {
    fill(template, |_| Some(String::new())).map(|_| ())
}

/// `template` with each placeholder replaced by `value(name)`; `None` is an unknown name.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if tail.starts_with('}') {
            return Err(TemplateError::Stray);
        } else {
            let Some(end) = tail.find('}') else {
                return Err(TemplateError::Unclosed);
            };
            let name = &tail[1..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError::Unknown(name.to_string()));
            }
            out.push_str(&value(name).ok_or_else(|| TemplateError::Unknown(name.to_string()))?);
            rest = &tail[end + 1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

impl SavedReplies {
    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }

    /// Reply `name` filled in for `tracked`. A network that needs the author named for the
    /// reply to reach them (Mastodon) gets the handle in front unless the text already has it.
    pub fn expand(&self, name: &str, tracked: &Tracked) -> Result<String, ExpandError> {
        let template = self
            .replies
            .get(name)
            .ok_or_else(|| ExpandError::NoSuchReply {
                name: name.to_string(),
                known: self.replies.keys().cloned().collect(),
            })?;
        let mention = &tracked.mention;
        let author = match (&mention.author.name, mention.author.handle.as_str()) {
            (Some(name), _) if !name.trim().is_empty() => name.trim().to_string(),
            (_, "") => "there".to_string(),
            (_, handle) => format!("@{handle}"),
        };
        let text = fill(template, |placeholder| {
            Some(match placeholder {
                "author" => author.clone(),
                "brand" => self.brand.clone(),
                "number" => tracked.number.to_string(),
                "link" => mention.link.clone().unwrap_or_default(),
                _ => return None,
            })
        })
        .map_err(|error| ExpandError::Template {
            name: name.to_string(),
            error,
        })?;
        let draft = mention.answer_draft();
        let needs_handle = !draft.is_empty() && !text.contains(draft.trim());
        Ok(if needs_handle {
            format!("{draft}{text}")
        } else {
            text
        })
    }

    /// "refund: Sorry to hear that, {author}! …", one line each.
    pub fn listing(&self, prefix: &str) -> String {
        if self.replies.is_empty() {
            return "No saved replies yet: add them to replies.toml beside the config, like `[replies.thanks]` with `text = \"Thank you, {author}!\"`.".to_string();
        }
        let mut text = format!(
            "Saved replies ({}); answer with one: `{prefix} answer N :name`",
            self.replies.len()
        );
        for (name, template) in &self.replies {
            let flat = template.split_whitespace().collect::<Vec<_>>().join(" ");
            text.push_str(&format!("\n  :{name} · {flat}"));
        }
        text
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("There is no saved reply `:{name}`; {}", known_list(.known))]
    NoSuchReply { name: String, known: Vec<String> },
    #[error("The saved reply `:{name}` is broken: {error}")]
    Template { name: String, error: TemplateError },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none are saved (replies.toml beside the config).".to_string()
    } else {
        format!(
            "the saved ones are {}.",
            known
                .iter()
                .map(|name| format!(":{name}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::examples::{LONG, NAMING};
    use crate::domain::Network;

    fn tracked(network: Network, name: Option<&str>, handle: &str) -> Tracked {
        let mut tracked = crate::domain::examples::tracked(network);
        let mention = &mut tracked.mention;
        mention.author.handle = handle.into();
        mention.author.name = name.map(Into::into);
        mention.text = "my order never came".into();
        mention.link = Some("https://x.example/status/1".into());
        tracked
    }

    fn saved() -> SavedReplies {
        SavedReplies {
            brand: "Acme".into(),
            replies: [
                (
                    "refund".to_string(),
                    "Sorry, {author}! {brand} will refund #{number} ({link}). {{ok}}".to_string(),
                ),
                ("thanks".to_string(), "Thank you, {author}!".to_string()),
            ]
            .into(),
        }
    }

    #[test]
    fn placeholders_are_filled_for_the_mention() {
        let cases = [
            (
                LONG,
                Some("Jane Doe"),
                "jane",
                "refund",
                "Sorry, Jane Doe! Acme will refund #12 (https://x.example/status/1). {ok}",
            ),
            (LONG, None, "jane", "thanks", "Thank you, @jane!"),
            (LONG, Some("  "), "", "thanks", "Thank you, there!"),
            // Mastodon only delivers a reply that names its author.
            (
                NAMING,
                None,
                "jane@example.social",
                "thanks",
                // {author} named the handle already, as Mastodon needs for the reply to reach them.
                "Thank you, @jane@example.social!",
            ),
            (
                NAMING,
                Some("Jane"),
                "jane@example.social",
                "thanks",
                "@jane@example.social Thank you, Jane!",
            ),
        ];
        for (network, name, handle, reply, expected) in cases {
            let text = saved()
                .expand(reply, &tracked(network, name, handle))
                .unwrap();
            assert_eq!(text, expected, "{network} {reply}");
        }
    }

    #[test]
    fn unknown_names_and_placeholders_are_clear_errors() {
        let error = saved()
            .expand("refnud", &tracked(LONG, None, "jane"))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "There is no saved reply `:refnud`; the saved ones are :refund, :thanks."
        );
        assert_eq!(
            check("Hi {autor}").unwrap_err().to_string(),
            "unknown placeholder `{autor}`; a saved reply may use {author}, {brand}, {number} and {link} (write {{ and }} for literal braces)"
        );
        assert_eq!(check("Hi {author").unwrap_err(), TemplateError::Unclosed);
        assert_eq!(check("Hi author}").unwrap_err(), TemplateError::Stray);
        assert_eq!(check("{{literal}} {number}"), Ok(()));
    }

    #[test]
    fn only_a_lone_colon_name_is_a_reference() {
        assert_eq!(reference(":refund"), Some("refund"));
        assert_eq!(reference("  :thanks-2 "), Some("thanks-2"));
        assert_eq!(reference(":) thanks"), None);
        assert_eq!(reference(":refund and more"), None);
        assert_eq!(reference("refund"), None);
        assert_eq!(reference(":"), None);
    }

    #[test]
    fn the_listing_names_each_reply() {
        let text = saved().listing("/mentions");
        assert!(text.starts_with("Saved replies (2); answer with one: `/mentions answer N :name`"));
        assert!(text.contains("\n  :thanks · Thank you, {author}!"));
        assert!(SavedReplies::default()
            .listing("/m")
            .starts_with("No saved replies yet"));
    }
}
