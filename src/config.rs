//! One typed config, loaded and checked at start-up. Unknown keys are errors; `${VAR}` in a
//! string reads the environment, so secrets never sit in the file; relative paths resolve from
//! the config file's folder. Every error names the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

pub use follow_up::FollowUp;

use crate::net::Secret;
use crate::rules::Rules;
use crate::sources::feed::Location;
use crate::sources::{bluesky, hackernews, linkedin, mastodon, reddit, x, youtube};

mod discord;
pub use discord::{DiscordConfig, DiscordEndpoint, DISCORD_API};

/// The command name people type when none is configured.
pub const DEFAULT_COMMAND: &str = "/mentions";

/// The shortest poll interval accepted: faster polling only gets a bot rate limited.
const SHORTEST_POLL: Duration = Duration::from_secs(10);
/// Google Alerts keeps only its latest ~20 entries; polling every 5 minutes misses none.
const DEFAULT_FEED_POLL: Duration = Duration::from_secs(5 * 60);
/// Mastodon allows 300 requests per 5 minutes per account; a poll costs one request per watched
/// stream (two when something new came), so 30 s spends under a tenth of the budget.
const DEFAULT_MASTODON_POLL: Duration = Duration::from_secs(30);
/// Bluesky's maintainers ask for gentle searchPosts polling ("every 60 s"); notifications ride along.
const DEFAULT_BLUESKY_POLL: Duration = Duration::from_secs(60);

/// The `kind`s a source may have.
const KINDS: &[&str] = &[
    "feed",
    "hackernews",
    "reddit",
    "x",
    "mastodon",
    "bluesky",
    "youtube",
    "linkedin",
];

/// Each network's default poll interval, chosen from its rate-limit budget (see its module).
fn default_every(kind: &str) -> Duration {
    match kind {
        "hackernews" => hackernews::DEFAULT_EVERY,
        "reddit" => reddit::DEFAULT_EVERY,
        "x" => x::DEFAULT_EVERY,
        "youtube" => youtube::DEFAULT_EVERY,
        "linkedin" => linkedin::DEFAULT_EVERY,
        "mastodon" => DEFAULT_MASTODON_POLL,
        "bluesky" => DEFAULT_BLUESKY_POLL,
        _ => DEFAULT_FEED_POLL,
    }
}

#[derive(Debug)]
pub struct Config {
    pub file: PathBuf,
    pub store: PathBuf,
    pub command: String,
    pub shell: Option<ShellConfig>,
    pub discord: Option<DiscordConfig>,
    pub slack: Option<crate::chat::slack::SlackConfig>,
    pub rules: RulesConfig,
    pub sources: Vec<SourceConfig>,
    /// Priority, digest, reminders and reports.
    pub follow_up: FollowUp,
}

#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// Who the terminal types as, unless `--as` says otherwise.
    pub user: String,
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
    pub name: String,
    pub every: Duration,
    /// The global rules, with this source's overrides applied.
    pub rules: RulesConfig,
    pub kind: SourceKind,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    Feed {
        location: Location,
    },
    HackerNews(hackernews::Settings),
    Reddit(reddit::Settings),
    X(x::Settings),
    YouTube(youtube::Settings),
    LinkedIn(linkedin::Settings),
    Mastodon {
        instance: url::Url,
        token: Secret,
        watch: Vec<mastodon::Watch>,
        /// Follow the streaming API beside the polls.
        stream: bool,
    },
    Bluesky {
        pds: url::Url,
        handle: String,
        app_password: Secret,
        watch: Vec<bluesky::Watch>,
        /// The Jetstream `/subscribe` URL the `jetstream` watch follows.
        jetstream_url: url::Url,
    },
}

