use super::*;
use crate::net::Secret;
use crate::sources::feed::Location;
use crate::sources::{
    bluesky, facebook, feed, hackernews, instagram, linkedin, mastodon, reddit, x, youtube,
};

const BASE: &str = "[store]\npath = \"../data/earshot\"\n\n[chat.shell]\nuser = \"you\"\n\n[rules]\nkeywords = [\"acme\", \"\\\"acme coffee\\\"\"]\nexclude = [\"vacature\"]\nown_accounts = []\n";

/// A config folder with a feed file in it.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("sample-feed.xml"), "<rss/>").expect("write feed");
    dir
}

fn parse_in(dir: &Path, text: &str) -> Result<Config, String> {
    Config::parse(&dir.join("earshot.toml"), text)
        .map_err(|e| e.to_string().replace(&dir.display().to_string(), "DIR"))
}

const FEED: &str = "\n[[sources]]\nkind = \"feed\"\nname = \"google-alerts\"\nurl = \"sample-feed.xml\"\nevery = \"5m\"\n";

#[test]
fn the_documented_keys_work_as_written() {
    let dir = folder();
    let config = parse_in(dir.path(), &format!("{BASE}{FEED}")).expect("valid");
    assert_eq!(
        config.store,
        crate::store::Location::Folder(dir.path().join("../data/earshot"))
    );
    assert_eq!(config.command, "/mentions");
    assert_eq!(config.shell.as_ref().map(|s| s.user.as_str()), Some("you"));
    assert_eq!(config.shell.as_ref().map(|s| s.answerers.len()), Some(0));
    let team = BASE.replace(
        "user = \"you\"",
        "user = \"you\"\nanswerers = [\"you\", \"jane\"]",
    );
    let config = parse_in(dir.path(), &format!("{team}{FEED}")).expect("valid");
    assert_eq!(
        config.shell.map(|s| s.answerers),
        Some(vec!["you".to_string(), "jane".to_string()])
    );
    let config = parse_in(dir.path(), &format!("{BASE}{FEED}")).expect("valid");
    assert_eq!(config.rules.keywords, vec!["acme", "\"acme coffee\""]);
    assert_eq!(config.sources.len(), 1);
    let source = &config.sources[0];
    assert_eq!(source.name, "google-alerts");
    assert_eq!(source.every, Duration::from_secs(300));
    assert!(
        matches!(source.spec.settings::<feed::Settings>(), Some(feed::Settings { location: Location::File(path) }) if path == &dir.path().join("sample-feed.xml"))
    );
    assert_eq!(config.chat_names(), vec!["shell"]);
}

#[test]
fn sources_may_override_the_global_rules() {
    let dir = folder();
    let text = format!("{BASE}{FEED}[sources.rules]\nkeywords = [\"widget\"]\n");
    let config = parse_in(dir.path(), &text).expect("valid");
    let rules = &config.sources[0].rules;
    assert_eq!(rules.keywords, vec!["widget"]);
    assert_eq!(
        rules.exclude,
        vec!["vacature"],
        "unset keys keep the global value"
    );
}

#[test]
fn urls_and_env_variables() {
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_FEED_URL", "https://alerts.example/feed?id=1");
    let text = format!(
        "{BASE}\n[[sources]]\nkind = \"feed\"\nname = \"web\"\nurl = \"${{EARSHOT_TEST_FEED_URL}}\"\n"
    );
    let config = parse_in(dir.path(), &text).expect("valid");
    assert!(
        matches!(config.sources[0].spec.settings::<feed::Settings>(), Some(feed::Settings { location: Location::Url(url) }) if url == "https://alerts.example/feed?id=1")
    );
    assert_eq!(
        config.sources[0].every,
        Duration::from_secs(300),
        "default interval"
    );
}

#[test]
fn bad_configs_name_file_line_key_and_what_was_expected() {
    let dir = folder();
    let feed = |extra: &str| format!("{BASE}{FEED}{extra}");
    let cases: Vec<(String, &str)> = vec![
        (feed("urll = 3\n"), "line 17, column 1"),
        (feed("urll = 3\n"), "unknown field `urll`, expected one of `kind`, `name`, `every`, `url`, `rules`"),
        (BASE.replace("[chat.shell]", "[chat.shel]"), "unknown field `shel`"),
        (format!("{BASE}{}", FEED.replace("5m", "5 parsecs")), "`5 parsecs` is not a duration"),
        (format!("{BASE}{}", FEED.replace("5m", "5 parsecs")), "line 16, column 9"),
        (format!("{BASE}{}", FEED.replace("5m", "1s")), "DIR/earshot.toml: line 16: sources[0].every: polling every 1s is too often; use at least 10s"),
        (format!("{BASE}{}", FEED.replace("\"feed\"", "\"rss\"")), "DIR/earshot.toml: line 13: sources[0].kind: unknown source kind `rss`; expected one of: feed, hackernews, reddit, x, mastodon, bluesky"),
        (format!("{BASE}{}", FEED.replace("sample-feed.xml", "missing.xml")), "DIR/earshot.toml: line 15: sources[0].url: no feed file at DIR/missing.xml"),
        (format!("{BASE}{}", FEED.replace("sample-feed.xml", "https://exa mple.com/")), "line 15: sources[0].url: `https://exa mple.com/` is not a valid URL"),
        (format!("{BASE}{}", FEED.replace("sample-feed.xml", "${EARSHOT_SURELY_UNSET}")), "environment variable EARSHOT_SURELY_UNSET is not set"),
        (format!("{BASE}{}", FEED.replace("google-alerts", "google alerts")), "line 14: sources[0].name: `google alerts` is not a usable name"),
        (format!("{BASE}{FEED}{FEED}"), "line 20: sources[1].name: another source is already called `google-alerts`"),
        (format!("{BASE}{}", FEED.replace("url = \"sample-feed.xml\"\n", "")), "sources[0].url: a feed needs `url`"),
        (BASE.replace("[\"acme\", \"\\\"acme coffee\\\"\"]", "[]"), "DIR/earshot.toml: rules: no keywords: earshot would relay nothing"),
        (BASE.replace("\"vacature\"", "\"!!\""), "!! hold(s) no letters or digits"),
        (BASE.replace("[chat.shell]\nuser = \"you\"\n", ""), "DIR/earshot.toml: chat: no chat is configured"),
        (BASE.replace("path = \"../data/earshot\"\n", ""), "DIR/earshot.toml: line 1: store: no store: set `path"),
        (BASE.replace("path = \"../data/earshot\"\n", "path = \"data\"\nurl = \"postgres://h/db\"\n"), "DIR/earshot.toml: line 3: store.url: the store is set twice"),
        (BASE.replace("path = \"../data/earshot\"\n", "url = \"mysql://u:s3cret@h/db\"\n"), "line 2: store.url: `mysql:` is not a PostgreSQL address"),
        (BASE.replace("path = \"../data/earshot\"\n", "url = \"postgres://u:${EARSHOT_SURELY_UNSET}@h/db\"\n"), "environment variable EARSHOT_SURELY_UNSET is not set"),
        (format!("{BASE}{FEED}every = \"1m\"\n"), "duplicate key"),
        ("this is not toml".to_string(), "line 1"),
    ];
    for (text, expected) in cases {
        let error = parse_in(dir.path(), &text).map(|_| ()).expect_err(expected);
        assert!(
            error.contains(expected),
            "expected {expected:?} in:\n{error}"
        );
        assert!(
            error.starts_with("DIR/earshot.toml: "),
            "names the file: {error}"
        );
    }
}

