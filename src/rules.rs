//! Which posts are mentions worth relaying: keywords that must match, words that drop a post,
//! and the brand's own accounts, which are never relayed.
//!
//! Matching is on normalised words, so accents, case, zero-width characters and look-alike
//! full-width letters cannot hide a match (nor fake one across a word boundary).

use crate::domain::text::words;
use crate::domain::Mention;

/// What a card shows as "matched" for a post addressed to the brand that names no keyword.
pub const DIRECT: &str = "@mention";
/// The same for a review of the business, which is always addressed to it.
pub const REVIEW: &str = "review";

#[derive(Debug, Clone, Default)]
pub struct Rules {
    keywords: Vec<Pattern>,
    exclude: Vec<Pattern>,
    own_accounts: Vec<String>,
    /// Where the source's posts come from (a Mastodon instance's account domain): a short name
    /// there is `name@home` to everyone else. See [`Rules::at_home`].
    home: Option<String>,
}

/// What the rules decided about a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Relay it; these keywords (as written in the config) matched.
    Relay(Vec<String>),
    Drop(DropReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    NoKeyword,
    Excluded(String),
    OwnAccount,
}

/// A keyword as written: a word, several words that must all appear, or a "quoted phrase".
#[derive(Debug, Clone)]
struct Pattern {
    written: String,
    words: Vec<String>,
    phrase: bool,
}

impl Pattern {
    fn new(written: &str) -> Option<Pattern> {
        let trimmed = written.trim();
        let (inner, phrase) = match trimmed
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
        {
            Some(inner) => (inner, true),
            None => (trimmed, false),
        };
        let words = words(inner);
        (!words.is_empty()).then(|| Pattern {
            written: trimmed.to_string(),
            phrase: phrase && words.len() > 1,
            words,
        })
    }

    fn matches(&self, text: &[String]) -> bool {
        if self.phrase {
            text.windows(self.words.len())
                .any(|window| window == self.words.as_slice())
        } else {
            self.words.iter().all(|word| text.contains(word))
        }
    }
}

impl Rules {
    /// Builds the rules; keywords that hold no letters or digits are skipped (and reported by
    /// config validation, which calls [`Rules::empty_patterns`]).
    pub fn new(keywords: &[String], exclude: &[String], own_accounts: &[String]) -> Rules {
        Rules {
            keywords: keywords.iter().filter_map(|k| Pattern::new(k)).collect(),
            exclude: exclude.iter().filter_map(|k| Pattern::new(k)).collect(),
            own_accounts: own_accounts.iter().map(|a| normalise_handle(a)).collect(),
            home: None,
        }
    }

    /// The rules for a source whose posts come from `home` (its network's account domain, as
    /// `SourceSpec::home` says). A short name in `own_accounts` (`acme_support`) then means
    /// that account on `home`, so it is also known in the full form other instances show
    /// (`acme_support@home`); and a post the instance shows by a short name is by
    /// `name@home`, which matches an own account written in full. Without a home, a short
    /// name matches only where it is shown short: the bare name on any instance would drop
    /// real customers who happen to share it.
    pub fn at_home(mut self, home: Option<String>) -> Rules {
        let Some(home) = home.map(|home| home.trim().to_lowercase()) else {
            return self;
        };
        let completed: Vec<String> = self
            .own_accounts
            .iter()
            .filter(|account| !account.contains('@') && !account.starts_with("did:"))
            .map(|account| format!("{account}@{home}"))
            .collect();
        self.own_accounts.extend(completed);
        self.home = Some(home);
        self
    }

    /// Keywords that would never match anything, such as `""` or `"!!"`.
    pub fn empty_patterns(patterns: &[String]) -> Vec<&str> {
        patterns
            .iter()
            .filter(|p| Pattern::new(p).is_none())
            .map(String::as_str)
            .collect()
    }

    pub fn judge(&self, mention: &Mention) -> Verdict {
        if identities(mention, self.home.as_deref())
            .iter()
            .any(|identity| self.own_accounts.contains(identity))
        {
            return Verdict::Drop(DropReason::OwnAccount);
        }
        let text = words(&mention.text);
        if let Some(excluded) = self.exclude.iter().find(|p| p.matches(&text)) {
            return Verdict::Drop(DropReason::Excluded(excluded.written.clone()));
        }
        let matched: Vec<String> = self
            .keywords
            .iter()
            .filter(|p| p.matches(&text))
            .map(|p| p.written.clone())
            .collect();
        if matched.is_empty() && mention.direct {
            let label = if mention.review.is_some() {
                REVIEW
            } else {
                DIRECT
            };
            Verdict::Relay(vec![label.to_string()])
        } else if matched.is_empty() {
            Verdict::Drop(DropReason::NoKeyword)
        } else {
            Verdict::Relay(matched)
        }
    }
}