impl SourceKind {
    pub fn label(&self) -> &'static str {
        match self {
            SourceKind::Feed { .. } => "feed",
            SourceKind::HackerNews(_) => "hackernews",
            SourceKind::Reddit(_) => "reddit",
            SourceKind::X(_) => "x",
            SourceKind::YouTube(_) => "youtube",
            SourceKind::LinkedIn(_) => "linkedin",
            SourceKind::Mastodon { .. } => "mastodon",
            SourceKind::Bluesky { .. } => "bluesky",
        }
    }
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

        let mut sources: Vec<SourceConfig> = Vec::new();
        for (index, section) in raw.sources.into_iter().enumerate() {
            let span = section.span();
            let feed = section.into_inner();
            let key = |field: &str| format!("sources[{index}].{field}");
            let kind = feed.kind.get_ref().0.clone();
            if !KINDS.contains(&kind.as_str()) {
                return Err(invalid(
                    Some(feed.kind.span()),
                    &key("kind"),
                    format!(
                        "unknown source kind `{kind}`; expected one of: {}",
                        KINDS.join(", ")
                    ),
                ));
            }
            let name = feed.name.get_ref().0.clone();
            if !valid_name(&name) {
                return Err(invalid(
                    Some(feed.name.span()),
                    &key("name"),
                    format!("`{name}` is not a usable name; use letters, digits, `-` and `_` (it keys the mentions this source finds)"),
                ));
            }
            if sources.iter().any(|s| s.name == name) {
                return Err(invalid(
                    Some(feed.name.span()),
                    &key("name"),
                    format!("another source is already called `{name}`; names must be unique"),
                ));
            }
            if let Some((field, span)) = feed.foreign_key(&kind) {
                return Err(invalid(
                    Some(span),
                    &key(field),
                    format!("a {kind} source takes no `{field}`"),
                ));
            }
            let every = match &feed.every {
                Some(every) if every.get_ref().0 < SHORTEST_POLL => {
                    return Err(invalid(
                        Some(every.span()),
                        &key("every"),
                        format!(
                            "polling every {} is too often; use at least {}",
                            humantime::format_duration(every.get_ref().0),
                            humantime::format_duration(SHORTEST_POLL)
                        ),
                    ))
                }
                Some(every) => every.get_ref().0,
                None => default_every(&kind),
            };
            let required = |value: &Option<Spanned<EnvString>>, field: &str, what: &str| {
                value
                    .as_ref()
                    .map(|value| value.get_ref().0.clone())
                    .filter(|value| !value.trim().is_empty())
                    .ok_or_else(|| {
                        invalid(
                            Some(span.clone()),
                            &key(field),
                            format!("a {kind} source needs `{field}`: {what}"),
                        )
                    })
            };
            let base_url = |value: &Option<Spanned<EnvString>>, field: &str, default: &str| {
                let Some(value) = value else {
                    return Ok(default.to_string());
                };
                let url = value.get_ref().0.as_str();
                match url::Url::parse(url) {
                    Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
                        Ok(url.to_string())
                    }
                    _ => Err(invalid(
                        Some(value.span()),
                        &key(field),
                        format!("`{url}` is not an http(s) URL"),
                    )),
                }
            };
            let watch = |default: &[&str]| -> Vec<(String, std::ops::Range<usize>)> {
                match &feed.watch {
                    Some(watch) => watch
                        .get_ref()
                        .iter()
                        .map(|item| (item.0.clone(), watch.span()))
                        .collect(),
                    None => default
                        .iter()
                        .map(|item| (item.to_string(), span.clone()))
                        .collect(),
                }
            };
            let source_kind = match kind.as_str() {
                "hackernews" => SourceKind::HackerNews(hackernews::Settings {
                    query: required(&feed.query, "query", "the words to search Hacker News for")?,
                    api_url: base_url(&feed.api_url, "api_url", hackernews::DEFAULT_API_URL)?,
                    account: match &feed.account {
                        Some(account) => {
                            Some(hn_account(account.get_ref().0.as_str()).map_err(|message| {
                                invalid(Some(account.span()), &key("account"), message)
                            })?)
                        }
                        None => None,
                    },
                }),
                "reddit" => {
                    let username =
                        required(&feed.username, "username", "the brand's Reddit account")?;
                    let mut watches = Vec::new();
                    for (item, at) in watch(&["mentions"]) {
                        watches.push(
                            reddit::Watch::parse(&item)
                                .map_err(|message| invalid(Some(at), &key("watch"), message))?,
                        );
                    }
                    SourceKind::Reddit(reddit::Settings {
                        client_id: required(
                            &feed.client_id,
                            "client_id",
                            "the id of the Reddit \"script\" app",
                        )?,
                        client_secret: Secret::new(required(
                            &feed.client_secret,
                            "client_secret",
                            "the secret of the Reddit app",
                        )?),
                        password: Secret::new(required(
                            &feed.password,
                            "password",
                            "the password of the brand's Reddit account",
                        )?),
                        user_agent: match &feed.user_agent {
                            Some(agent) => agent.get_ref().0.clone(),
                            None => reddit::default_user_agent(&username),
                        },
                        username,
                        watch: watches,
                        api_url: base_url(&feed.api_url, "api_url", reddit::DEFAULT_API_URL)?,
                        token_url: base_url(
                            &feed.token_url,
                            "token_url",
                            reddit::DEFAULT_TOKEN_URL,
                        )?,
                    })
                }
                "x" => {
                    let mut watches = Vec::new();
                    for (item, at) in watch(&["mentions"]) {
                        watches.push(
                            x::Watch::parse(&item)
                                .map_err(|message| invalid(Some(at), &key("watch"), message))?,
                        );
                    }
                    SourceKind::X(x::Settings {
                        bearer_token: Secret::new(required(
                            &feed.bearer_token,
                            "bearer_token",
                            "the app's bearer token, for reading",
                        )?),
                        user_token: feed
                            .user_token
                            .as_ref()
                            .map(|token| Secret::new(token.get_ref().0.clone())),
                        refresh: match &feed.refresh_token {
                            Some(_) => Some(x::Refresh {
                                client_id: required(
                                    &feed.client_id,
                                    "client_id",
                                    "the app's OAuth 2.0 client id, to renew the user token with `refresh_token`",
                                )?,
                                client_secret: feed
                                    .client_secret
                                    .as_ref()
                                    .map(|secret| secret.get_ref().0.clone())
                                    .filter(|secret| !secret.trim().is_empty())
                                    .map(Secret::new),
                                token: Secret::new(required(
                                    &feed.refresh_token,
                                    "refresh_token",
                                    "an OAuth 2.0 refresh token (scope offline.access)",
                                )?),
                                token_url: base_url(
                                    &feed.token_url,
                                    "token_url",
                                    x::DEFAULT_TOKEN_URL,
                                )?,
                            }),
                            None => {
                                let unused = [
                                    ("client_id", span_of(&feed.client_id)),
                                    ("client_secret", span_of(&feed.client_secret)),
                                    ("token_url", span_of(&feed.token_url)),
                                ]
                                .into_iter()
                                .find_map(|(field, at)| Some((field, at?)));
                                if let Some((field, at)) = unused {
                                    return Err(invalid(
                                        Some(at),
                                        &key(field),
                                        format!("`{field}` is only used to renew the user token; set `refresh_token` too"),
                                    ));
                                }
                                None
                            }
                        },
                        user_id: required(
                            &feed.user_id,
                            "user_id",
                            "the brand account's numeric id",
                        )?,
                        watch: watches,
                        api_url: base_url(&feed.api_url, "api_url", x::DEFAULT_API_URL)?,
                    })
                }
                // Hook: the section is read in the network's own folder.
                "youtube" => {
                    let get = |field: &str| feed.string(field).map(|v| v.get_ref().0.clone());
                    let fields = youtube::Fields {
                        get: &get,
                        watch: feed.watch_items(),
                    };
                    SourceKind::YouTube(youtube::parse(&fields).map_err(|e| {
                        let at = feed.span_of(e.key).unwrap_or_else(|| span.clone());
                        invalid(Some(at), &key(e.key), e.message)
                    })?)
                }
                "linkedin" => {
                    let get = |field: &str| feed.string(field).map(|v| v.get_ref().0.clone());
                    let fields = youtube::Fields {
                        get: &get,
                        watch: feed.watch_items(),
                    };
                    SourceKind::LinkedIn(linkedin::parse(&fields).map_err(|e| {
                        let at = feed.span_of(e.key).unwrap_or_else(|| span.clone());
                        invalid(Some(at), &key(e.key), e.message)
                    })?)
                }
                "mastodon" => {
                    let instance = required(&feed.instance, "instance", "the instance's URL")?;
                    let instance = web_url(&instance).map_err(|message| {
                        invalid(span_of(&feed.instance), &key("instance"), message)
                    })?;
                    let mut watches = Vec::new();
                    for (item, at) in watch(&["mentions"]) {
                        watches.push(
                            mastodon::Watch::parse(&item)
                                .map_err(|message| invalid(Some(at), &key("watch"), message))?,
                        );
                    }
                    SourceKind::Mastodon {
                        instance,
                        token: Secret::new(required(
                            &feed.token,
                            "token",
                            "an access token with read:notifications, read:statuses, read:search and write:statuses",
                        )?),
                        watch: watches,
                        stream: feed.stream.as_ref().is_some_and(|stream| *stream.get_ref()),
                    }
                }
                "bluesky" => {
                    let pds = required(
                        &feed.pds,
                        "pds",
                        "the account's PDS URL, such as https://bsky.social",
                    )?;
                    let pds = web_url(&pds)
                        .map_err(|message| invalid(span_of(&feed.pds), &key("pds"), message))?;
                    let mut watches = Vec::new();
                    for (item, at) in watch(&["mentions"]) {
                        watches.push(
                            bluesky::Watch::parse(&item)
                                .map_err(|message| invalid(Some(at), &key("watch"), message))?,
                        );
                    }
                    SourceKind::Bluesky {
                        pds,
                        handle: required(&feed.handle, "handle", "the account's handle or DID")?
                            .trim()
                            .trim_start_matches('@')
                            .to_string(),
                        app_password: Secret::new(required(
                            &feed.app_password,
                            "app_password",
                            "an app password (Settings → Privacy and security → App passwords)",
                        )?),
                        watch: watches,
                        jetstream_url: match &feed.jetstream_url {
                            Some(url) => socket_url(&url.get_ref().0).map_err(|message| {
                                invalid(Some(url.span()), &key("jetstream_url"), message)
                            })?,
                            None => socket_url(bluesky::jetstream::DEFAULT_URL)
                                .map_err(|message| invalid(None, &key("jetstream_url"), message))?,
                        },
                    }
                }
                _ => {
                    let Some(url) = &feed.url else {
                        return Err(invalid(
                            Some(span),
                            &key("url"),
                            "a feed needs `url`: an http(s) URL or a file path".into(),
                        ));
                    };
                    let location = feed_location(base, url)
                        .map_err(|message| invalid(Some(url.span()), &key("url"), message))?;
                    SourceKind::Feed { location }
                }
            };
            let rules = match feed.rules {
                Some(overrides) => RulesConfig {
                    keywords: overrides
                        .keywords
                        .map(strings)
                        .unwrap_or_else(|| global.keywords.clone()),
                    exclude: overrides
                        .exclude
                        .map(strings)
                        .unwrap_or_else(|| global.exclude.clone()),
                    own_accounts: overrides
                        .own_accounts
                        .map(strings)
                        .unwrap_or_else(|| global.own_accounts.clone()),
                },
                None => global.clone(),
            };
            check_rules(&rules, &|message| {
                invalid(Some(span.clone()), &key("rules"), message)
            })?;
            sources.push(SourceConfig {
                name,
                every,
                rules,
                kind: source_kind,
            });
        }
        if sources.is_empty() {
            check_rules(&global, &|message| invalid(None, "rules", message))?;
        }

        let shell = raw
            .chat
            .shell
            .map(|shell| ShellConfig { user: shell.user.0 });
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

        let mut follow_up =
            follow_up::follow_up(base, raw.priority, raw.digest, raw.sla, raw.report)
                .map_err(|(span, key, message)| invalid(span, &key, message))?;
        follow_up.storm = follow_up::storm(raw.storm)
            .map_err(|(span, key, message)| invalid(span, &key, message))?;

        Ok(Config {
            follow_up,
            file: file.to_path_buf(),
            store: base.join(raw.store.path.0),
            command,
            shell,
            discord,
            slack,
            rules: global,
            sources,
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

/// An http(s) URL as is, anything else a file relative to the config file.
fn feed_location(base: &Path, url: &Spanned<EnvString>) -> Result<Location, String> {
    let url = url.get_ref().0.as_str();
    if url.starts_with("http://") || url.starts_with("https://") {
        url::Url::parse(url).map_err(|error| format!("`{url}` is not a valid URL: {error}"))?;
        return Ok(Location::Url(url.to_string()));
    }
    let path = base.join(url.strip_prefix("file://").unwrap_or(url));
    if !path.is_file() {
        return Err(format!(
            "no feed file at {} (expected an http(s) URL, or a file path relative to this config file)",
            path.display()
        ));
    }
    Ok(Location::File(path))
}

/// An http(s) base URL, such as a Mastodon instance or a Bluesky PDS.
fn web_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|error| format!("`{text}` is not a valid URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{text}` is not an http(s) URL"));
    }
    Ok(url)
}