#[test]
fn command_name_must_be_a_slash_command() {
    let dir = folder();
    let text = BASE.replace(
        "[chat.shell]",
        "[chat]\ncommand = \"brand\"\n\n[chat.shell]",
    );
    let error = parse_in(dir.path(), &text)
        .map(|_| ())
        .expect_err("invalid");
    assert!(
        error.contains("line 5: chat.command: `brand` is not a slash command"),
        "{error}"
    );
    let text = BASE.replace(
        "[chat.shell]",
        "[chat]\ncommand = \"/brand\"\n\n[chat.shell]",
    );
    assert_eq!(
        parse_in(dir.path(), &text).map(|c| c.command),
        Ok("/brand".to_string())
    );
}

#[test]
fn env_expansion() {
    let lookup = |name: &str| (name == "TOKEN").then(|| "xoxb-1".to_string());
    assert_eq!(expand_env("plain", lookup), Ok("plain".into()));
    assert_eq!(expand_env("${TOKEN}", lookup), Ok("xoxb-1".into()));
    assert_eq!(expand_env("a-${TOKEN}-b", lookup), Ok("a-xoxb-1-b".into()));
    assert_eq!(expand_env("$${TOKEN}", lookup), Ok("${TOKEN}".into()));
    assert!(expand_env("${MISSING}", lookup)
        .unwrap_err()
        .contains("MISSING is not set"));
    assert!(expand_env("${TOKEN", lookup)
        .unwrap_err()
        .contains("without a closing"));
    assert!(expand_env("${TO KEN}", lookup)
        .unwrap_err()
        .contains("not an environment variable name"));
}

#[test]
fn secrets_never_show_in_debug_output() {
    let value = EnvString("xoxb-secret".into());
    assert_eq!(format!("{value:?}"), "\"…\"");
}

