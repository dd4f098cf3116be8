//! One typed config, loaded and checked at start-up. Unknown keys are errors; `${VAR}` in a
//! string reads the environment, so secrets never sit in the file; relative paths resolve from
//! the config file's folder. Every error names the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

pub use follow_up::FollowUp;

use crate::rules::Rules;
use crate::sources::registry::SourceSpec;

mod discord;
pub mod keys;
mod webhooks;
pub use discord::{DiscordConfig, DiscordEndpoint, DISCORD_API};
pub use webhooks::MetaWebhooks;

/// The command name people type when none is configured.
pub const DEFAULT_COMMAND: &str = "/mentions";

/// The shortest poll interval accepted: faster polling only gets a bot rate limited.
const SHORTEST_POLL: Duration = Duration::from_secs(10);
/// The keys every source section has; the rest belong to its network.
const COMMON_KEYS: [&str; 4] = ["kind", "name", "every", "rules"];

#[derive(Debug)]
pub struct Config {
    pub file: PathBuf,
    /// `[store] path` (a folder, sled) or `[store] url` (PostgreSQL).
    pub store: crate::store::Location,
    pub command: String,
    pub shell: Option<ShellConfig>,
    pub discord: Option<DiscordConfig>,
    pub slack: Option<crate::chat::slack::SlackConfig>,
    pub rules: RulesConfig,
    pub sources: Vec<SourceConfig>,
    /// Priority, digest, reminders and reports.
    pub follow_up: FollowUp,
    /// `[[routes]]`: the channel new mentions land in, per chat.
    pub routes: crate::domain::routing::Routes,
    /// The saved replies (`replies.toml` beside the config, or `[replies] file`).
    pub replies: crate::domain::replies::SavedReplies,
    /// `[webhooks.meta]`: Meta's webhooks served beside the polls.
    pub meta_webhooks: Option<MetaWebhooks>,
}

#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// Who the terminal types as, unless `--as` says otherwise.
    pub user: String,
    /// Terminal users (as `user` or `--as` name them) allowed to answer publicly; empty =
    /// everyone, as under the other chats.
    pub answerers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RulesConfig {
    pub keywords: Vec<String>,
    pub exclude: Vec<String>,
    pub own_accounts: Vec<String>,
}

impl RulesConfig {
    pub fn rules(&self) -> Rules {
        Rules::new(&self.keywords, &self.exclude, &self.own_accounts)
    }
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// From the config; defaults to the kind when the config has one source of that kind.
    pub name: String,
    pub kind: &'static str,
    pub every: Duration,
    /// The global rules, with this source's overrides applied.
    pub rules: RulesConfig,
    /// The network's own settings, checked by its folder; builds the source.
    pub spec: std::sync::Arc<dyn SourceSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {file}: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}: {at}{key}: {message}", at = line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Invalid {
        file: PathBuf,
        /// Absent for a key that is missing altogether.
        line: Option<usize>,
        key: String,
        message: String,
    },
}

