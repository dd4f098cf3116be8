//! Routes: which channel a mention lands in, per chat. A pure table read once at ingest: the
//! first route whose `when` holds decides, and a mention no route takes goes to each chat's own
//! channel. The decision is stored with the mention ([`Placement`]), so changing the routes
//! moves new mentions only; cards already shown stay where they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::text::words;
use super::{Network, Tracked};

/// Where a mention lives in each chat, decided when it was found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The route that took it; `None`: no route did (or there were no routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// chat name ("slack", "discord") -> channel id, for the chats the route names a channel in;
    /// a chat not listed uses its own channel.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<String, String>,
}

impl Placement {
    /// The channel the mention lives in on `chat`; `None` is the chat's own channel.
    pub fn channel(&self, chat: &str) -> Option<&str> {
        self.channels.get(chat).map(String::as_str)
    }

    /// One name for the set of channels, shared by every mention placed the same way: storm
    /// mode counts arrivals per lane. The empty string is "each chat's own channel".
    pub fn lane(&self) -> String {
        self.channels
            .iter()
            .map(|(chat, channel)| format!("{chat}={channel}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The channel a [`Placement::lane`] names on `chat`; `None` is the chat's own channel.
pub fn lane_channel<'a>(lane: &'a str, chat: &str) -> Option<&'a str> {
    lane.split(',').find_map(|pair| {
        let (named, channel) = pair.split_once('=')?;
        (named == chat).then_some(channel)
    })
}

/// What a route asks of a mention; every key given must hold (an empty `When` takes all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct When {
    /// Any of these source names.
    pub source: Option<Vec<String>>,
    pub network: Option<Vec<Network>>,
    /// Any of these words or phrases, matched on whole folded words of the text.
    pub keywords: Option<Vec<String>>,
    /// Whether it is (or is not) a likely complaint.
    pub complaint: Option<bool>,
    /// At least this priority score.
    pub min_score: Option<u32>,
    /// Any of these star ratings. Only review mentions carry a rating, so a route with
    /// `rating` never takes any other mention.
    pub rating: Option<Vec<u8>>,
}

/// One `[[routes]]` entry: a name, a condition, and its channel per chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub name: String,
    pub when: When,
    /// chat name -> channel id.
    pub channels: BTreeMap<String, String>,
}

/// What routing reads of a mention.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub source: &'a str,
    pub network: Network,
    pub text: &'a str,
    pub complaint: bool,
    pub score: u32,
    /// A review's stars; `None` for every other post.
    pub rating: Option<u8>,
}

impl<'a> Subject<'a> {
    pub fn of(tracked: &'a Tracked) -> Subject<'a> {
        let mention = &tracked.mention;
        Subject {
            source: &mention.key.source,
            network: mention.network,
            text: &mention.text,
            complaint: tracked.priority.complaint,
            score: tracked.priority.score,
            rating: mention.review.as_ref().map(|review| review.rating.stars()),
        }
    }
}

impl When {
    pub fn holds(&self, subject: &Subject<'_>) -> bool {
        let any = |list: &Option<Vec<String>>, value: &str| {
            list.as_ref()
                .is_none_or(|list| list.iter().any(|item| item == value))
        };
        any(&self.source, subject.source)
            && self
                .network
                .as_ref()
                .is_none_or(|networks| networks.contains(&subject.network))
            && self
                .keywords
                .as_ref()
                .is_none_or(|keywords| mentions_any(subject.text, keywords))
            && self
                .complaint
                .is_none_or(|complaint| complaint == subject.complaint)
            && self.min_score.is_none_or(|min| subject.score >= min)
            && self.rating.as_ref().is_none_or(|ratings| {
                subject
                    .rating
                    .is_some_and(|rating| ratings.contains(&rating))
            })
    }
}

/// The routes in the order the config lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routes(pub Vec<Route>);

impl Routes {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first route that takes `subject` decides; none: each chat's own channel.
    pub fn place(&self, subject: &Subject<'_>) -> Placement {
        match self.0.iter().find(|route| route.when.holds(subject)) {
            Some(route) => Placement {
                route: Some(route.name.clone()),
                channels: route.channels.clone(),
            },
            None => Placement::default(),
        }
    }

