//! An X source's `[[sources]]` keys.

use std::any::Any;
use std::sync::Arc;

use super::{Refresh, Settings, Watch, DEFAULT_API_URL, DEFAULT_EVERY, DEFAULT_TOKEN_URL, X};
use crate::config::keys::{KeyError, Keys};
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

pub const NETWORK: Network = Network {
    kind: "x",
    keys: &[
        "watch",
        "api_url",
        "bearer_token",
        "user_token",
        "refresh_token",
        "client_id",
        "client_secret",
        "token_url",
        "user_id",
    ],
    every: DEFAULT_EVERY,
    parse,
};

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let watch = keys.watch(&["mentions"], Watch::parse)?;
    let refresh = if keys.has("refresh_token") {
        Some(Refresh {
            client_id: keys.required(
                "client_id",
                "the app's OAuth 2.0 client id, to renew the user token with `refresh_token`",
            )?,
            client_secret: keys.optional_secret("client_secret")?,
            token: keys.secret(
                "refresh_token",
                "an OAuth 2.0 refresh token (scope offline.access)",
            )?,
            token_url: keys.base_url("token_url", DEFAULT_TOKEN_URL)?,
        })
    } else {
        if let Some(field) = ["client_id", "client_secret", "token_url"]
            .into_iter()
            .find(|field| keys.has(field))
        {
            return Err(keys.error(
                field,
                format!("`{field}` is only used to renew the user token; set `refresh_token` too"),
            ));
        }
        None
    };
    Ok(Box::new(Settings {
        bearer_token: keys.secret("bearer_token", "the app's bearer token, for reading")?,
        user_token: keys.string("user_token")?.map(Into::into),
        refresh,
        user_id: keys.required("user_id", "the brand account's numeric id")?,
        watch,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("user {}, {} watch(es)", self.user_id, self.watch.len())
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(
            X::new(context.name, self.clone(), context.every, context.http)
                // X voids a refresh token once used; the new one must outlive the process.
                .with_credentials(context.credentials),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