#[test]
fn network_sources_take_their_keys_and_defaults() {
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_REDDIT_SECRET", "s3cret");
    let text = format!(
        "{BASE}
[[sources]]
kind = \"hackernews\"
name = \"hn\"
query = \"acme\"

[[sources]]
kind = \"reddit\"
name = \"reddit\"
client_id = \"cid\"
client_secret = \"${{EARSHOT_TEST_REDDIT_SECRET}}\"
username = \"acmehq\"
password = \"pw\"
watch = [\"search:acme\", \"r/acmecoffee\", \"mentions\"]
token_url = \"http://127.0.0.1:9/token\"

[[sources]]
kind = \"x\"
name = \"x\"
bearer_token = \"app\"
user_id = \"9\"
watch = [\"mentions\", \"search:acme\"]
api_url = \"http://127.0.0.1:9\"
every = \"2m\"
"
    );
    let config = parse_in(dir.path(), &text).expect("valid");
    let [hn, reddit, x] = &config.sources[..] else {
        panic!("three sources")
    };
    assert!(
        matches!(hn.spec.settings::<hackernews::Settings>(), Some(s) if s.query == "acme" && s.api_url == hackernews::DEFAULT_API_URL && s.account.is_none()),
        "without `account`, Hacker News does not detect answers"
    );
    assert_eq!(hn.every, hackernews::DEFAULT_EVERY);
    let Some(settings) = reddit.spec.settings::<reddit::Settings>() else {
        panic!("reddit")
    };
    assert_eq!(settings.client_secret.expose(), "s3cret");
    assert_eq!(settings.watch.len(), 3);
    assert_eq!(settings.token_url, "http://127.0.0.1:9/token");
    assert_eq!(settings.api_url, reddit::DEFAULT_API_URL);
    assert!(settings.user_agent.contains("(by /u/acmehq)"));
    assert!(
        !format!("{settings:?}").contains("s3cret"),
        "secrets never print"
    );
    assert_eq!(reddit.every, reddit::DEFAULT_EVERY);
    assert!(
        matches!(x.spec.settings::<x::Settings>(), Some(s) if s.user_token.is_none() && s.api_url == "http://127.0.0.1:9")
    );
    assert_eq!(x.every, Duration::from_secs(120));
}

#[test]
fn hacker_news_takes_the_brand_account_as_written() {
    let dir = folder();
    let text = format!(
        "{BASE}\n[[sources]]\nkind = \"hackernews\"\nname = \"hn\"\nquery = \"acme\"\naccount = \" AcmeHQ \"\n"
    );
    let config = parse_in(dir.path(), &text).expect("valid");
    assert!(
        matches!(config.sources[0].spec.settings::<hackernews::Settings>(), Some(s) if s.account.as_deref() == Some("AcmeHQ")),
        "trimmed, case kept: HN usernames are case-sensitive"
    );
}

#[test]
fn network_sources_report_missing_foreign_and_bad_keys() {
    let dir = folder();
    let source = |body: &str| format!("{BASE}\n[[sources]]\nname = \"s\"\n{body}");
    let reddit = "kind = \"reddit\"\nclient_id = \"c\"\nclient_secret = \"s\"\nusername = \"u\"\npassword = \"p\"\n";
    let cases: Vec<(String, &str)> = vec![
        (
            source("kind = \"hackernews\"\n"),
            "sources[0].query: a hackernews source needs `query`",
        ),
        (
            source("kind = \"hackernews\"\nquery = \"acme\"\nurl = \"x\"\n"),
            "line 16: sources[0].url: a hackernews source takes no `url`",
        ),
        (
            source("kind = \"hackernews\"\nquery = \"acme\"\naccount = \"acme hq\"\n"),
            "line 16: sources[0].account: `acme hq` is not a Hacker News username",
        ),
        (
            source("kind = \"hackernews\"\nquery = \"acme\"\naccount = \"\"\n"),
            "sources[0].account: `` is not a Hacker News username",
        ),
        (
            source(&format!("{reddit}account = \"acmehq\"\n")),
            "sources[0].account: a reddit source takes no `account`",
        ),
        (
            source("kind = \"feed\"\nurl = \"sample-feed.xml\"\nquery = \"acme\"\n"),
            "sources[0].query: a feed source takes no `query`",
        ),
        (
            source("kind = \"hackernews\"\nquery = \"acme\"\napi_url = \"ftp://x\"\n"),
            "sources[0].api_url: `ftp://x` is not an http(s) URL",
        ),
        (
            source(&reddit.replace("password = \"p\"\n", "")),
            "sources[0].password: a reddit source needs `password`",
        ),
        (
            source(&format!("{reddit}watch = [\"r/no spaces\"]\n")),
            "sources[0].watch: `r/no spaces` is not a Reddit watch",
        ),
        (
            source("kind = \"x\"\nbearer_token = \"t\"\nuser_id = \"9\"\nwatch = [\"#acme\"]\n"),
            "sources[0].watch: `#acme` is not an X watch",
        ),
        (
            source("kind = \"x\"\nbearer_token = \"t\"\n"),
            "sources[0].user_id: a x source needs `user_id`",
        ),
        (
            source("kind = \"mastodont\"\n"),
            "unknown source kind `mastodont`; expected one of: feed, hackernews, reddit, x, mastodon, bluesky",
        ),
    ];
    for (text, expected) in cases {
        let error = parse_in(dir.path(), &text).map(|_| ()).expect_err(expected);
        assert!(
            error.contains(expected),
            "expected {expected:?} in:\n{error}"
        );
    }
}

#[test]
fn an_x_source_may_renew_its_user_token() {
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_X_REFRESH", "seed-token");
    let x = |extra: &str| {
        format!("{BASE}\n[[sources]]\nkind = \"x\"\nname = \"x\"\nbearer_token = \"app\"\nuser_id = \"9\"\n{extra}")
    };
    let config = parse_in(
        dir.path(),
        &x("refresh_token = \"${EARSHOT_TEST_X_REFRESH}\"\nclient_id = \"cid\"\n"),
    )
    .expect("valid");
    let Some(settings) = config.sources[0].spec.settings::<x::Settings>() else {
        panic!("x")
    };
    let refresh = settings.refresh.as_ref().expect("refreshing");
    assert_eq!(refresh.client_id, "cid");
    assert_eq!(refresh.client_secret, None, "a public client");
    assert_eq!(refresh.token.expose(), "seed-token");
    assert_eq!(refresh.token_url, x::DEFAULT_TOKEN_URL);
    assert_eq!(settings.user_token, None);
    assert!(
        !format!("{settings:?}").contains("seed-token"),
        "secrets never print"
    );

    let config = parse_in(
        dir.path(),
        &x("user_token = \"access\"\nrefresh_token = \"r\"\nclient_id = \"cid\"\nclient_secret = \"csecret\"\ntoken_url = \"http://127.0.0.1:9/2/oauth2/token\"\n"),
    )
    .expect("valid");
    let Some(settings) = config.sources[0].spec.settings::<x::Settings>() else {
        panic!("x")
    };
    let refresh = settings.refresh.as_ref().expect("refreshing");
    assert_eq!(
        refresh.client_secret.as_ref().map(Secret::expose),
        Some("csecret")
    );
    assert_eq!(refresh.token_url, "http://127.0.0.1:9/2/oauth2/token");
    assert!(!format!("{settings:?}").contains("csecret"));

    for (extra, expected) in [
        (
            "refresh_token = \"r\"\n",
            "sources[0].client_id: a x source needs `client_id`",
        ),
        (
            "client_id = \"cid\"\n",
            "line 17: sources[0].client_id: `client_id` is only used to renew the user token; set `refresh_token` too",
        ),
        (
            "token_url = \"http://127.0.0.1:9/token\"\n",
            "sources[0].token_url: `token_url` is only used to renew the user token",
        ),
        (
            "refresh_token = \"r\"\nclient_id = \"cid\"\ntoken_url = \"ftp://x\"\n",
            "sources[0].token_url: `ftp://x` is not an http(s) URL",
        ),
        (
            "refresh_token = \"r\"\nclient_id = \"cid\"\nusername = \"u\"\n",
            "sources[0].username: a x source takes no `username`",
        ),
    ] {
        let error = parse_in(dir.path(), &x(extra))
            .map(|_| ())
            .expect_err(expected);
        assert!(
            error.contains(expected),
            "expected {expected:?} in:\n{error}"
        );
    }
}

#[test]
fn a_mastodon_account_domain_beside_the_web_host() {
    let dir = folder();
    let source = |domain: &str| {
        format!("{BASE}\n[[sources]]\nkind = \"mastodon\"\ninstance = \"https://social.acme.example\"\ntoken = \"t\"\naccount_domain = \"{domain}\"\n")
    };
    let config = parse_in(dir.path(), &source("@Acme.example")).expect("valid");
    assert_eq!(
        config.sources[0].spec.home().as_deref(),
        Some("acme.example")
    );
    let error = parse_in(dir.path(), &source("https://acme.example/")).unwrap_err();
    assert!(
        error.to_string().contains("sources[0].account_domain")
            && error.to_string().contains("is not a domain"),
        "{error}"
    );
}

#[test]
fn mastodon_and_bluesky_sources() {
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_MASTODON_TOKEN", "tok-123");
    let text = format!(
        "{BASE}\n[[sources]]\nkind = \"mastodon\"\nname = \"masto\"\ninstance = \"https://mastodon.example\"\ntoken = \"${{EARSHOT_TEST_MASTODON_TOKEN}}\"\nwatch = [\"mentions\", \"#Acme\"]\nstream = true\n\n[[sources]]\nkind = \"bluesky\"\nname = \"sky\"\npds = \"https://bsky.social\"\nhandle = \"@acme.bsky.social\"\napp_password = \"abcd-efgh\"\nwatch = [\"mentions\", \"search:acme coffee\", \"jetstream\"]\njetstream_url = \"ws://127.0.0.1:9/subscribe\"\n"
    );
    let config = parse_in(dir.path(), &text).expect("valid");
    let Some(mastodon::Settings {
        instance,
        token,
        watch,
        stream,
        account_domain,
    }) = config.sources[0].spec.settings::<mastodon::Settings>()
    else {
        panic!("{:?}", config.sources[0].spec)
    };
    assert_eq!(instance.as_str(), "https://mastodon.example/");
    assert_eq!(account_domain, &None);
    // Short names in `own_accounts` are accounts on the instance's host.
    assert_eq!(
        config.sources[0].spec.home().as_deref(),
        Some("mastodon.example")
    );
    assert_eq!(token.expose(), "tok-123");
    assert!(stream);
    assert_eq!(
        watch,
        &vec![
            mastodon::Watch::Mentions,
            mastodon::Watch::Hashtag("acme".into())
        ]
    );
    assert_eq!(config.sources[0].every, Duration::from_secs(30));
    let Some(bluesky::Settings {
        pds,
        handle,
        app_password,
        watch,
        jetstream_url,
    }) = config.sources[1].spec.settings::<bluesky::Settings>()
    else {
        panic!("{:?}", config.sources[1].spec)
    };
    assert_eq!(pds.as_str(), "https://bsky.social/");
    assert_eq!(handle, "acme.bsky.social");
    assert_eq!(app_password.expose(), "abcd-efgh");
    assert_eq!(
        watch,
        &vec![
            bluesky::Watch::Mentions,
            bluesky::Watch::Search("acme coffee".into()),
            bluesky::Watch::Jetstream,
        ]
    );
    assert_eq!(jetstream_url.as_str(), "ws://127.0.0.1:9/subscribe");
    assert_eq!(config.sources[1].every, Duration::from_secs(60));
    assert!(
        !format!("{config:?}").contains("tok-123"),
        "tokens never reach a log"
    );
    assert!(!format!("{config:?}").contains("abcd-efgh"));

    let masto = "\n[[sources]]\nkind = \"mastodon\"\nname = \"m\"\ninstance = \"https://mastodon.example\"\ntoken = \"t\"\n";
    let cases = [
        (masto.replace("token = \"t\"\n", ""), "line 12: sources[0].token: a mastodon source needs `token`"),
        (masto.replace("https://mastodon.example", "mastodon.example"), "line 15: sources[0].instance: `mastodon.example` is not a valid URL"),
        (format!("{masto}watch = [\"mentions\", \"acme\"]\n"), "line 17: sources[0].watch: `acme` is not something Mastodon can watch"),
        (masto.replace("token = \"t\"", "token = \"  \""), "line 12: sources[0].token: a mastodon source needs `token`"),
        (format!("{masto}handle = \"acme\"\n"), "line 17: sources[0].handle: a mastodon source takes no `handle`"),
        ("\n[[sources]]\nkind = \"bluesky\"\nname = \"b\"\npds = \"https://bsky.social\"\nhandle = \"acme.test\"\n".to_string(), "sources[0].app_password: a bluesky source needs `app_password`"),
        ("\n[[sources]]\nkind = \"bluesky\"\nname = \"b\"\npds = \"ftp://x\"\nhandle = \"a\"\napp_password = \"p\"\n".to_string(), "sources[0].pds: `ftp://x` is not an http(s) URL"),
        ("\n[[sources]]\nkind = \"bluesky\"\nname = \"b\"\npds = \"https://x\"\nhandle = \"a\"\napp_password = \"p\"\nwatch = [\"search:\"]\n".to_string(), "is not something Bluesky can watch"),
        ("\n[[sources]]\nkind = \"bluesky\"\nname = \"b\"\npds = \"https://x\"\nhandle = \"a\"\napp_password = \"p\"\njetstream_url = \"https://jet.example\"\n".to_string(), "line 18: sources[0].jetstream_url: `https://jet.example` is not a ws(s) URL"),
        (format!("{masto}jetstream_url = \"wss://jet.example\"\n"), "line 17: sources[0].jetstream_url: a mastodon source takes no `jetstream_url`"),
        (format!("{masto}stream = \"yes\"\n"), "expected a boolean"),
    ];
    for (source, expected) in cases {
        let error = parse_in(dir.path(), &format!("{BASE}{source}"))
            .map(|_| ())
            .expect_err(expected);
        assert!(
            error.contains(expected),
            "expected {expected:?} in:\n{error}"
        );
    }
}

#[test]
fn discord_keys_work_and_mistakes_name_their_line() {
    let dir = folder();
    std::env::set_var(
        "EARSHOT_TEST_DISCORD_KEY",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    );
    let discord =
        "\n[chat.discord]\nchannel_id = \"123456789012345678\"\ntoken = \"secret-token\"\n";
    let config = parse_in(dir.path(), &format!("{BASE}{discord}")).expect("valid");
    let settings = config.discord.as_ref().expect("discord configured");
    assert_eq!(settings.channel_id, 123456789012345678);
    assert_eq!(settings.api_url, "https://discord.com");
    assert!(
        settings.guild_id.is_none() && settings.answerers.is_empty() && settings.endpoint.is_none()
    );
    assert_eq!(config.chat_names(), vec!["shell", "discord"]);
    assert!(
        !format!("{config:?}").contains("secret-token"),
        "the token never shows"
    );

    let full = format!("{discord}guild_id = \"42\"\napi_url = \"http://127.0.0.1:9/\"\nanswerers = [\"7\", \"8\"]\npublic_key = \"${{EARSHOT_TEST_DISCORD_KEY}}\"\nlisten = \"0.0.0.0:3001\"\n");
    let config = parse_in(dir.path(), &format!("{BASE}{full}")).expect("valid");
    let settings = config.discord.expect("discord configured");
    assert_eq!(settings.guild_id, Some(42));
    assert_eq!(settings.api_url, "http://127.0.0.1:9");
    assert_eq!(settings.answerers, vec![7, 8]);
    let endpoint = settings.endpoint.expect("HTTP mode");
    assert_eq!(endpoint.listen, "0.0.0.0:3001".parse().unwrap());

    let without_shell = BASE.replace("[chat.shell]\nuser = \"you\"\n", "");
    assert_eq!(
        parse_in(dir.path(), &format!("{without_shell}{discord}")).map(|c| c.chat_names()),
        Ok(vec!["discord".to_string()])
    );

    let cases = vec![
        (
            discord.replace("123456789012345678", "#general"),
            "line 13: chat.discord.channel_id: `#general` is not a Discord id",
        ),
        (
            discord.replace("secret-token", " "),
            "line 14: chat.discord.token: the bot token is empty",
        ),
        (
            format!("{discord}api_url = \"ftp://x\"\n"),
            "line 15: chat.discord.api_url: `ftp://x` is not an http(s) URL",
        ),
        (
            format!("{discord}answerers = [\"@mods\"]\n"),
            "line 15: chat.discord.answerers: `@mods` is not a Discord id",
        ),
        (
            format!("{discord}listen = \"0.0.0.0:3001\"\n"),
            "line 15: chat.discord.public_key: `listen` needs `public_key`",
        ),
        (
            format!("{discord}public_key = \"abc\"\nlisten = \"0.0.0.0:3001\"\n"),
            "line 15: chat.discord.public_key: expected the 64 hex digits",
        ),
        (
            format!(
                "{discord}public_key = \"${{EARSHOT_TEST_DISCORD_KEY}}\"\nlisten = \"port 80\"\n"
            ),
            "line 16: chat.discord.listen: `port 80` is not an address",
        ),
        (
            format!("{discord}chanel = \"1\"\n"),
            "unknown field `chanel`",
        ),
    ];
    for (section, expected) in cases {
        let error = parse_in(dir.path(), &format!("{BASE}{section}"))
            .map(|_| ())
            .expect_err(expected);
        assert!(
            error.contains(expected),
            "expected {expected:?} in:\n{error}"
        );
    }
}

const SLACK: &str = "\n[chat.slack]\nchannel = \"C0123456789\"\nbot_token = \"${EARSHOT_TEST_SLACK_BOT}\"\napp_token = \"${EARSHOT_TEST_SLACK_APP}\"\n";

#[test]
fn the_documented_slack_keys_work_as_written() {
    use crate::chat::slack::Listen;
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_SLACK_BOT", "xoxb-1-2-abc");
    std::env::set_var("EARSHOT_TEST_SLACK_APP", "xapp-1-A1-2-def");
    let config = parse_in(dir.path(), &format!("{BASE}{SLACK}")).expect("valid");
    let slack = config.slack.as_ref().expect("slack is configured");
    assert_eq!(slack.channel, "C0123456789");
    assert_eq!(slack.bot_token, "xoxb-1-2-abc");
    assert!(
        matches!(&slack.listen, Listen::Socket { app_token } if app_token == "xapp-1-A1-2-def")
    );
    assert_eq!(slack.api_url, "https://slack.com/api");
    assert!(slack.answerers.is_empty());
    assert_eq!(config.chat_names(), vec!["shell", "slack"]);
    assert!(
        !format!("{slack:?}").contains("xoxb"),
        "tokens never reach a log"
    );

    let http = format!(
        "{BASE}{SLACK}signing_secret = \"s3cret\"\nlisten = \"127.0.0.1:3000\"\napi_url = \"http://127.0.0.1:9/api\"\nanswerers = [\"U0123\", \"S0456\"]\n"
    );
    let config = parse_in(dir.path(), &http).expect("valid");
    let slack = config.slack.expect("slack is configured");
    assert!(
        matches!(&slack.listen, Listen::Http { signing_secret, address }
        if signing_secret == "s3cret" && address.port() == 3000)
    );
    assert_eq!(slack.api_url, "http://127.0.0.1:9/api");
    assert_eq!(slack.answerers, vec!["U0123", "S0456"]);

    let slack_only = BASE.replace("[chat.shell]\nuser = \"you\"\n", "") + SLACK;
    let config = parse_in(dir.path(), &slack_only).expect("slack alone is a chat");
    assert_eq!(config.chat_names(), vec!["slack"]);
}

#[test]
fn slack_mistakes_name_their_line() {
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_SLACK_BOT", "xoxb-1-2-abc");
    std::env::set_var("EARSHOT_TEST_SLACK_APP", "xapp-1-A1-2-def");
    let with = |old: &str, new: &str| format!("{BASE}{}", SLACK.replace(old, new));
    let cases = [
        (
            with("C0123456789", "#general"),
            "line 13: chat.slack.channel: `#general` is not a channel id",
        ),
        (
            with("${EARSHOT_TEST_SLACK_BOT}", "xoxp-user"),
            "line 14: chat.slack.bot_token: this is not a bot token",
        ),
        (
            with("${EARSHOT_TEST_SLACK_APP}", "xoxb-1"),
            "line 15: chat.slack.app_token: this is not an app-level token",
        ),
        (
            with("app_token = \"${EARSHOT_TEST_SLACK_APP}\"\n", ""),
            "chat.slack.app_token: Slack needs a way to reach earshot",
        ),
        (
            format!("{BASE}{SLACK}signing_secret = \"s\"\n"),
            "line 16: chat.slack.signing_secret: HTTP mode needs `listen` too",
        ),
        (
            format!("{BASE}{SLACK}signing_secret = \"s\"\nlisten = \"port 3000\"\n"),
            "line 17: chat.slack.listen: `port 3000` is not an address",
        ),
        (
            format!("{BASE}{SLACK}api_url = \"ftp://x\"\n"),
            "line 16: chat.slack.api_url: `ftp://x` is not an http(s) URL",
        ),
        (
            format!("{BASE}{SLACK}answerers = [\"jane\"]\n"),
            "line 16: chat.slack.answerers: `jane` is not a Slack user id",
        ),
        (
            format!("{BASE}{SLACK}token = \"x\"\n"),
            "unknown field `token`",
        ),
    ];
    for (text, expected) in cases {
        let error = parse_in(dir.path(), &text).map(|_| ()).expect_err(expected);
        assert!(
            error.contains(expected),
            "expected {expected:?} in:\n{error}"
        );
    }
}

#[test]
fn follow_up_sections_are_read_and_checked() {
    let dir = folder();
    let text = format!(
        "{BASE}{FEED}\n[digest]\nat = \"09:00\"\ntimezone = \"Europe/Amsterdam\"\ndays = [\"mon\", \"fri\"]\n\n[sla]\nclaim_within = \"30m\"\nanswer_within = \"4h\"\nbusiness_hours = \"mon-fri 09:00-17:00\"\nescalate_to = [\"@oncall\"]\n\n[report]\nday = \"mon\"\n"
    );
    let config = parse_in(dir.path(), &text).expect("valid");
    let follow_up = &config.follow_up;
    assert_eq!(follow_up.timezone, chrono_tz::Europe::Amsterdam);
    let digest = follow_up.digest.as_ref().expect("digest on");
    assert_eq!(
        digest.days,
        vec![chrono::Weekday::Mon, chrono::Weekday::Fri]
    );
    let sla = follow_up.sla.as_ref().expect("sla on");
    assert_eq!(sla.claim_within, chrono::Duration::minutes(30));
    assert_eq!(sla.escalate_to, vec!["@oncall"]);
    assert_eq!(sla.release_claims_after, None, "off by default");
    assert_eq!(follow_up.report.as_ref().map(|r| r.at), Some(digest.at));
    // The shipped lexicon is the default: no file beside this config.
    assert!(
        follow_up
            .lexicon
            .score("where is my refund", None)
            .complaint
    );

    let off = parse_in(dir.path(), &format!("{BASE}{FEED}")).expect("valid");
    assert!(off.follow_up.digest.is_none() && off.follow_up.sla.is_none());

    let cases = [
        ("[digest]\nat = \"9am\"\n", "line 19: digest.at: `9am` is not a time of day"),
        ("[digest]\nat = \"09:00\"\ntimezone = \"Mars/Base\"\n", "line 20: digest.timezone: `Mars/Base` is not a time zone"),
        ("[sla]\nclaim_within = \"30m\"\nanswer_within = \"4h\"\nbusiness_hours = \"weekdays\"\n", "line 21: sla.business_hours: `weekdays` is not business hours"),
        ("[priority]\nlexicon = \"missing.toml\"\n", "line 19: priority.lexicon: cannot read"),
        ("[report]\nday = \"someday\"\n", "line 19: report.day: `someday` is not a weekday"),
    ];
    for (section, expected) in cases {
        let error = parse_in(dir.path(), &format!("{BASE}{FEED}\n{section}")).unwrap_err();
        assert!(error.contains(expected), "{section}: {error}");
    }
    std::fs::write(
        dir.path().join("team.toml"),
        "complaint_at = 1\n[terms]\nlauw = 1\n",
    )
    .unwrap();
    let team = parse_in(
        dir.path(),
        &format!("{BASE}{FEED}\n[priority]\nlexicon = \"team.toml\"\n"),
    )
    .expect("valid");
    assert!(team.follow_up.lexicon.score("koffie lauw", None).complaint);
    // A lexicon whose language file has a mistake is refused, naming the file and the mistake.
    std::fs::write(
        dir.path().join("team.toml"),
        "complaint_at = 3\n[languages]\nnl = \"team-nl.toml\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("team-nl.toml"),
        "[[complaint]]\nreason = \"lauw\"\nweight = 3\npatterns = [\"{temp} koffie\"]\n",
    )
    .unwrap();
    let error = parse_in(
        dir.path(),
        &format!("{BASE}{FEED}\n[priority]\nlexicon = \"team.toml\"\n"),
    )
    .unwrap_err();
    assert!(
        error.contains("team-nl.toml") && error.contains("{temp}"),
        "{error}"
    );
}

#[test]
fn storm_mode_is_on_by_default_configurable_and_checked() {
    use crate::domain::storm::StormPolicy;
    let dir = folder();
    let config = parse_in(dir.path(), &format!("{BASE}{FEED}")).expect("valid");
    assert_eq!(config.follow_up.storm, Some(StormPolicy::default()));

    let text = format!("{BASE}{FEED}\n[storm]\nthreshold = 40\nwindow = \"10m\"\nbacklog = 80\ncalm = \"30m\"\nalert = [\"@oncall\"]\n");
    let storm = parse_in(dir.path(), &text).expect("valid").follow_up.storm;
    assert_eq!(
        storm,
        Some(StormPolicy {
            threshold: 40,
            window: chrono::Duration::minutes(10),
            backlog: 80,
            calm: chrono::Duration::minutes(30),
            alert: vec!["@oncall".into()],
        })
    );

    let off = format!("{BASE}{FEED}\n[storm]\nenabled = false\n");
    assert_eq!(
        parse_in(dir.path(), &off).expect("valid").follow_up.storm,
        None
    );

    let bad = format!("{BASE}{FEED}\n[storm]\nthreshold = 1\n");
    let error = parse_in(dir.path(), &bad).map(|_| ()).expect_err("invalid");
    assert!(
        error.contains("line 19: storm.threshold: use at least 2"),
        "{error}"
    );
    let bad = format!("{BASE}{FEED}\n[storm]\nwindow = \"10s\"\n");
    let error = parse_in(dir.path(), &bad).map(|_| ()).expect_err("invalid");
    assert!(error.contains("storm.window: use at least 1m"), "{error}");
    let bad = format!("{BASE}{FEED}\n[storm]\nthreshhold = 5\n");
    assert!(parse_in(dir.path(), &bad).is_err());
}

#[test]
fn facebook_and_instagram_sections_check_their_own_keys() {
    let dir = folder();
    let text = format!(
        "{BASE}\n[[sources]]\nkind = \"facebook\"\nname = \"facebook\"\npage_id = \"104857600000000\"\ntoken = \" EAAB \"\napp_secret = \"s\"\nwatch = [\"comments\", \"tagged\"]\n\n[[sources]]\nkind = \"instagram\"\nname = \"instagram\"\nuser_id = \"17841400000000000\"\ntoken = \"IGQ\"\n"
    );
    let config = parse_in(dir.path(), &text).expect("valid");
    let page = config.sources[0].spec.settings::<facebook::Settings>();
    assert!(
        matches!(page, Some(s) if s.page_id == "104857600000000"
            && s.watch == vec![facebook::Watch::Comments, facebook::Watch::Tagged]
            && s.token.expose() == "EAAB"
            && s.app_secret.is_some()
            && s.graph_url == crate::sources::graph::DEFAULT_GRAPH_URL),
        "{page:?}"
    );
    assert_eq!(config.sources[0].every, Duration::from_secs(120));
    let account = config.sources[1].spec.settings::<instagram::Settings>();
    assert!(
        matches!(account, Some(s) if s.user_id == "17841400000000000"
            && s.watch == instagram::Watch::ALL.to_vec()
            && s.app_secret.is_none()),
        "{account:?}"
    );

    let bad = |section: &str| {
        parse_in(dir.path(), &format!("{BASE}\n[[sources]]\n{section}")).unwrap_err()
    };
    let fb = "kind = \"facebook\"\nname = \"fb\"\ntoken = \"t\"\n";
    let cases = [
        (
            format!("{fb}page_id = \"acme\"\n"),
            "line 16: sources[0].page_id: `acme` is not a Graph id",
        ),
        (
            fb.to_string(),
            "sources[0].page_id: a facebook source needs `page_id`",
        ),
        (
            format!("{fb}page_id = \"1\"\nwatch = [\"mentions\"]\n"),
            "sources[0].watch: `mentions` is not a Facebook watch",
        ),
        (
            format!("{fb}page_id = \"1\"\nwatch = []\n"),
            "sources[0].watch: `watch` is empty",
        ),
        (
            format!("{fb}page_id = \"1\"\ngraph_url = \"ftp://x\"\n"),
            "sources[0].graph_url: `ftp://x` is not an http(s) URL",
        ),
        (
            "kind = \"instagram\"\nname = \"ig\"\nuser_id = \"1\"\ntoken = \"t\"\npage_id = \"1\"\n"
                .to_string(),
            "sources[0].page_id: a instagram source takes no `page_id`",
        ),
        (
            "kind = \"instagram\"\nname = \"ig\"\nuser_id = \"1\"\n".to_string(),
            "sources[0].token: a instagram source needs `token`",
        ),
    ];
    for (section, expected) in cases {
        let error = bad(&section);
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn a_source_is_named_after_its_kind_when_it_is_the_only_one() {
    let dir = folder();
    let unnamed = "\n[[sources]]\nkind = \"feed\"\nurl = \"sample-feed.xml\"\n";
    let hn = "\n[[sources]]\nkind = \"hackernews\"\nquery = \"acme\"\n";
    let config = parse_in(dir.path(), &format!("{BASE}{unnamed}{hn}")).expect("valid");
    let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["feed", "hackernews"]);
    assert_eq!(config.sources[1].kind, "hackernews");

    let error = parse_in(dir.path(), &format!("{BASE}{unnamed}{unnamed}")).unwrap_err();
    assert!(
        error.contains(
            "line 12: sources[0].name: there are several feed sources; give each a unique `name`"
        ),
        "{error}"
    );
    let clash =
        "\n[[sources]]\nkind = \"feed\"\nname = \"hackernews\"\nurl = \"sample-feed.xml\"\n";
    let error = parse_in(dir.path(), &format!("{BASE}{clash}{hn}")).unwrap_err();
    assert!(
        error.contains("sources[1].name: another source is already called `hackernews`"),
        "{error}"
    );
}

#[test]
fn youtube_and_linkedin_sections_are_read_by_their_own_folders() {
    let dir = folder();
    let youtube = "\n[[sources]]\nkind = \"youtube\"\nname = \"yt\"\nchannel_id = \"UCabcdefghijklmnopqrstuv\"\napi_key = \"k\"\nwatch = [\"comments\", \"search:acme coffee\"]\n";
    let linkedin = "\n[[sources]]\nkind = \"linkedin\"\nname = \"li\"\norganization = \"urn:li:organization:42\"\ntoken = \"t\"\nversion = \"202611\"\n";
    let config = parse_in(dir.path(), &format!("{BASE}{youtube}{linkedin}")).expect("valid");
    let Some(yt) = config.sources[0].spec.settings::<youtube::Settings>() else {
        panic!("not a youtube source: {:?}", config.sources[0].spec);
    };
    assert_eq!(
        yt.watch,
        vec![
            youtube::Watch::Comments,
            youtube::Watch::Search("acme coffee".into())
        ]
    );
    assert!(yt.oauth.is_none());
    assert_eq!(yt.api_url, youtube::DEFAULT_API_URL);
    assert_eq!((yt.daily_units, yt.daily_searches), (10_000, 100));
    assert_eq!(config.sources[0].kind, "youtube");
    assert_eq!(config.sources[0].every, Duration::from_secs(300));
    let Some(li) = config.sources[1].spec.settings::<linkedin::Settings>() else {
        panic!("not a linkedin source: {:?}", config.sources[1].spec);
    };
    assert_eq!(li.version, "202611");
    assert_eq!(
        li.watch,
        vec![linkedin::Watch::Mentions, linkedin::Watch::Comments]
    );
    assert!(config.sources[1]
        .spec
        .settings::<youtube::Settings>()
        .is_none());

    let error = |section: &str| parse_in(dir.path(), &format!("{BASE}{section}")).unwrap_err();
    let bad = error(&youtube.replace("UCabcdefghijklmnopqrstuv", "@acme"));
    assert!(
        bad.contains("line 15: sources[0].channel_id: `@acme` is not a YouTube channel id"),
        "{bad}"
    );
    let foreign = error(&format!("{youtube}version = \"1\"\n"));
    assert!(
        foreign.contains("a youtube source takes no `version`"),
        "{foreign}"
    );
    let missing = error(&youtube.replace("api_key = \"k\"\n", ""));
    assert!(
        missing.contains("sources[0].api_key: a youtube source needs `api_key`"),
        "{missing}"
    );
    let half_grant = error(&format!(
        "{youtube}client_id = \"c\"\nrefresh_token = \"r\"\n"
    ));
    assert!(
        half_grant.contains("sources[0].client_secret: `client_id`, `client_secret` and `refresh_token` go together (to answer as the channel); `client_secret` is missing"),
        "{half_grant}"
    );
    let watch = error(&youtube.replace("\"comments\", ", "\"videos\", "));
    assert!(
        watch.contains("sources[0].watch: `videos` is not a YouTube watch"),
        "{watch}"
    );
    let raised = parse_in(
        dir.path(),
        &format!("{BASE}{youtube}daily_units = 50000\ndaily_searches = 300\n"),
    )
    .expect("valid");
    let yt = raised.sources[0]
        .spec
        .settings::<youtube::Settings>()
        .unwrap();
    assert_eq!((yt.daily_units, yt.daily_searches), (50_000, 300));
    for (line, found) in [
        ("daily_units = 10", "found 10"),
        ("daily_units = -1", "found -1"),
        ("daily_units = \"lots\"", "found string"),
    ] {
        let bad = error(&format!("{youtube}{line}\n"));
        assert!(
            bad.contains("sources[0].daily_units: expected a whole number from 100 to 100000000")
                && bad.contains(found),
            "{bad}"
        );
    }
    let twice = error(&youtube.replace("\"search:acme coffee\"", "\"comments\""));
    assert!(twice.contains("`comments` is listed twice"), "{twice}");
    let api = error(&format!("{youtube}api_url = \"ftp://x\"\n"));
    assert!(
        api.contains("sources[0].api_url: `ftp://x` is not an http(s) URL"),
        "{api}"
    );

    let urn = error(&linkedin.replace("urn:li:organization:42", "acme"));
    assert!(
        urn.contains("line 15: sources[0].organization: `acme` is not an organization URN"),
        "{urn}"
    );
    let version = error(&linkedin.replace("202611", "2026-11"));
    assert!(
        version.contains("sources[0].version: `2026-11` is not a LinkedIn API version"),
        "{version}"
    );
    let expires = error(&format!("{linkedin}token_expires = \"soon\"\n"));
    assert!(
        expires.contains("sources[0].token_expires: `soon` is not a date"),
        "{expires}"
    );
    let no_token = error(&linkedin.replace("token = \"t\"\n", ""));
    assert!(
        no_token.contains("sources[0].token: a linkedin source needs `token`")
            && no_token.contains("or `refresh_token`, `client_id` and `client_secret`"),
        "{no_token}"
    );
    // With a refresh token, `token` may go: earshot gets one from LinkedIn's endpoint.
    let grant = "refresh_token = \"r\"\nclient_id = \"c\"\nclient_secret = \"s\"\n";
    let renewing = parse_in(
        dir.path(),
        &format!("{BASE}{}{grant}", linkedin.replace("token = \"t\"\n", "")),
    )
    .expect("valid");
    let li = renewing.sources[0]
        .spec
        .settings::<linkedin::Settings>()
        .unwrap();
    assert!(li.token.is_none());
    let refresh = li.refresh.as_ref().expect("a refresh grant");
    assert_eq!(refresh.token_url, linkedin::DEFAULT_TOKEN_URL);
    assert_eq!(refresh.client_id, "c");
    assert!(!format!("{li:?}").contains("\"s\""), "secrets never print");
    let half = error(&format!(
        "{linkedin}refresh_token = \"r\"\nclient_id = \"c\"\n"
    ));
    assert!(
        half.contains("sources[0].client_secret: `client_id`, `client_secret` and `refresh_token` go together (to renew the access token); `client_secret` is missing"),
        "{half}"
    );
    let lone_url = error(&format!(
        "{linkedin}token_url = \"https://example.test/token\"\n"
    ));
    assert!(
        lone_url
            .contains("sources[0].token_url: `token_url` is only used to renew the access token"),
        "{lone_url}"
    );
}

#[test]
fn meta_webhooks_are_read_checked_and_keep_their_secrets() {
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_META_VERIFY", "verify-me");
    std::env::set_var("EARSHOT_TEST_META_SECRET", "s3cret-app");
    let section = "\n[webhooks.meta]\nlisten = \"127.0.0.1:3002\"\nverify_token = \"${EARSHOT_TEST_META_VERIFY}\"\napp_secret = \"${EARSHOT_TEST_META_SECRET}\"\n";
    let config = parse_in(dir.path(), &format!("{BASE}{FEED}{section}")).expect("valid");
    let meta = config.meta_webhooks.as_ref().expect("on when present");
    assert_eq!(meta.listen.to_string(), "127.0.0.1:3002");
    assert_eq!(meta.verify_token.expose(), "verify-me");
    assert_eq!(meta.app_secret.expose(), "s3cret-app");
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("verify-me") && !shown.contains("s3cret-app"),
        "secrets never reach Debug: {shown}"
    );
    assert!(parse_in(dir.path(), &format!("{BASE}{FEED}"))
        .unwrap()
        .meta_webhooks
        .is_none());

    let error = |text: &str| parse_in(dir.path(), &format!("{BASE}{FEED}{text}")).unwrap_err();
    let unknown = error(&format!("{section}path = \"/hooks\"\n"));
    assert!(unknown.contains("unknown field `path`"), "{unknown}");
    let other = error("\n[webhooks.slack]\nlisten = \"x\"\n");
    assert!(other.contains("unknown field `slack`"), "{other}");
    let listen = error(&section.replace("127.0.0.1:3002", "port 3002"));
    assert!(
        listen.contains("webhooks.meta.listen: `port 3002` is not an address to listen on"),
        "{listen}"
    );
    let empty = error(&section.replace("${EARSHOT_TEST_META_SECRET}", " "));
    assert!(
        empty.contains("webhooks.meta.app_secret: `app_secret` is empty"),
        "{empty}"
    );
    let missing = error(&section.replace("verify_token = \"${EARSHOT_TEST_META_VERIFY}\"\n", ""));
    assert!(
        missing.contains("missing field `verify_token`"),
        "{missing}"
    );
}

#[test]
fn a_database_store_reads_its_password_from_the_environment_and_never_shows_it() {
    let dir = folder();
    std::env::set_var("EARSHOT_TEST_DB_PASSWORD", "s3cret");
    let text = BASE.replace(
        "path = \"../data/earshot\"\n",
        "url = \"postgres://earshot:${EARSHOT_TEST_DB_PASSWORD}@db.internal:5432/earshot\"\n",
    );
    let config = parse_in(dir.path(), &format!("{text}{FEED}")).expect("valid");
    let crate::store::Location::Postgres(url) = &config.store else {
        panic!("not a database: {:?}", config.store);
    };
    assert_eq!(
        url.expose(),
        "postgres://earshot:s3cret@db.internal:5432/earshot"
    );
    let shown = format!("{} {:?} {config:?}", config.store, config.store);
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("postgres://earshot:…@db.internal:5432/earshot"));
}
