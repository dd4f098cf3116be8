//! `[replies]` and the saved replies file (`replies.toml` beside the config unless `file`
//! names another). Every template is checked here, so an unknown placeholder is reported by
//! `earshot check` with the replies file, the line and the key, not when someone answers.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{line_of, ConfigError, EnvString};
use crate::domain::replies::{check, valid_name, SavedReplies};

const DEFAULT_FILE: &str = "replies.toml";

/// What went wrong in the config file itself: the span, the key, the message.
pub(super) type Problem = (Option<Range<usize>>, String, String);

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRepliesSection {
    file: Option<Spanned<EnvString>>,
    /// What `{brand}` becomes.
    brand: Option<Spanned<EnvString>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    replies: BTreeMap<String, Spanned<RawReply>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    text: Spanned<String>,
}

/// Where the replies come from, and the failure that names the config's own line.
pub(super) enum Failure {
    Config(Problem),
    File(ConfigError),
}

pub(super) fn load(
    base: &Path,
    section: Option<RawRepliesSection>,
) -> Result<SavedReplies, Failure> {
    let section = section.unwrap_or_default();
    let brand = section
        .brand
        .as_ref()
        .map(|brand| brand.get_ref().0.trim().to_string())
        .unwrap_or_default();
    let (path, named): (PathBuf, bool) = match &section.file {
        Some(file) => (base.join(&file.get_ref().0), true),
        None => (base.join(DEFAULT_FILE), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // No file beside the config: no saved replies, which is fine.
        Err(error) if !named && error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(SavedReplies {
                brand,
                replies: BTreeMap::new(),
            })
        }
        Err(error) => {
            return Err(Failure::Config((
                section.file.as_ref().map(Spanned::span),
                "replies.file".into(),
                format!(
                    "cannot read the saved replies at {}: {error}",
                    path.display()
                ),
            )))
        }
    };
    parse(&path, &text, brand).map_err(Failure::File)
}

fn parse(path: &Path, text: &str, brand: String) -> Result<SavedReplies, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|error| ConfigError::Parse {
        file: path.to_path_buf(),
        message: error.to_string().trim_end().to_string(),
    })?;
    let invalid = |at: Range<usize>, key: String, message: String| ConfigError::Invalid {
        file: path.to_path_buf(),
        line: Some(line_of(text, at.start)),
        key,
        message,
    };
    let mut replies = BTreeMap::new();
    for (name, reply) in raw.replies {
        let at = reply.span();
        let reply = reply.into_inner();
        if !valid_name(&name) {
            return Err(invalid(
                at,
                format!("replies.{name}"),
                format!("`{name}` is not a usable reply name; use letters, digits, `-` and `_`, so that `:{name}` is one word"),
            ));
        }
        let template = reply.text.get_ref();
        let key = format!("replies.{name}.text");
        if template.trim().is_empty() {
            return Err(invalid(reply.text.span(), key, "the reply is empty".into()));
        }
        check(template)
            .map_err(|error| invalid(reply.text.span(), key.clone(), error.to_string()))?;
        if template.contains("{brand}") && brand.is_empty() {
            return Err(invalid(
                reply.text.span(),
                key,
                "the reply uses {brand}, but no brand is set; add `brand = \"Acme\"` under [replies] in the config".into(),
            ));
        }
        replies.insert(name, template.clone());
    }
    Ok(SavedReplies { brand, replies })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<SavedReplies, String> {
        parse(Path::new("bot-config/replies.toml"), text, "Acme".into())
            .map_err(|error| error.to_string())
    }

    #[test]
    fn replies_are_read_and_checked_with_file_line_and_key() {
        let ok = parsed(
            "[replies.refund]\ntext = \"Sorry, {author}! {brand} will sort it.\"\n\n[replies.thanks]\ntext = \"Thanks!\"\n",
        )
        .unwrap();
        assert_eq!(ok.replies.len(), 2);
        assert_eq!(ok.brand, "Acme");
        assert_eq!(
            parsed("[replies.refund]\ntext = \"ok\"\n\n[replies.bad]\ntext = \"Hi {autor}\"\n").unwrap_err(),
            "bot-config/replies.toml: line 5: replies.bad.text: unknown placeholder `{autor}`; a saved reply may use {author}, {brand}, {number} and {link} (write {{ and }} for literal braces)"
        );
        assert_eq!(
            parsed("[replies.\"two words\"]\ntext = \"x\"\n").unwrap_err(),
            "bot-config/replies.toml: line 1: replies.two words: `two words` is not a usable reply name; use letters, digits, `-` and `_`, so that `:two words` is one word"
        );
        assert!(parsed("[replies.x]\ntext = \"  \"\n")
            .unwrap_err()
            .contains("replies.x.text: the reply is empty"));
        assert!(parsed("[replies.x]\nbody = \"hi\"\n")
            .unwrap_err()
            .contains("unknown field `body`"));
        let no_brand = parse(
            Path::new("r.toml"),
            "[replies.x]\ntext = \"{brand}\"\n",
            String::new(),
        );
        assert!(no_brand
            .unwrap_err()
            .to_string()
            .contains("no brand is set"));
    }
}