fn normalise_handle(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

/// Every name the post's author goes by that `own_accounts` may use, normalised: the handle,
/// and the names the network knows them by besides it (`NetworkTraits::aliases`: a Mastodon
/// account's full name on other instances, a Bluesky author's DID), given the source's `home`.
fn identities(mention: &Mention, home: Option<&str>) -> Vec<String> {
    let handle = normalise_handle(&mention.author.handle);
    if handle.is_empty() {
        return Vec::new();
    }
    let mut names = (mention.network.traits().aliases)(mention, &handle, home);
    names.push(handle);
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Author, MentionKey, Network};

    fn post(text: &str, handle: &str) -> Mention {
        Mention {
            key: MentionKey::new("test", "1"),
            network: crate::sources::mastodon::TRAITS.network(),
            author: Author {
                handle: handle.into(),
                ..Author::default()
            },
            text: text.into(),
            link: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
            matched: vec![],
            language: None,
            in_reply_to: None,
            direct: false,
            review: None,
        }
    }

    fn rules() -> Rules {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Rules::new(
            &list(&["acme", "\"acme coffee\"", "roast beans"]),
            &list(&["vacature", "\"giveaway winner\""]),
            &list(&["@AcmeHQ", "acme@mastodon.social"]),
        )
    }

    #[test]
    fn keywords_match_whole_words_in_any_disguise() {
        let relay =
            |matched: &[&str]| Verdict::Relay(matched.iter().map(|s| s.to_string()).collect());
        let cases = [
            ("I love Acme!", relay(&["acme"])),
            ("ACME support is slow", relay(&["acme"])),
            ("#acme rocks", relay(&["acme"])),
            ("thanks @acme", relay(&["acme"])),
            ("Ácmé is great", relay(&["acme"])),
            ("ac\u{200B}me hid a space", relay(&["acme"])),
            ("ac\u{00AD}me soft hyphen", relay(&["acme"])),
            ("ＡＣＭＥ full width", relay(&["acme"])),
            ("a\u{0301}cme combining accent", relay(&["acme"])),
            ("Acme Coffee is bitter", relay(&["acme", "\"acme coffee\""])),
            ("acme's coffee", relay(&["acme"])),
            ("my <Acme> config & Vec<acme>", relay(&["acme"])),
            ("beans we roast daily", relay(&["roast beans"])),
            ("acmecorp is not us", Verdict::Drop(DropReason::NoKeyword)),
            ("coffee only", Verdict::Drop(DropReason::NoKeyword)),
            ("beans only", Verdict::Drop(DropReason::NoKeyword)),
            ("", Verdict::Drop(DropReason::NoKeyword)),
            (
                "Vacature: barista bij Acme",
                Verdict::Drop(DropReason::Excluded("vacature".into())),
            ),
            (
                "Acme giveaway winner announced",
                Verdict::Drop(DropReason::Excluded("\"giveaway winner\"".into())),
            ),
            ("Acme winner of the giveaway", relay(&["acme"])),
        ];
        let rules = rules();
        for (text, verdict) in cases {
            assert_eq!(
                rules.judge(&post(text, "someone")),
                verdict,
                "text: {text:?}"
            );
        }
    }

    #[test]
    fn own_accounts_are_never_relayed() {
        let rules = rules();
        for handle in ["acmehq", "@AcmeHQ", "acme@mastodon.social"] {
            assert_eq!(
                rules.judge(&post("acme news", handle)),
                Verdict::Drop(DropReason::OwnAccount),
                "{handle}"
            );
        }
        assert!(matches!(
            rules.judge(&post("acme news", "acme@other.example")),
            Verdict::Relay(_)
        ));
    }

    #[test]
    fn direct_mentions_need_no_keyword_but_obey_exclusions() {
        let rules = rules();
        let direct = |text: &str, handle: &str| Mention {
            direct: true,
            ..post(text, handle)
        };
        assert_eq!(
            rules.judge(&direct("@acmehq your lids leak", "jane")),
            Verdict::Relay(vec![DIRECT.into()])
        );
        assert_eq!(
            rules.judge(&direct("hello acme", "jane")),
            Verdict::Relay(vec!["acme".into()]),
            "keywords still show when they match"
        );
        assert_eq!(
            rules.judge(&direct("vacature", "jane")),
            Verdict::Drop(DropReason::Excluded("vacature".into()))
        );
        assert_eq!(
            rules.judge(&direct("note to self", "acmehq")),
            Verdict::Drop(DropReason::OwnAccount)
        );
        assert_eq!(
            rules.judge(&post("@acmehq your lids leak", "jane")),
            Verdict::Drop(DropReason::NoKeyword)
        );
    }

    #[test]
    fn own_accounts_match_in_every_form_a_network_shows_them() {
        let rules = Rules::new(
            &["acme".to_string()],
            &[],
            &[
                "@acme_support@mastodon.social".to_string(),
                "@acme.bsky.social".to_string(),
                "did:plc:acmeoffice".to_string(),
            ],
        );
        let on = |network: Network, handle: &str, profile: Option<&str>, id: &str| Mention {
            network,
            key: MentionKey::new("test", id),
            author: Author {
                handle: handle.into(),
                name: None,
                profile: profile.map(str::to_string),
            },
            ..post("acme news", handle)
        };
        let own = Verdict::Drop(DropReason::OwnAccount);
        let mastodon = |handle: &str, profile: &str| {
            on(
                crate::sources::mastodon::TRAITS.network(),
                handle,
                Some(profile),
                "1",
            )
        };
        // As its own instance shows it, and as another instance does.
        assert_eq!(
            rules.judge(&mastodon(
                "acme_support",
                "https://mastodon.social/@acme_support"
            )),
            own
        );
        assert_eq!(
            rules.judge(&mastodon(
                "Acme_Support@Mastodon.social",
                "https://mastodon.social/@acme_support"
            )),
            own
        );
        // The same name on another instance is someone else.
        assert_ne!(
            rules.judge(&mastodon(
                "acme_support",
                "https://other.example/@acme_support"
            )),
            own
        );
        assert_ne!(
            rules.judge(&mastodon(
                "acme_support@other.example",
                "https://other.example/@acme_support"
            )),
            own
        );

        let bluesky = |handle: &str, did: &str| {
            on(
                crate::sources::bluesky::TRAITS.network(),
                handle,
                None,
                &format!("at://{did}/app.bsky.feed.post/3k"),
            )
        };
        assert_eq!(
            rules.judge(&bluesky("acme.bsky.social", "did:plc:acme")),
            own
        );
        assert_eq!(
            rules.judge(&bluesky("@ACME.bsky.social", "did:plc:acme")),
            own
        );
        // Known by its DID only (a Jetstream post before its handle is looked up), or by a
        // handle the config does not name.
        assert_eq!(
            rules.judge(&bluesky("did:plc:acmeoffice", "did:plc:acmeoffice")),
            own
        );
        assert_eq!(
            rules.judge(&bluesky("office.acme.example", "did:plc:acmeoffice")),
            own
        );
        assert_ne!(rules.judge(&bluesky("fan.bsky.social", "did:plc:fan")), own);
    }

    #[test]
    fn a_short_own_account_is_known_in_full_form_from_its_home() {
        let mastodon = |handle: &str, profile: &str| Mention {
            author: Author {
                handle: handle.into(),
                name: None,
                profile: Some(profile.into()),
            },
            ..post("acme news", handle)
        };
        let own = Verdict::Drop(DropReason::OwnAccount);
        let short = || Rules::new(&["acme".to_string()], &[], &["acme_support".to_string()]);
        let from_elsewhere = mastodon(
            "acme_support@mastodon.social",
            "https://mastodon.social/@acme_support",
        );
        // The source reads mastodon.social: its short name is that account everywhere.
        let home = short().at_home(Some("Mastodon.social".into()));
        assert_eq!(home.judge(&from_elsewhere), own);
        assert_eq!(
            home.judge(&mastodon(
                "acme_support",
                "https://mastodon.social/@acme_support"
            )),
            own
        );
        // The same name on another instance is a customer, with or without a home.
        let stranger = mastodon(
            "acme_support@other.example",
            "https://other.example/@acme_support",
        );
        assert_ne!(home.judge(&stranger), own);
        assert_ne!(short().judge(&stranger), own);
        // Without a home the full form cannot be told from a stranger's, so it is relayed.
        assert_ne!(short().judge(&from_elsewhere), own);
    }

    #[test]
    fn an_account_domain_beside_the_web_host_is_the_accounts_home() {
        // Accounts are @name@acme.example; the server answers at social.acme.example, which
        // is also where its profile links point.
        let rules = Rules::new(
            &["acme".to_string()],
            &[],
            &["@support@acme.example".to_string()],
        )
        .at_home(Some("acme.example".into()));
        let local = Mention {
            author: Author {
                handle: "support".into(),
                name: None,
                profile: Some("https://social.acme.example/@support".into()),
            },
            ..post("acme news", "support")
        };
        assert_eq!(rules.judge(&local), Verdict::Drop(DropReason::OwnAccount));
        let customer = Mention {
            author: Author {
                handle: "jane".into(),
                name: None,
                profile: Some("https://social.acme.example/@jane".into()),
            },
            ..post("acme news", "jane")
        };
        assert_eq!(rules.judge(&customer), Verdict::Relay(vec!["acme".into()]));
    }

    #[test]
    fn patterns_without_words_are_reported() {
        let patterns = vec!["acme".to_string(), "\"\"".to_string(), "!!".to_string()];
        assert_eq!(Rules::empty_patterns(&patterns), vec!["\"\"", "!!"]);
    }
}
