//! The `kind = "linkedin"` config section: its keys, defaults and checks, read through
//! [`Fields`] so that it does not depend on how the config file is parsed.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use super::{LinkedIn, DEFAULT_API_URL, DEFAULT_VERSION};
use crate::net::Secret;
pub use crate::sources::youtube::{FieldError, Fields};

/// The keys a LinkedIn source takes besides `kind`, `name`, `every` and `rules`.
pub const KEYS: &[&str] = &[
    "organization",
    "token",
    "token_expires",
    "watch",
    "api_url",
    "version",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `urn:li:organization:<id>`: whose mentions and comments are read, and who answers.
    pub organization: String,
    pub token: Secret,
    /// When the access token expires (LinkedIn shows it when the token is made; ~60 days).
    pub token_expires: Option<DateTime<Utc>>,
    pub watch: Vec<Watch>,
    pub api_url: String,
    /// The `LinkedIn-Version` header, `YYYYMM`.
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// The organization's social-action notifications: mentions in posts and comments.
    Mentions,
    /// Comments (and their replies) on the organization's recent posts.
    Comments,
}

impl Watch {
    pub fn parse(text: &str) -> Result<Watch, String> {
        match text.trim() {
            "mentions" => Ok(Watch::Mentions),
            "comments" => Ok(Watch::Comments),
            other => Err(format!(
                "`{other}` is not a LinkedIn watch; use \"mentions\" and/or \"comments\""
            )),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Watch::Mentions => "mentions",
            Watch::Comments => "comments",
        }
    }
}

fn error(key: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        key,
        message: message.into(),
    }
}

pub fn parse(fields: &Fields<'_>) -> Result<Settings, FieldError> {
    let value = |key: &str| {
        (fields.get)(key)
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    };
    let organization = value("organization").ok_or_else(|| {
        error(
            "organization",
            "a linkedin source needs `organization`: the Page's URN, \"urn:li:organization:<id>\" (the number in the Page admin URL)",
        )
    })?;
    let valid = organization
        .strip_prefix("urn:li:organization:")
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()));
    if !valid {
        return Err(error(
            "organization",
            format!("`{organization}` is not an organization URN; write it as \"urn:li:organization:1234567\""),
        ));
    }
    let token = value("token").ok_or_else(|| {
        error(
            "token",
            "a linkedin source needs `token`: an access token of a Page admin from the Community Management API app",
        )
    })?;
    let token_expires = match value("token_expires") {
        Some(date) => Some(
            NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .ok()
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map(|at| at.and_utc())
                .ok_or_else(|| {
                    error(
                        "token_expires",
                        format!("`{date}` is not a date; write it as \"2027-01-31\""),
                    )
                })?,
        ),
        None => None,
    };
    let version = value("version").unwrap_or_else(|| DEFAULT_VERSION.to_string());
    if !(version.len() == 6 || version.len() == 9)
        || !version.chars().take(6).all(|c| c.is_ascii_digit())
    {
        return Err(error(
            "version",
            format!("`{version}` is not a LinkedIn API version; write it as \"YYYYMM\", such as \"{DEFAULT_VERSION}\""),
        ));
    }
    let items = fields
        .watch
        .clone()
        .unwrap_or_else(|| vec!["mentions".into(), "comments".into()]);
    let mut watch = Vec::new();
    for item in &items {
        let parsed = Watch::parse(item).map_err(|message| error("watch", message))?;
        if watch.contains(&parsed) {
            return Err(error("watch", format!("`{item}` is listed twice")));
        }
        watch.push(parsed);
    }
    if watch.is_empty() {
        return Err(error(
            "watch",
            "`watch` is empty; use [\"mentions\", \"comments\"]",
        ));
    }
    let api_url = match value("api_url") {
        Some(url) => match url::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => url,
            _ => return Err(error("api_url", format!("`{url}` is not an http(s) URL"))),
        },
        None => DEFAULT_API_URL.to_string(),
    };
    Ok(Settings {
        organization,
        token: Secret::new(token),
        token_expires,
        watch,
        api_url,
        version,
    })
}

impl Settings {
    pub fn build(&self, name: &str, every: Duration, http: reqwest::Client) -> LinkedIn {
        LinkedIn::new(name.to_string(), self.clone(), every, http)
    }

    pub fn describe(&self) -> String {
        let watches: Vec<&str> = self.watch.iter().map(|w| w.key()).collect();
        format!(
            "{} ({}), LinkedIn-Version {}",
            self.organization,
            watches.join(", "),
            self.version
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse_with(pairs: &[(&str, &str)]) -> Result<Settings, FieldError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = move |key: &str| map.get(key).cloned();
        parse(&Fields {
            get: &get,
            watch: None,
        })
    }

    #[test]
    fn the_section_is_checked_key_by_key() {
        let ok = parse_with(&[("organization", "urn:li:organization:42"), ("token", "t")]).unwrap();
        assert_eq!(ok.watch, vec![Watch::Mentions, Watch::Comments]);
        assert_eq!(ok.version, DEFAULT_VERSION);
        let key = |pairs: &[(&str, &str)]| parse_with(pairs).unwrap_err().key;
        assert_eq!(key(&[("token", "t")]), "organization");
        assert_eq!(
            key(&[("organization", "acme"), ("token", "t")]),
            "organization"
        );
        assert_eq!(key(&[("organization", "urn:li:organization:42")]), "token");
        assert_eq!(
            key(&[
                ("organization", "urn:li:organization:42"),
                ("token", "t"),
                ("version", "2026-11")
            ]),
            "version"
        );
        assert_eq!(
            key(&[
                ("organization", "urn:li:organization:42"),
                ("token", "t"),
                ("token_expires", "soon")
            ]),
            "token_expires"
        );
    }
}
