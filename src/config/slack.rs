//! `[chat.slack]`: read and checked here, so a wrong token kind or channel name is caught at
//! start-up with its line, not at the first post.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, EnvString};
use crate::chat::slack::{Listen, SlackConfig, DEFAULT_API_URL, POST_EVERY};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlack {
    channel: Spanned<EnvString>,
    bot_token: Spanned<EnvString>,
    app_token: Option<Spanned<EnvString>>,
    signing_secret: Option<Spanned<EnvString>>,
    listen: Option<Spanned<EnvString>>,
    api_url: Option<Spanned<EnvString>>,
    #[serde(default)]
    answerers: Vec<Spanned<EnvString>>,
}

type Invalid<'a> = &'a dyn Fn(Option<Range<usize>>, &str, String) -> ConfigError;

pub(super) fn check(
    section: Spanned<RawSlack>,
    invalid: Invalid<'_>,
) -> Result<SlackConfig, ConfigError> {
    let span = section.span();
    let raw = section.into_inner();
    let key = |field: &str| format!("chat.slack.{field}");
    let fail = |value: &Spanned<EnvString>, field: &str, message: String| {
        invalid(Some(value.span()), &key(field), message)
    };

    let channel = raw.channel.get_ref().0.trim().to_string();
    if !slack_id(&channel, &['C', 'G', 'D']) {
        return Err(fail(
            &raw.channel,
            "channel",
            format!("`{channel}` is not a channel id; copy the id from the bottom of the channel's details (it looks like C0123456789)"),
        ));
    }
    let bot_token = raw.bot_token.get_ref().0.trim().to_string();
    if !bot_token.starts_with("xoxb-") {
        return Err(fail(
            &raw.bot_token,
            "bot_token",
            "this is not a bot token; use the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page".into(),
        ));
    }

    let listen = match (&raw.signing_secret, &raw.listen) {
        (Some(secret), Some(address)) => {
            let signing_secret = secret.get_ref().0.trim().to_string();
            if signing_secret.is_empty() {
                return Err(fail(secret, "signing_secret", "the signing secret is empty; copy it from the app's Basic Information page".into()));
            }
            let text = address.get_ref().0.trim();
            let address_parsed = text.parse().map_err(|_| {
                fail(
                    address,
                    "listen",
                    format!("`{text}` is not an address to listen on; write it like \"0.0.0.0:3000\""),
                )
            })?;
            Listen::Http {
                signing_secret,
                address: address_parsed,
            }
        }
        (Some(secret), None) => {
            return Err(fail(secret, "signing_secret", "HTTP mode needs `listen` too (like \"0.0.0.0:3000\"); or remove signing_secret to use Socket Mode".into()))
        }
        (None, Some(address)) => {
            return Err(fail(address, "listen", "HTTP mode needs `signing_secret` too; or remove listen to use Socket Mode".into()))
        }
        (None, None) => match &raw.app_token {
            Some(token) if token.get_ref().0.trim().starts_with("xapp-") => Listen::Socket {
                app_token: token.get_ref().0.trim().to_string(),
            },
            Some(token) => {
                return Err(fail(token, "app_token", "this is not an app-level token; generate one (xapp-...) with the connections:write scope on the app's Basic Information page".into()))
            }
            None => {
                return Err(invalid(
                    Some(span),
                    &key("app_token"),
                    "Slack needs a way to reach earshot: set app_token (xapp-...) for Socket Mode, or signing_secret and listen for HTTP mode".into(),
                ))
            }
        },
    };

    let api_url = match &raw.api_url {
        Some(url) => {
            let text = url.get_ref().0.trim();
            match url::Url::parse(text) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => text.to_string(),
                _ => {
                    return Err(fail(
                        url,
                        "api_url",
                        format!("`{text}` is not an http(s) URL"),
                    ))
                }
            }
        }
        None => DEFAULT_API_URL.to_string(),
    };

    let mut answerers = Vec::new();
    for entry in &raw.answerers {
        let id = entry.get_ref().0.trim().to_string();
        if !slack_id(&id, &['U', 'W', 'S']) {
            return Err(fail(
                entry,
                "answerers",
                format!("`{id}` is not a Slack user id (U...) or user group id (S...); find them in the member's profile under \"Copy member ID\""),
            ));
        }
        answerers.push(id);
    }

    Ok(SlackConfig {
        channel,
        bot_token,
        listen,
        api_url,
        answerers,
        post_every: POST_EVERY,
    })
}

/// Slack ids are upper-case letters and digits after a kind letter: C0123, U0456, S0789.
fn slack_id(id: &str, kinds: &[char]) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|first| kinds.contains(&first))
        && id.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}