impl Config {
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Config::parse(file, &text)
    }

    /// Parses `text` as if read from `file` (which places relative paths).
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| ConfigError::Parse {
            file: file.to_path_buf(),
            message: error.to_string().trim_end().to_string(),
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        let invalid = |span: Option<std::ops::Range<usize>>, key: &str, message: String| {
            ConfigError::Invalid {
                file: file.to_path_buf(),
                line: span.map(|span| line_of(text, span.start)),
                key: key.to_string(),
                message,
            }
        };

        let rules = raw.rules;
        let global = RulesConfig {
            keywords: rules.keywords.into_iter().map(|s| s.0).collect(),
            exclude: rules.exclude.into_iter().map(|s| s.0).collect(),
            own_accounts: rules.own_accounts.into_iter().map(|s| s.0).collect(),
        };

        // What the TOML parser used to report itself (a typo in a key, a value that does not
        // parse) keeps its form: line and column.
        let misread_at = |key_column: bool| {
            move |span: Option<std::ops::Range<usize>>, key: &str, message: String| {
                let at = span
                    .map(|span| position_of(text, span.start, key_column))
                    .unwrap_or_default();
                ConfigError::Parse {
                    file: file.to_path_buf(),
                    message: format!("{at}{key}: {message}"),
                }
            }
        };
        let sources = sources(
            raw.sources,
            base,
            &global,
            &invalid,
            &misread_at(false),
            &misread_at(true),
        )?;
        if sources.is_empty() {
            check_rules(&global, &|message| invalid(None, "rules", message))?;
        }

        let shell = raw.chat.shell.map(|shell| ShellConfig {
            user: shell.user.0,
            answerers: shell.answerers.into_iter().map(|name| name.0).collect(),
        });
        let discord = raw
            .chat
            .discord
            .map(|discord| discord.check(&invalid))
            .transpose()?;
        let slack = match raw.chat.slack {
            Some(section) => Some(slack::check(section, &invalid)?),
            None => None,
        };
        if shell.is_none() && discord.is_none() && slack.is_none() {
            return Err(invalid(
                None,
                "chat",
                "no chat is configured; add a [chat.shell] section with `user = \"you\"` to use the terminal, or [chat.discord] or [chat.slack]".into(),
            ));
        }
        let command = match raw.chat.command {
            Some(command) => {
                let name = command.get_ref().0.clone();
                if !name.starts_with('/') || name.len() < 2 || name.contains(char::is_whitespace) {
                    return Err(invalid(
                        Some(command.span()),
                        "chat.command",
                        format!("`{name}` is not a slash command; use a name like \"/mentions\""),
                    ));
                }
                name
            }
            None => DEFAULT_COMMAND.to_string(),
        };

        let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        let own_channels = routes::Chats {
            slack: slack.as_ref().map(|slack| slack.channel.as_str()),
            discord: discord.as_ref().map(|discord| discord.channel_id),
        };
        let routes = routes::check(raw.routes, &names, &own_channels)
            .map_err(|(span, key, message)| invalid(span, &key, message))?;
        let replies = replies::load(base, raw.replies).map_err(|failure| match failure {
            replies::Failure::Config((span, key, message)) => invalid(span, &key, message),
            replies::Failure::File(error) => error,
        })?;

        let meta_webhooks = webhooks::check(raw.webhooks, &invalid)?;

        let mut follow_up =
            follow_up::follow_up(base, raw.priority, raw.digest, raw.sla, raw.report)
                .map_err(|(span, key, message)| invalid(span, &key, message))?;
        follow_up.storm = follow_up::storm(raw.storm)
            .map_err(|(span, key, message)| invalid(span, &key, message))?;

        let store = store_location(raw.store, base, &invalid)?;
        Ok(Config {
            follow_up,
            file: file.to_path_buf(),
            store,
            command,
            shell,
            discord,
            slack,
            rules: global,
            sources,
            routes,
            replies,
            meta_webhooks,
        })
    }

    /// The chats mentions are relayed to, by name.
    pub fn chat_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.shell.is_some() {
            names.push("shell".to_string());
        }
        if self.discord.is_some() {
            names.push("discord".to_string());
        }
        if self.slack.is_some() {
            names.push("slack".to_string());
        }
        names
    }
}

fn check_rules(
    rules: &RulesConfig,
    invalid: &dyn Fn(String) -> ConfigError,
) -> Result<(), ConfigError> {
    if rules.keywords.is_empty() {
        return Err(invalid(
            "no keywords: earshot would relay nothing; list the brand's names in rules.keywords"
                .into(),
        ));
    }
    let empty: Vec<&str> = Rules::empty_patterns(&rules.keywords)
        .into_iter()
        .chain(Rules::empty_patterns(&rules.exclude))
        .collect();
    if !empty.is_empty() {
        return Err(invalid(format!(
            "{} hold(s) no letters or digits and would never match",
            empty.join(", ")
        )));
    }
    Ok(())
}

/// "line 17, column 1: " for a byte offset, or for the key on its line (`key_column`).
fn position_of(text: &str, offset: usize, key_column: bool) -> String {
    let before = text.get(..offset).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let line = &before[line_start..];
    let column = if key_column {
        line.chars().take_while(|c| c.is_whitespace()).count() + 1
    } else {
        line.chars().count() + 1
    };
    format!("line {}, column {column}: ", line_of(text, offset))
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Spanned<RawStore>,
    #[serde(default)]
    chat: RawChat,
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    sources: Vec<Spanned<RawSource>>,
    priority: Option<follow_up::RawPriority>,
    digest: Option<follow_up::RawDigest>,
    sla: Option<follow_up::RawSla>,
    report: Option<follow_up::RawReport>,
    storm: Option<follow_up::RawStorm>,
    #[serde(default)]
    routes: Vec<Spanned<routes::RawRoute>>,
    replies: Option<replies::RawRepliesSection>,
    #[serde(default)]
    webhooks: webhooks::RawWebhooks,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<Spanned<EnvString>>,
    url: Option<Spanned<EnvString>>,
}

