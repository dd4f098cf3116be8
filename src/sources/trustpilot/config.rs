//! A Trustpilot source's `[[sources]]` keys: the business unit, the application's API key and
//! secret, and the business user the replies are signed by.

use std::any::Any;
use std::sync::Arc;

use super::{Trustpilot, DEFAULT_API_URL, DEFAULT_EVERY};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// How Trustpilot takes answers.
/// A review holds one reply by the business, replaced by the next; Trustpilot's API
/// reference names no limit: 2,048 characters is earshot's own guard against pasting a whole
/// letter, and a refusal by the network still reaches the person.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 2_048 },
    replaces: true,
    colour: 0x00B67A,
    ..NetworkTraits::new("trustpilot", "Trustpilot")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const BASE: &str = "[store]\npath = \"data\"\n\n[chat.shell]\nuser = \"you\"\n\n[rules]\nkeywords = [\"acme\"]\n";
    /// The section as the issue and the README write it.
    const SECTION: &str = "\n[[sources]]\nkind = \"trustpilot\"\nname = \"trustpilot\"\nbusiness_unit_id = \"5f0000000000000000000000\"\napi_key = \"k\"\napi_secret = \"s\"\nbusiness_user_id = \"5f1111111111111111111111\"\n";

    fn parse(section: &str) -> Result<Config, String> {
        Config::parse(
            std::path::Path::new("/etc/earshot/earshot.toml"),
            &format!("{BASE}{section}"),
        )
        .map_err(|error| error.to_string())
    }

    #[test]
    fn the_documented_section_reads_and_ids_are_checked() {
        let config = parse(SECTION).expect("valid");
        assert_eq!(config.sources[0].every, DEFAULT_EVERY);
        let settings = config.sources[0]
            .spec
            .settings::<Settings>()
            .expect("trustpilot settings");
        assert_eq!(settings.business_user_id, "5f1111111111111111111111");
        assert_eq!(settings.api_url, DEFAULT_API_URL);
        assert!(
            !format!("{settings:?}").contains("\"s\""),
            "secrets never print"
        );
        let short = parse(&SECTION.replace("5f0000000000000000000000", "acme.nl")).unwrap_err();
        assert!(
            short.contains("sources[0].business_unit_id: `acme.nl` is not a Trustpilot id"),
            "{short}"
        );
        let missing =
            parse(&SECTION.replace("business_user_id = \"5f1111111111111111111111\"\n", ""))
                .unwrap_err();
        assert!(
            missing.contains("a trustpilot source needs `business_user_id`"),
            "{missing}"
        );
    }
}