/// A ws(s) URL, such as a Jetstream instance.
fn socket_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|error| format!("`{text}` is not a valid URL: {error}"))?;
    if !matches!(url.scheme(), "ws" | "wss") || url.host_str().is_none() {
        return Err(format!("`{text}` is not a ws(s) URL"));
    }
    Ok(url)
}

/// The brand's Hacker News username, as HN spells it (letters, digits, `-` and `_`). It is
/// compared exactly, because HN usernames are case-sensitive.
fn hn_account(text: &str) -> Result<String, String> {
    let account = text.trim();
    let valid = !account.is_empty()
        && account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(account.to_string())
    } else {
        Err(format!(
            "`{text}` is not a Hacker News username; give the brand's account as HN shows it (letters, digits, `-`, `_`), or leave `account` out"
        ))
    }
}

fn span_of(value: &Option<Spanned<EnvString>>) -> Option<std::ops::Range<usize>> {
    value.as_ref().map(Spanned::span)
}

fn strings(values: Vec<EnvString>) -> Vec<String> {
    values.into_iter().map(|s| s.0).collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: RawStore,
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: EnvString,
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

/// Every key any kind of source takes; each kind checks that it has what it needs. (A flat
/// table rather than a tagged enum: serde buffers tagged enums, which loses the line numbers.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    kind: Spanned<EnvString>,
    name: Spanned<EnvString>,
    every: Option<Spanned<Every>>,
    url: Option<Spanned<EnvString>>,
    rules: Option<RawRulesOverride>,
    watch: Option<Spanned<Vec<EnvString>>>,
    api_url: Option<Spanned<EnvString>>,
    query: Option<Spanned<EnvString>>,
    token_url: Option<Spanned<EnvString>>,
    client_id: Option<Spanned<EnvString>>,
    client_secret: Option<Spanned<EnvString>>,
    username: Option<Spanned<EnvString>>,
    password: Option<Spanned<EnvString>>,
    user_agent: Option<Spanned<EnvString>>,
    bearer_token: Option<Spanned<EnvString>>,
    user_token: Option<Spanned<EnvString>>,
    refresh_token: Option<Spanned<EnvString>>,
    user_id: Option<Spanned<EnvString>>,
    instance: Option<Spanned<EnvString>>,
    token: Option<Spanned<EnvString>>,
    pds: Option<Spanned<EnvString>>,
    handle: Option<Spanned<EnvString>>,
    app_password: Option<Spanned<EnvString>>,
    jetstream_url: Option<Spanned<EnvString>>,
    stream: Option<Spanned<bool>>,
    account: Option<Spanned<EnvString>>,
    channel_id: Option<Spanned<EnvString>>,
    api_key: Option<Spanned<EnvString>>,
    organization: Option<Spanned<EnvString>>,
    token_expires: Option<Spanned<EnvString>>,
    version: Option<Spanned<EnvString>>,
}

