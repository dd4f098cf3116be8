//! An App Store source's `[[sources]]` keys: the app, the API key's issuer and id, and the
//! downloaded `.p8` key, read and checked when the config is (so `earshot check` names a wrong
//! path or a file that is no key, instead of the first poll).

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{AppStore, DEFAULT_API_URL, DEFAULT_EVERY};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// How App Store takes answers.
/// A review holds one response by the developer, replaced by the next; 5,970
/// characters is the limit App Store Connect's help gives (the API reference names none).
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 5_970 },
    replaces: true,
    colour: 0x0D96F6,
    ..NetworkTraits::new("app-store", "App Store")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &["app_id", "issuer_id", "key_id", "private_key", "api_url"],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The app's Apple ID (digits).
    pub app_id: String,
    /// The team's issuer id (a UUID), the JWT's `iss`.
    pub issuer_id: String,
    /// The API key's id, the JWT's `kid`.
    pub key_id: String,
    /// Where the key was read from, for `earshot check`.
    pub key_file: PathBuf,
    /// The `.p8` file's text (PKCS#8 PEM).
    pub private_key: Secret,
    pub api_url: String,
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let app_id = keys
        .required(
            "app_id",
            "the app's Apple ID, digits (App Store Connect → Apps → the app → App Information → Apple ID)",
        )?
        .trim()
        .to_string();
    if !app_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(keys.error(
            "app_id",
            format!("`{app_id}` is not an Apple ID; it is the app's number (App Information → Apple ID), not its bundle id or name"),
        ));
    }
    let issuer_id = keys
        .required(
            "issuer_id",
            "the Issuer ID shown above the keys (App Store Connect → Users and Access → Integrations → App Store Connect API)",
        )?
        .trim()
        .to_string();
    if !is_uuid(&issuer_id) {
        return Err(keys.error(
            "issuer_id",
            format!("`{issuer_id}` is not an issuer id; it looks like 57246542-96fe-1a63-e053-0824d011072a (Users and Access → Integrations → App Store Connect API, above the keys)"),
        ));
    }
    let key_id = keys
        .required(
            "key_id",
            "the API key's Key ID, 10 letters and digits (beside the key in Users and Access → Integrations → App Store Connect API)",
        )?
        .trim()
        .to_string();
    if key_id.len() != 10 || !key_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(keys.error(
            "key_id",
            format!("`{key_id}` is not a key id; it has 10 letters and digits, such as 2X9R4HXF34"),
        ));
    }
    let named = keys.required(
        "private_key",
        "the path of the AuthKey_<key id>.p8 file downloaded when the key was made, relative to this config file",
    )?;
    let key_file = keys.base().join(named.trim());
    let private_key =
        read_key(&key_file, &key_id).map_err(|message| keys.error("private_key", message))?;
    Ok(Box::new(Settings {
        app_id,
        issuer_id,
        key_id,
        key_file,
        private_key,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
    }))
}

/// The key file's text, once it is known to hold an ES256 key (and, when it still has the name
/// Apple gave it, the key `key_id` names).
fn read_key(path: &Path, key_id: &str) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "cannot read the key file {}: {error}; `private_key` is the AuthKey_{key_id}.p8 file downloaded from App Store Connect, a path relative to the config file",
            path.display()
        )
    })?;
    if let Err(error) = jsonwebtoken::EncodingKey::from_ec_pem(text.as_bytes()) {
        return Err(format!(
            "{} is not an App Store Connect key ({error}); the .p8 file starts with -----BEGIN PRIVATE KEY-----",
            path.display()
        ));
    }
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    if let Some(named) = file_name
        .strip_prefix("AuthKey_")
        .and_then(|rest| rest.strip_suffix(".p8"))
    {
        if named != key_id {
            return Err(format!(
                "{file_name} is the file of key {named}, but `key_id` is {key_id}; use the key id and file of the same key"
            ));
        }
    }
    Ok(Secret::new(text))
}

/// 8-4-4-4-12 hex digits.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!(
            "app {} (key {}, {})",
            self.app_id,
            self.key_id,
            self.key_file.display()
        )
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(AppStore::new(
            context.name,
            self.clone(),
            context.every,
            context.http,
        ))
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
    const SECTION: &str = "\n[[sources]]\nkind = \"app-store\"\nname = \"app-store\"\napp_id = \"1234567890\"\nissuer_id = \"57246542-96fe-1a63-e053-0824d011072a\"\nkey_id = \"TEST000001\"\nprivate_key = \"keys/AuthKey_TEST000001.p8\"\n";

    fn parse(dir: &Path, section: &str) -> Result<Config, String> {
        Config::parse(&dir.join("earshot.toml"), &format!("{BASE}{section}"))
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_documented_section_reads_the_key_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/app_store/AuthKey_TEST000001.p8");
        std::fs::copy(&fixture, dir.path().join("keys/AuthKey_TEST000001.p8")).unwrap();
        let config = parse(dir.path(), SECTION).expect("valid");
        let source = &config.sources[0];
        assert_eq!(source.every, DEFAULT_EVERY);
        let settings = source
            .spec
            .settings::<Settings>()
            .expect("app-store settings");
        assert_eq!(settings.app_id, "1234567890");
        assert_eq!(
            settings.key_file,
            dir.path().join("keys/AuthKey_TEST000001.p8")
        );
        assert_eq!(settings.api_url, DEFAULT_API_URL);
        assert!(
            !format!("{settings:?}").contains("PRIVATE KEY"),
            "the key never prints"
        );

        let missing = parse(dir.path(), &SECTION.replace("keys/", "")).unwrap_err();
        assert!(
            missing.contains("line 16: sources[0].private_key: cannot read the key file"),
            "{missing}"
        );
        let bundle = parse(dir.path(), &SECTION.replace("1234567890", "com.acme.app")).unwrap_err();
        assert!(
            bundle.contains("sources[0].app_id: `com.acme.app` is not an Apple ID"),
            "{bundle}"
        );
        let issuer = parse(
            dir.path(),
            &SECTION.replace("57246542-96fe-1a63-e053-0824d011072a", "acme"),
        )
        .unwrap_err();
        assert!(
            issuer.contains("sources[0].issuer_id: `acme` is not an issuer id"),
            "{issuer}"
        );
    }

    #[test]
    fn issuer_ids_are_uuids() {
        assert!(is_uuid("57246542-96fe-1a63-e053-0824d011072a"));
        assert!(!is_uuid("57246542-96fe-1a63-e053"));
        assert!(!is_uuid("5724654z-96fe-1a63-e053-0824d011072a"));
    }

    #[test]
    fn a_key_file_must_hold_the_named_es256_key() {
        let dir = tempfile::tempdir().unwrap();
        let missing =
            read_key(&dir.path().join("AuthKey_ABCDEFGHIJ.p8"), "ABCDEFGHIJ").unwrap_err();
        assert!(missing.contains("cannot read the key file"), "{missing}");
        let junk = dir.path().join("key.p8");
        std::fs::write(&junk, "not a key").unwrap();
        let error = read_key(&junk, "ABCDEFGHIJ").unwrap_err();
        assert!(error.contains("is not an App Store Connect key"), "{error}");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/app_store/AuthKey_TEST000001.p8");
        assert!(read_key(&fixture, "TEST000001").is_ok());
        let other = read_key(&fixture, "ABCDEFGHIJ").unwrap_err();
        assert!(other.contains("is the file of key TEST000001"), "{other}");
    }
}
