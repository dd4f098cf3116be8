//! `[chat.discord]`: checked here so a mistake names its line, like every other key.

use std::fmt;
use std::net::SocketAddr;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, EnvString};

/// Where Discord's REST API and gateway discovery live unless `api_url` says otherwise.
pub const DISCORD_API: &str = "https://discord.com";

#[derive(Clone)]
pub struct DiscordConfig {
    /// The channel every mention is posted in.
    pub channel_id: u64,
    pub token: String,
    /// Register the command in this guild (instant) instead of globally (up to an hour).
    pub guild_id: Option<u64>,
    /// Discord's base URL, without `/api/v10`; tests point it at a local fake.
    pub api_url: String,
    /// Role or user ids allowed to answer publicly; empty = everyone.
    pub answerers: Vec<u64>,
    /// Receive interactions on an HTTP endpoint instead of the gateway.
    pub endpoint: Option<DiscordEndpoint>,
}

#[derive(Debug, Clone)]
pub struct DiscordEndpoint {
    /// The application's public key (hex), which signs every interaction.
    pub public_key: String,
    pub listen: SocketAddr,
}

impl fmt::Debug for DiscordConfig {
    // The token never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordConfig")
            .field("channel_id", &self.channel_id)
            .field("token", &"…")
            .field("guild_id", &self.guild_id)
            .field("api_url", &self.api_url)
            .field("answerers", &self.answerers)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDiscord {
    channel_id: Spanned<EnvString>,
    token: Spanned<EnvString>,
    guild_id: Option<Spanned<EnvString>>,
    api_url: Option<Spanned<EnvString>>,
    #[serde(default)]
    answerers: Vec<Spanned<EnvString>>,
    public_key: Option<Spanned<EnvString>>,
    listen: Option<Spanned<EnvString>>,
}

type Invalid<'a> = dyn Fn(Option<std::ops::Range<usize>>, &str, String) -> ConfigError + 'a;

impl RawDiscord {
    pub(super) fn check(self, invalid: &Invalid<'_>) -> Result<DiscordConfig, ConfigError> {
        let channel_id = snowflake(&self.channel_id, "chat.discord.channel_id", invalid)?;
        let token = self.token.get_ref().0.trim().to_string();
        if token.is_empty() {
            return Err(invalid(
                Some(self.token.span()),
                "chat.discord.token",
                "the bot token is empty; copy it from the Bot page of your Discord application"
                    .into(),
            ));
        }
        let guild_id = self
            .guild_id
            .as_ref()
            .map(|id| snowflake(id, "chat.discord.guild_id", invalid))
            .transpose()?;
        let api_url = match &self.api_url {
            Some(url) => {
                let text = url.get_ref().0.trim_end_matches('/').to_string();
                match url::Url::parse(&text) {
                    Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => text,
                    _ => {
                        return Err(invalid(
                            Some(url.span()),
                            "chat.discord.api_url",
                            format!("`{text}` is not an http(s) URL"),
                        ))
                    }
                }
            }
            None => DISCORD_API.to_string(),
        };
        let answerers = self
            .answerers
            .iter()
            .map(|id| snowflake(id, "chat.discord.answerers", invalid))
            .collect::<Result<_, _>>()?;
        let endpoint = match (&self.public_key, &self.listen) {
            (None, None) => None,
            (Some(key), Some(listen)) => {
                let public_key = key.get_ref().0.trim().to_ascii_lowercase();
                if public_key.len() != 64 || !public_key.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(
                        Some(key.span()),
                        "chat.discord.public_key",
                        "expected the 64 hex digits of PUBLIC KEY on the application's General Information page".into(),
                    ));
                }
                let address = listen.get_ref().0.trim();
                let listen = address.parse().map_err(|_| {
                    invalid(
                        Some(listen.span()),
                        "chat.discord.listen",
                        format!("`{address}` is not an address to listen on; write it like \"0.0.0.0:3001\""),
                    )
                })?;
                Some(DiscordEndpoint { public_key, listen })
            }
            (Some(key), None) => {
                return Err(invalid(
                    Some(key.span()),
                    "chat.discord.listen",
                    "`public_key` needs `listen` (the address of the HTTP interactions endpoint)"
                        .into(),
                ))
            }
            (None, Some(listen)) => {
                return Err(invalid(
                    Some(listen.span()),
                    "chat.discord.public_key",
                    "`listen` needs `public_key`, which verifies that requests come from Discord"
                        .into(),
                ))
            }
        };
        Ok(DiscordConfig {
            channel_id,
            token,
            guild_id,
            api_url,
            answerers,
            endpoint,
        })
    }
}

/// Discord ids are 64-bit numbers written as strings.
fn snowflake(
    value: &Spanned<EnvString>,
    key: &str,
    invalid: &Invalid<'_>,
) -> Result<u64, ConfigError> {
    let text = value.get_ref().0.trim();
    match text.parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(invalid(
            Some(value.span()),
            key,
            format!("`{text}` is not a Discord id; copy it with Developer Mode on (right-click > Copy ID)"),
        )),
    }
}