impl RawSource {
    /// The first key set that a source of `kind` does not read, so a typo or a key meant for
    /// another section is an error instead of being silently ignored.
    fn foreign_key(&self, kind: &str) -> Option<(&'static str, std::ops::Range<usize>)> {
        let takes: &[&str] = match kind {
            "hackernews" => &["query", "api_url", "account"],
            "reddit" => &[
                "watch",
                "api_url",
                "token_url",
                "client_id",
                "client_secret",
                "username",
                "password",
                "user_agent",
            ],
            "x" => &[
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
            "mastodon" => &["watch", "instance", "token", "stream"],
            "bluesky" => &["watch", "pds", "handle", "app_password", "jetstream_url"],
            "youtube" => youtube::KEYS,
            "linkedin" => linkedin::KEYS,
            _ => &["url"],
        };
        let span = |value: &Option<Spanned<EnvString>>| value.as_ref().map(Spanned::span);
        [
            ("url", span(&self.url)),
            ("watch", self.watch.as_ref().map(Spanned::span)),
            ("api_url", span(&self.api_url)),
            ("query", span(&self.query)),
            ("token_url", span(&self.token_url)),
            ("client_id", span(&self.client_id)),
            ("client_secret", span(&self.client_secret)),
            ("username", span(&self.username)),
            ("password", span(&self.password)),
            ("user_agent", span(&self.user_agent)),
            ("bearer_token", span(&self.bearer_token)),
            ("user_token", span(&self.user_token)),
            ("refresh_token", span(&self.refresh_token)),
            ("user_id", span(&self.user_id)),
            ("instance", span(&self.instance)),
            ("token", span(&self.token)),
            ("pds", span(&self.pds)),
            ("handle", span(&self.handle)),
            ("app_password", span(&self.app_password)),
            ("jetstream_url", span(&self.jetstream_url)),
            ("stream", self.stream.as_ref().map(Spanned::span)),
            ("account", span(&self.account)),
            ("channel_id", span(&self.channel_id)),
            ("api_key", span(&self.api_key)),
            ("organization", span(&self.organization)),
            ("token_expires", span(&self.token_expires)),
            ("version", span(&self.version)),
        ]
        .into_iter()
        .find_map(|(field, span)| Some((field, span?)).filter(|(field, _)| !takes.contains(field)))
    }
}

impl RawSource {
    /// The string value of `key`, for networks that read their section by key.
    fn string(&self, key: &str) -> Option<&Spanned<EnvString>> {
        match key {
            "url" => self.url.as_ref(),
            "api_url" => self.api_url.as_ref(),
            "query" => self.query.as_ref(),
            "token_url" => self.token_url.as_ref(),
            "client_id" => self.client_id.as_ref(),
            "client_secret" => self.client_secret.as_ref(),
            "refresh_token" => self.refresh_token.as_ref(),
            "token" => self.token.as_ref(),
            "channel_id" => self.channel_id.as_ref(),
            "api_key" => self.api_key.as_ref(),
            "organization" => self.organization.as_ref(),
            "token_expires" => self.token_expires.as_ref(),
            "version" => self.version.as_ref(),
            _ => None,
        }
    }

    fn span_of(&self, key: &str) -> Option<std::ops::Range<usize>> {
        match key {
            "watch" => self.watch.as_ref().map(Spanned::span),
            _ => self.string(key).map(Spanned::span),
        }
    }

    fn watch_items(&self) -> Option<Vec<String>> {
        self.watch
            .as_ref()
            .map(|watch| watch.get_ref().iter().map(|item| item.0.clone()).collect())
    }
}

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
#[cfg(test)]
mod tests;
