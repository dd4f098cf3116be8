//! `[webhooks.meta]`: where Meta's webhooks are served, the verify token of the subscription
//! handshake and the app secret that signs every notification. Both secrets come from the
//! environment and never reach `Debug` output.

use std::net::SocketAddr;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, EnvString};
use crate::net::Secret;

#[derive(Debug, Clone)]
pub struct MetaWebhooks {
    /// Serves `/meta/webhooks` here.
    pub listen: SocketAddr,
    pub verify_token: Secret,
    pub app_secret: Secret,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhooks {
    meta: Option<RawMeta>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    listen: Spanned<EnvString>,
    verify_token: Spanned<EnvString>,
    app_secret: Spanned<EnvString>,
}

type Invalid<'a> = &'a dyn Fn(Option<Range<usize>>, &str, String) -> ConfigError;

pub(super) fn check(
    raw: RawWebhooks,
    invalid: Invalid<'_>,
) -> Result<Option<MetaWebhooks>, ConfigError> {
    let Some(meta) = raw.meta else {
        return Ok(None);
    };
    let fail = |value: &Spanned<EnvString>, field: &str, message: String| {
        invalid(
            Some(value.span()),
            &format!("webhooks.meta.{field}"),
            message,
        )
    };
    let text = meta.listen.get_ref().0.trim();
    let listen = text.parse().map_err(|_| {
        fail(
            &meta.listen,
            "listen",
            format!("`{text}` is not an address to listen on; write it like \"0.0.0.0:3002\""),
        )
    })?;
    let secret = |value: &Spanned<EnvString>, field: &str, what: &str| {
        let text = value.get_ref().0.trim();
        if text.is_empty() {
            return Err(fail(value, field, format!("`{field}` is empty; {what}")));
        }
        Ok(Secret::new(text))
    };
    Ok(Some(MetaWebhooks {
        listen,
        verify_token: secret(
            &meta.verify_token,
            "verify_token",
            "choose a token and enter the same one as the Verify token in the app dashboard",
        )?,
        app_secret: secret(
            &meta.app_secret,
            "app_secret",
            "copy the App secret from the app dashboard (App settings → Basic)",
        )?,
    }))
}
