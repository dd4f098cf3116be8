//! `[[routes]]`: which channel a mention lands in, per chat. Checked against the sources and
//! chats the config has, so a route naming a source that does not exist, or a channel by its
//! name instead of its id, is an error with the file, the line and the key.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::sources::valid_name;
use super::EnvString;
use crate::domain::routing::{Route, Routes, When};
use crate::sources::registry;

/// What went wrong, and where: the span, the key, the message.
pub(super) type Problem = (Option<Range<usize>>, String, String);

/// Words a problem in a `when` key: its span (none: the whole `when`), the key, the message.
type Complain<'a> = &'a dyn Fn(Option<Range<usize>>, &str, String) -> Problem;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    name: Spanned<EnvString>,
    when: Spanned<RawWhen>,
    slack: Option<Spanned<EnvString>>,
    discord: Option<Spanned<EnvString>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    source: Option<Spanned<Vec<EnvString>>>,
    network: Option<Spanned<Vec<EnvString>>>,
    keywords: Option<Spanned<Vec<EnvString>>>,
    complaint: Option<bool>,
    min_score: Option<u32>,
    rating: Option<Spanned<Vec<i64>>>,
}

/// The chats' own channels, to tell a route's channel from the default.
pub(super) struct Chats<'a> {
    pub slack: Option<&'a str>,
    pub discord: Option<u64>,
}

pub(super) fn check(
    raw: Vec<Spanned<RawRoute>>,
    sources: &[String],
    chats: &Chats<'_>,
) -> Result<Routes, Problem> {
    let mut routes: Vec<Route> = Vec::new();
    for (index, section) in raw.into_iter().enumerate() {
        let span = section.span();
        let raw = section.into_inner();
        let key = |field: &str| format!("routes[{index}].{field}");
        let problem =
            |at: Range<usize>, field: &str, message: String| (Some(at), key(field), message);
        let name = raw.name.get_ref().0.clone();
        if !valid_name(&name) {
            return Err(problem(
                raw.name.span(),
                "name",
                format!("`{name}` is not a usable route name; use letters, digits, `-` and `_`"),
            ));
        }
        if routes.iter().any(|route| route.name == name) {
            return Err(problem(
                raw.name.span(),
                "name",
                format!("another route is already called `{name}`; names must be unique"),
            ));
        }
        let when_span = raw.when.span();
        let when = when(raw.when.into_inner(), sources, &|at, field, message| {
            problem(
                at.unwrap_or_else(|| when_span.clone()),
                &format!("when.{field}"),
                message,
            )
        })?;

        let mut channels = BTreeMap::new();
        if let Some(channel) = &raw.slack {
            let id = channel.get_ref().0.trim();
            let Some(own) = chats.slack else {
                return Err(problem(
                    channel.span(),
                    "slack",
                    "there is no [chat.slack] section; add it, or leave `slack` out of the route"
                        .into(),
                ));
            };
            if !slack_channel_id(id) {
                return Err(problem(
                    channel.span(),
                    "slack",
                    format!("`{id}` is not a Slack channel id; copy the id (like C0123456789) from the bottom of the channel's details, and invite the app there"),
                ));
            }
            // The chat's own channel is where unrouted mentions go anyway.
            if id != own {
                channels.insert("slack".to_string(), id.to_string());
            }
        }
        if let Some(channel) = &raw.discord {
            let id = channel.get_ref().0.trim();
            let Some(own) = chats.discord else {
                return Err(problem(
                    channel.span(),
                    "discord",
                    "there is no [chat.discord] section; add it, or leave `discord` out of the route"
                        .into(),
                ));
            };
            let Some(parsed) = discord_channel_id(id) else {
                return Err(problem(
                    channel.span(),
                    "discord",
                    format!("`{id}` is not a Discord channel id; with Developer Mode on, right-click the channel and Copy Channel ID (17 to 20 digits)"),
                ));
            };
            if parsed != own {
                channels.insert("discord".to_string(), parsed.to_string());
            }
        }
        if raw.slack.is_none() && raw.discord.is_none() {
            return Err((
                Some(span),
                key("slack"),
                format!("route `{name}` names no channel; give it `slack = \"C…\"` or `discord = \"…\"`"),
            ));
        }
        routes.push(Route {
            name,
            when,
            channels,
        });
    }
    Ok(Routes(routes))
}

