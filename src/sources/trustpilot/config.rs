//! A Trustpilot source's `[[sources]]` keys: the business unit, the application's API key and
//! secret, and the business user the replies are signed by.

use std::any::Any;
use std::sync::Arc;

use super::{Trustpilot, DEFAULT_API_URL, DEFAULT_EVERY};
use crate::config::keys::{KeyError, Keys};
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

pub const NETWORK: Network = Network {
    kind: "trustpilot",
    keys: &[
        "business_unit_id",
        "api_key",
        "api_secret",
        "business_user_id",
        "api_url",
    ],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub business_unit_id: String,
    pub api_key: Secret,
    pub api_secret: Secret,
    /// The business user replies are posted as (`authorBusinessUserId`).
    pub business_user_id: String,
    pub api_url: String,
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let business_unit_id = object_id(
        keys,
        "business_unit_id",
        "the business unit's id, 24 hex digits (GET /v1/business-units/find?name=<your domain> with the API key, or Trustpilot Business → Settings → Business information)",
    )?;
    let api_key = keys.secret(
        "api_key",
        "the API key of your application (Trustpilot Business → Integrations → Developers → API → the application)",
    )?;
    let api_secret = keys.secret("api_secret", "the API secret shown beside the API key")?;
    let business_user_id = object_id(
        keys,
        "business_user_id",
        "the id of the business user the replies are from, 24 hex digits (Trustpilot Business → Settings → Users, or the authorBusinessUserId of an earlier reply)",
    )?;
    Ok(Box::new(Settings {
        business_unit_id,
        api_key,
        api_secret,
        business_user_id,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
    }))
}

/// Trustpilot's ids are 24 hex digits (MongoDB object ids).
fn object_id(keys: &Keys<'_>, key: &str, what: &str) -> Result<String, KeyError> {
    let id = keys.required(key, what)?.trim().to_string();
    if id.len() != 24 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(keys.error(
            key,
            format!("`{id}` is not a Trustpilot id; it has 24 hex digits, such as 5f0000000000000000000000 ({what})"),
        ));
    }
    Ok(id)
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!(
            "business unit {}, replies as business user {}",
            self.business_unit_id, self.business_user_id
        )
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(
            Trustpilot::new(context.name, self.clone(), context.every, context.http)
                .with_credentials(context.credentials),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