    /// Every channel some route names on `chat`, in route order, without repeats.
    pub fn channels(&self, chat: &str) -> Vec<String> {
        let mut channels: Vec<String> = Vec::new();
        for route in &self.0 {
            if let Some(channel) = route.channels.get(chat) {
                if !channels.contains(channel) {
                    channels.push(channel.clone());
                }
            }
        }
        channels
    }
}

/// Whether any keyword's words appear in `text`, consecutively, as whole folded words.
fn mentions_any(text: &str, keywords: &[String]) -> bool {
    let text = words(text);
    keywords.iter().any(|keyword| {
        let wanted = words(keyword);
        !wanted.is_empty()
            && text
                .windows(wanted.len())
                .any(|window| window == wanted.as_slice())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::examples::{LONG, NAMING, READ_ONLY, REVIEWS};

    fn route(name: &str, when: When, slack: &str) -> Route {
        Route {
            name: name.into(),
            when,
            channels: [("slack".to_string(), slack.to_string())].into(),
        }
    }

    fn subject(source: &'static str, network: Network, text: &'static str) -> Subject<'static> {
        Subject {
            source,
            network,
            text,
            complaint: false,
            score: 0,
            rating: None,
        }
    }

    fn table() -> Routes {
        Routes(vec![
            route(
                "complaints",
                When {
                    complaint: Some(true),
                    ..When::default()
                },
                "C0COMPLAINTS",
            ),
            route(
                "app-reviews",
                When {
                    source: Some(vec!["app-store".into(), "google-play".into()]),
                    ..When::default()
                },
                "C0APPTEAM",
            ),
            route(
                "x-pricing",
                When {
                    network: Some(vec![LONG]),
                    keywords: Some(vec!["price".into(), "too expensive".into()]),
                    ..When::default()
                },
                "C0PRICING",
            ),
            route(
                "loud",
                When {
                    min_score: Some(5),
                    ..When::default()
                },
                "C0LOUD",
            ),
            route(
                "one-star",
                When {
                    rating: Some(vec![1, 2]),
                    ..When::default()
                },
                "C0STARS",
            ),
        ])
    }

    #[test]
    fn a_reviews_stars_reach_the_routes() {
        use crate::domain::{Author, Mention, MentionKey, Rating, Review, State, Tracked};
        let mut tracked = Tracked {
            number: 1,
            mention: Mention {
                key: MentionKey::new("google-play", "r1"),
                network: REVIEWS,
                author: Author::default(),
                text: "meh".into(),
                link: None,
                created_at: chrono::DateTime::UNIX_EPOCH,
                matched: vec![],
                language: None,
                in_reply_to: None,
                direct: true,
                review: Some(Review::new(Rating::new(2).unwrap())),
            },
            state: State::Open,
            received_at: chrono::DateTime::UNIX_EPOCH,
            follow_up_of: None,
            priority: Default::default(),
            place: Default::default(),
            copy: Default::default(),
        };
        assert_eq!(Subject::of(&tracked).rating, Some(2));
        tracked.mention.review = None;
        assert_eq!(Subject::of(&tracked).rating, None);
    }

    #[test]
    fn the_first_matching_route_decides_and_each_key_is_checked() {
        let routes = table();
        let mut complaint_on_store = subject("app-store", READ_ONLY, "it crashes");
        complaint_on_store.complaint = true;
        let mut loud = subject("x", LONG, "hello");
        loud.score = 7;
        let mut loud_but_low = loud;
        loud_but_low.score = 4;
        let mut one_star = subject("reviews", READ_ONLY, "meh");
        one_star.rating = Some(1);
        let mut five_stars = one_star;
        five_stars.rating = Some(5);
        let cases: &[(&str, Subject, Option<&str>, Option<&str>)] = &[
            // Both "complaints" and "app-reviews" take it: the first listed wins.
            (
                "first wins",
                complaint_on_store,
                Some("complaints"),
                Some("C0COMPLAINTS"),
            ),
            (
                "source",
                subject("google-play", READ_ONLY, "nice app"),
                Some("app-reviews"),
                Some("C0APPTEAM"),
            ),
            (
                "network and keyword phrase",
                subject("x", LONG, "Acme is TOO expensive!"),
                Some("x-pricing"),
                Some("C0PRICING"),
            ),
            (
                "keyword single word, folded",
                subject("x", LONG, "the Príce went up"),
                Some("x-pricing"),
                Some("C0PRICING"),
            ),
            (
                "keyword on another network",
                subject("m", NAMING, "the price"),
                None,
                None,
            ),
            (
                "keyword inside a word does not match",
                subject("x", LONG, "priceless"),
                None,
                None,
            ),
            ("min score reached", loud, Some("loud"), Some("C0LOUD")),
            ("min score missed", loud_but_low, None, None),
            ("rating", one_star, Some("one-star"), Some("C0STARS")),
            ("rating out of range", five_stars, None, None),
            (
                "no rating on ordinary posts",
                subject("m", NAMING, "hi"),
                None,
                None,
            ),
            ("no match", subject("hn", READ_ONLY, "acme"), None, None),
        ];
        for (what, subject, route, channel) in cases {
            let placed = routes.place(subject);
            assert_eq!(placed.route.as_deref(), *route, "{what}");
            assert_eq!(placed.channel("slack"), *channel, "{what}");
            assert_eq!(
                placed.channel("discord"),
                None,
                "{what}: no discord channel named"
            );
        }
    }

    #[test]
    fn complaint_false_takes_only_non_complaints_and_empty_when_takes_all() {
        let routes = Routes(vec![
            route(
                "praise",
                When {
                    complaint: Some(false),
                    ..When::default()
                },
                "C0PRAISE",
            ),
            route("rest", When::default(), "C0REST"),
        ]);
        let calm = subject("m", NAMING, "love it");
        let mut angry = calm;
        angry.complaint = true;
        assert_eq!(routes.place(&calm).route.as_deref(), Some("praise"));
        assert_eq!(routes.place(&angry).route.as_deref(), Some("rest"));
        assert_eq!(Routes::default().place(&calm), Placement::default());
    }

    #[test]
    fn lanes_and_channels_name_each_place_once() {
        let routes = table();
        assert_eq!(
            routes.channels("slack"),
            [
                "C0COMPLAINTS",
                "C0APPTEAM",
                "C0PRICING",
                "C0LOUD",
                "C0STARS"
            ]
        );
        assert!(routes.channels("discord").is_empty());
        let placed = Placement {
            route: Some("r".into()),
            channels: [
                ("slack".to_string(), "C1".to_string()),
                ("discord".to_string(), "9".to_string()),
            ]
            .into(),
        };
        assert_eq!(placed.lane(), "discord=9,slack=C1");
        assert_eq!(lane_channel(&placed.lane(), "slack"), Some("C1"));
        assert_eq!(lane_channel(&placed.lane(), "discord"), Some("9"));
        assert_eq!(lane_channel(&placed.lane(), "shell"), None);
        assert_eq!(lane_channel("", "slack"), None);
        assert_eq!(Placement::default().lane(), "");
    }

    #[test]
    fn a_mention_stored_before_routes_reads_as_unrouted() {
        let stored = r#"{"number":3,"mention":{"key":{"source":"s","id":"1"},"network":"x",
            "author":{"handle":"jane","name":null,"profile":null},"text":"hi","link":null,
            "created_at":"2026-11-20T12:00:00Z","matched":[],"language":null,"in_reply_to":null},
            "state":{"state":"open"},"received_at":"2026-11-20T12:00:00Z"}"#;
        let tracked: Tracked = serde_json::from_str(stored).unwrap();
        assert_eq!(tracked.place, Placement::default());
        assert_eq!(tracked.place.channel("slack"), None);
    }

    #[test]
    fn a_stored_mention_without_a_placement_reads_as_unrouted() {
        let placed: Placement = serde_json::from_str("{}").unwrap();
        assert_eq!(placed, Placement::default());
        assert_eq!(serde_json::to_string(&Placement::default()).unwrap(), "{}");
    }
}