fn when(raw: RawWhen, sources: &[String], problem: Complain<'_>) -> Result<When, Problem> {
    let source = match raw.source {
        Some(list) => {
            let at = list.span();
            let names: Vec<String> = list.into_inner().into_iter().map(|s| s.0).collect();
            if names.is_empty() {
                return Err(problem(
                    Some(at),
                    "source",
                    "an empty list matches nothing; name sources, or leave `source` out".into(),
                ));
            }
            if let Some(unknown) = names.iter().find(|name| !sources.contains(name)) {
                return Err(problem(
                    Some(at),
                    "source",
                    format!(
                        "unknown source `{unknown}`; the sources are: {}",
                        if sources.is_empty() {
                            "(none)".to_string()
                        } else {
                            sources.join(", ")
                        }
                    ),
                ));
            }
            Some(names)
        }
        None => None,
    };
    let network = match raw.network {
        Some(list) => {
            let at = list.span();
            let mut networks = Vec::new();
            for name in list.into_inner() {
                let network = registry::named(&name.0).ok_or_else(|| {
                    problem(
                        Some(at.clone()),
                        "network",
                        format!(
                            "unknown network `{}`; expected any of: {}",
                            name.0,
                            registry::kinds().join(", ")
                        ),
                    )
                })?;
                networks.push(network.traits.network());
            }
            if networks.is_empty() {
                return Err(problem(
                    Some(at),
                    "network",
                    "an empty list matches nothing; name networks, or leave `network` out".into(),
                ));
            }
            Some(networks)
        }
        None => None,
    };
    let keywords = match raw.keywords {
        Some(list) => {
            let at = list.span();
            let words: Vec<String> = list.into_inner().into_iter().map(|s| s.0).collect();
            let empty = words.is_empty()
                || words
                    .iter()
                    .any(|word| crate::domain::text::words(word).is_empty());
            if empty {
                return Err(problem(
                    Some(at),
                    "keywords",
                    "every keyword needs a letter or a digit, and the list at least one keyword"
                        .into(),
                ));
            }
            Some(words)
        }
        None => None,
    };
    let rating = match raw.rating {
        Some(list) => {
            let at = list.span();
            let mut stars = Vec::new();
            for value in list.into_inner() {
                match u8::try_from(value) {
                    Ok(star @ 1..=5) => stars.push(star),
                    _ => {
                        return Err(problem(
                            Some(at),
                            "rating",
                            format!(
                                "`{value}` is not a star rating; use 1 to 5, like rating = [1, 2]"
                            ),
                        ))
                    }
                }
            }
            Some(stars)
        }
        None => None,
    };
    Ok(When {
        source,
        network,
        keywords,
        complaint: raw.complaint,
        min_score: raw.min_score,
        rating,
    })
}