type Invalid<'a> = dyn Fn(Option<std::ops::Range<usize>>, &str, String) -> ConfigError + 'a;

/// `[store]`: a folder (`path`, relative to the config) or a PostgreSQL database (`url`), not
/// both. An address that does not parse is refused without being repeated (it may hold a
/// password).
fn store_location(
    raw: Spanned<RawStore>,
    base: &Path,
    invalid: &Invalid<'_>,
) -> Result<crate::store::Location, ConfigError> {
    use crate::store::{DatabaseUrl, Location};
    let span = raw.span();
    let raw = raw.into_inner();
    match (raw.path, raw.url) {
        (Some(_), Some(url)) => Err(invalid(
            Some(url.span()),
            "store.url",
            "the store is set twice: `path` (a folder) and `url` (a database); keep one".into(),
        )),
        (Some(path), None) => Ok(Location::Folder(base.join(&path.get_ref().0))),
        (None, Some(url)) => {
            let at = url.span();
            DatabaseUrl::parse(&url.into_inner().0)
                .map(Location::Postgres)
                .map_err(|problem| invalid(Some(at), "store.url", problem))
        }
        (None, None) => Err(invalid(
            Some(span),
            "store",
            "no store: set `path = \"data/earshot\"` (a folder) or `url = \"postgres://…\"` (a database)".into(),
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawChat {
    command: Option<Spanned<EnvString>>,
    shell: Option<RawShell>,
    discord: Option<discord::RawDiscord>,
    slack: Option<Spanned<slack::RawSlack>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShell {
    user: EnvString,
    #[serde(default)]
    answerers: Vec<EnvString>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    keywords: Vec<EnvString>,
    #[serde(default)]
    exclude: Vec<EnvString>,
    #[serde(default)]
    own_accounts: Vec<EnvString>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRulesOverride {
    keywords: Option<Vec<EnvString>>,
    exclude: Option<Vec<EnvString>>,
    own_accounts: Option<Vec<EnvString>>,
}

/// A source section as written: its network reads the keys (see [`keys::Keys`]). A plain table
/// of spanned values rather than a tagged enum: serde buffers tagged enums, which loses the line
/// numbers.
type RawSource = std::collections::BTreeMap<String, Spanned<toml::Value>>;

/// A string with `${VAR}` replaced by the environment variable's value.
#[derive(Clone, PartialEq, Eq)]
struct EnvString(String);

impl fmt::Debug for EnvString {
    // Values may be secrets read from the environment; they never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"…\"")
    }
}

impl<'de> Deserialize<'de> for EnvString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        expand_env(&raw, |name| std::env::var(name).ok())
            .map(EnvString)
            .map_err(serde::de::Error::custom)
    }
}

/// Replaces each `${NAME}` with `lookup(NAME)`; `$${` stays a literal `${`.
pub fn expand_env(raw: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            out.push_str(&rest[..at - 1]);
            out.push_str("${");
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("`${{` without a closing `}}` in \"{raw}\""));
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`${{{name}}}` is not an environment variable name"));
        }
        match lookup(name) {
            Some(value) => out.push_str(&value),
            None => {
                return Err(format!(
                    "environment variable {name} is not set (the config reads it as ${{{name}}})"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A duration written like "5m", "90s" or "1h 30m".
#[derive(Debug, Clone, Copy)]
struct Every(Duration);

impl<'de> Deserialize<'de> for Every {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        humantime::parse_duration(raw.trim())
            .map(Every)
            .map_err(|error| {
                serde::de::Error::custom(format!(
                    "`{raw}` is not a duration ({error}); write it like \"30s\", \"5m\" or \"1h\""
                ))
            })
    }
}

mod slack;

mod follow_up;
mod replies;
mod routes;
mod sources;
use sources::sources;
#[cfg(test)]
mod tests;
