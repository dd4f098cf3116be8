//! A `[[sources]]` section's keys as the network reads them: each network's folder asks for
//! the keys it takes (`required`, `secret`, `base_url`, `watch`, ...) and the section reports
//! any key it did not ask for. Every error keeps the key and, when the key is present, the line
//! of its value; a missing key names the section's line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::expand_env;
use crate::net::oauth::OAuth;
use crate::net::Secret;

/// A mistake in one source's keys; the config adds the file and turns the span into a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub span: Option<Range<usize>>,
    /// A key no network knows (a typo): reported where the key starts, line and column, like
    /// the TOML parser's own errors.
    pub unknown: bool,
    /// The key, without the `sources[N].` prefix.
    pub key: String,
    pub message: String,
}

/// The keys of one source section, minus the ones every source has (`kind`, `name`, `every`,
/// `rules`), which the config reads itself.
pub struct Keys<'a> {
    kind: &'a str,
    section: Range<usize>,
    base: &'a Path,
    table: BTreeMap<String, Spanned<toml::Value>>,
}

impl<'a> Keys<'a> {
    pub(super) fn new(
        kind: &'a str,
        section: Range<usize>,
        base: &'a Path,
        table: BTreeMap<String, Spanned<toml::Value>>,
    ) -> Keys<'a> {
        Keys {
            kind,
            section,
            base,
            table,
        }
    }

    /// The folder of the config file: relative paths start there.
    pub fn base(&self) -> &Path {
        self.base
    }

    /// Where `key`'s value is, or the section when the key is absent.
    pub fn span(&self, key: &str) -> Range<usize> {
        self.table
            .get(key)
            .map_or(self.section.clone(), Spanned::span)
    }

    pub fn error(&self, key: &str, message: impl Into<String>) -> KeyError {
        KeyError {
            span: Some(self.span(key)),
            unknown: false,
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// A string key, with `${VAR}` read from the environment.
    pub fn string(&self, key: &str) -> Result<Option<String>, KeyError> {
        let Some(value) = self.table.get(key) else {
            return Ok(None);
        };
        match value.get_ref() {
            toml::Value::String(text) => expand(text)
                .map(Some)
                .map_err(|message| self.error(key, message)),
            other => Err(self.error(
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    /// A string key that must be there and not blank; `what` says what it is for.
    pub fn required(&self, key: &str, what: &str) -> Result<String, KeyError> {
        self.string(key)?
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| KeyError {
                span: Some(self.section.clone()),
                unknown: false,
                key: key.to_string(),
                message: format!("a {} source needs `{key}`: {what}", self.kind),
            })
    }

    pub fn secret(&self, key: &str, what: &str) -> Result<Secret, KeyError> {
        self.required(key, what).map(Secret::new)
    }

    /// An optional secret; a blank one counts as absent.
    pub fn optional_secret(&self, key: &str) -> Result<Option<Secret>, KeyError> {
        Ok(self
            .string(key)?
            .filter(|value| !value.trim().is_empty())
            .map(Secret::new))
    }

    /// An http(s) base URL, or `default`.
    pub fn base_url(&self, key: &str, default: &str) -> Result<String, KeyError> {
        let Some(url) = self.string(key)? else {
            return Ok(default.to_string());
        };
        match url::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url),
            _ => Err(self.error(key, format!("`{url}` is not an http(s) URL"))),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, KeyError> {
        match self.table.get(key).map(Spanned::get_ref) {
            None => Ok(None),
            Some(toml::Value::Boolean(value)) => Ok(Some(*value)),
            Some(other) => Err(self.error(
                key,
                format!(
                    "expected a boolean (true or false), found {}",
                    other.type_str()
                ),
            )),
        }
    }

    /// A whole number within `range`, when the key is present.
    pub fn number(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<Option<u32>, KeyError> {
        let expected = || {
            format!(
                "expected a whole number from {} to {}",
                range.start(),
                range.end()
            )
        };
        match self.table.get(key).map(Spanned::get_ref) {
            None => Ok(None),
            Some(toml::Value::Integer(value)) => match u32::try_from(*value) {
                Ok(value) if range.contains(&value) => Ok(Some(value)),
                _ => Err(self.error(key, format!("{}, found {value}", expected()))),
            },
            Some(other) => {
                Err(self.error(key, format!("{}, found {}", expected(), other.type_str())))
            }
        }
    }

    /// The `watch` list, each entry read by `parse`; `default` when the key is absent.
    pub fn watch<W>(
        &self,
        default: &[&str],
        parse: impl Fn(&str) -> Result<W, String>,
    ) -> Result<Vec<W>, KeyError> {
        let items: Vec<String> = match self.table.get("watch").map(Spanned::get_ref) {
            None => default.iter().map(|item| item.to_string()).collect(),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(text) => {
                        expand(text).map_err(|message| self.error("watch", message))
                    }
                    other => Err(self.error(
                        "watch",
                        format!("expected a list of strings, found {}", other.type_str()),
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(self.error(
                    "watch",
                    format!("expected a list of strings, found {}", other.type_str()),
                ))
            }
        };
        items
            .iter()
            .map(|item| parse(item).map_err(|message| self.error("watch", message)))
            .collect()
    }

    /// An OAuth refresh grant: `client_id`, `client_secret` and `refresh_token` together (or
    /// none of them), and `token_url` or `default_token_url`. `purpose` says what the grant is
    /// for, in the errors: "to answer as the channel".
    pub fn refresh_grant(
        &self,
        default_token_url: &str,
        purpose: &str,
    ) -> Result<Option<OAuth>, KeyError> {
        const GRANT: [&str; 3] = ["client_id", "client_secret", "refresh_token"];
        let mut set = [None, None, None];
        for (slot, key) in set.iter_mut().zip(GRANT) {
            *slot = self
                .string(key)?
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty());
        }
        match set {
            [Some(client_id), Some(client_secret), Some(refresh_token)] => Ok(Some(OAuth {
                client_id,
                client_secret: Secret::new(client_secret),
                refresh_token: Secret::new(refresh_token),
                token_url: self.base_url("token_url", default_token_url)?,
            })),
            [None, None, None] => match self.string("token_url")? {
                Some(_) => Err(self.error(
                    "token_url",
                    format!("`token_url` is only used {purpose}; set `client_id`, `client_secret` and `refresh_token` too"),
                )),
                None => Ok(None),
            },
            set => {
                let missing = GRANT
                    .iter()
                    .zip(set.iter())
                    .find(|(_, value)| value.is_none())
                    .map_or("client_id", |(key, _)| *key);
                Err(self.error(
                    missing,
                    format!("`client_id`, `client_secret` and `refresh_token` go together ({purpose}); `{missing}` is missing"),
                ))
            }
        }
    }

    /// The first key set that this network does not read, so that a typo or a key meant for
    /// another network is an error instead of being ignored. `all` is every key any network
    /// reads: a key no network knows gets the list of what this one takes.
    pub(super) fn foreign(&self, takes: &[&str], all: &[&str]) -> Option<KeyError> {
        let (key, _) = self
            .table
            .iter()
            .find(|(key, _)| !takes.contains(&key.as_str()))?;
        let unknown = !all.contains(&key.as_str());
        let message = if !unknown {
            format!("a {} source takes no `{key}`", self.kind)
        } else {
            let expected: Vec<String> = ["kind", "name", "every"]
                .iter()
                .chain(takes)
                .chain(&["rules"])
                .map(|key| format!("`{key}`"))
                .collect();
            format!(
                "unknown field `{key}`, expected one of {}",
                expected.join(", ")
            )
        };
        Some(KeyError {
            unknown,
            ..self.error(key, message)
        })
    }
}

fn expand(text: &str) -> Result<String, String> {
    expand_env(text, |name| std::env::var(name).ok())
}

/// An http(s) base URL, such as a Mastodon instance or a Bluesky PDS.
pub fn web_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|error| format!("`{text}` is not a valid URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{text}` is not an http(s) URL"));
    }
    Ok(url)
}

/// A ws(s) URL, such as a Jetstream instance.
pub fn socket_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|error| format!("`{text}` is not a valid URL: {error}"))?;
    if !matches!(url.scheme(), "ws" | "wss") || url.host_str().is_none() {
        return Err(format!("`{text}` is not a ws(s) URL"));
    }
    Ok(url)
}