/// Slack channel ids: `C…` (public), `G…` (private), upper-case letters and digits.
fn slack_channel_id(id: &str) -> bool {
    id.len() >= 9
        && matches!(id.as_bytes().first(), Some(b'C' | b'G'))
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Discord channel ids are snowflakes: 17 to 20 digits.
fn discord_channel_id(id: &str) -> Option<u64> {
    ((17..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::sources::{google_play, hackernews, x};

    const BASE: &str = "[store]\npath = \"data\"\n\n[chat.slack]\nchannel = \"C0OWN00001\"\nbot_token = \"xoxb-1\"\napp_token = \"xapp-1\"\n\n[chat.discord]\nchannel_id = \"123456789012345678\"\ntoken = \"t\"\n\n[rules]\nkeywords = [\"acme\"]\n\n[[sources]]\nkind = \"hackernews\"\nname = \"hn\"\nquery = \"acme\"\n";

    fn parse(routes: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        Config::parse(&dir.path().join("earshot.toml"), &format!("{BASE}{routes}")).map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
    }

    #[test]
    fn routes_are_read_in_order_with_their_channels() {
        let config = parse(
            "\n[[routes]]\nname = \"complaints\"\nwhen = { complaint = true }\nslack = \"C0COMPLAINTS\"\ndiscord = \"123456789012345679\"\n\n[[routes]]\nname = \"hn\"\nwhen = { source = [\"hn\"], network = [\"hackernews\", \"Google Play\", \"twitter\"], keywords = [\"pricing\"], min_score = 2, rating = [1, 2] }\nslack = \"C0OWN00001\"\n",
        )
        .expect("valid");
        let routes = &config.routes.0;
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].name, "complaints");
        assert_eq!(routes[0].when.complaint, Some(true));
        assert_eq!(routes[0].channels["slack"], "C0COMPLAINTS");
        assert_eq!(routes[0].channels["discord"], "123456789012345679");
        let when = &routes[1].when;
        assert_eq!(when.source.as_deref(), Some(&["hn".to_string()][..]));
        assert_eq!(
            when.network.as_deref(),
            Some(
                &[
                    hackernews::TRAITS.network(),
                    google_play::TRAITS.network(),
                    x::TRAITS.network()
                ][..]
            )
        );
        assert_eq!(when.min_score, Some(2));
        assert_eq!(when.rating.as_deref(), Some(&[1u8, 2][..]));
        // The chat's own channel is no route channel: those mentions stay unrouted there.
        assert!(routes[1].channels.is_empty());
    }

    #[test]
    fn bad_routes_name_the_file_line_and_key() {
        let route = |body: &str| format!("\n[[routes]]\nname = \"r\"\n{body}\n");
        let cases = [
            (
                route("when = { source = [\"app-store\"] }\nslack = \"C0APPTEAM1\""),
                "DIR/earshot.toml: line 23: routes[0].when.source: unknown source `app-store`; the sources are: hn",
            ),
            (
                route("when = { complaint = true }\nslack = \"#support\""),
                "DIR/earshot.toml: line 24: routes[0].slack: `#support` is not a Slack channel id; copy the id (like C0123456789) from the bottom of the channel's details, and invite the app there",
            ),
            (
                route("when = { complaint = true }\ndiscord = \"support\""),
                "DIR/earshot.toml: line 24: routes[0].discord: `support` is not a Discord channel id; with Developer Mode on, right-click the channel and Copy Channel ID (17 to 20 digits)",
            ),
            (
                route("when = { network = [\"myspace\"] }\nslack = \"C0APPTEAM1\""),
                "DIR/earshot.toml: line 23: routes[0].when.network: unknown network `myspace`; expected any of: feed, hackernews, reddit, x, mastodon, bluesky, facebook, instagram, youtube, linkedin, google-reviews, google-play, app-store, trustpilot",
            ),
            (
                route("when = { rating = [0] }\nslack = \"C0APPTEAM1\""),
                "DIR/earshot.toml: line 23: routes[0].when.rating: `0` is not a star rating; use 1 to 5, like rating = [1, 2]",
            ),
            (
                route("when = { complaint = true }"),
                "DIR/earshot.toml: line 21: routes[0].slack: route `r` names no channel; give it `slack = \"C…\"` or `discord = \"…\"`",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(&text).unwrap_err(), expected, "{text}");
        }
        let unknown_key =
            parse(&route("when = { complain = true }\nslack = \"C0APPTEAM1\"")).unwrap_err();
        assert!(
            unknown_key.contains("unknown field `complain`"),
            "{unknown_key}"
        );
        let twice = parse(&format!(
            "{}{}",
            route("when = {}\nslack = \"C0APPTEAM1\""),
            route("when = {}\nslack = \"C0APPTEAM1\"")
        ))
        .unwrap_err();
        assert!(
            twice.contains("routes[1].name: another route is already called `r`"),
            "{twice}"
        );
    }
}
