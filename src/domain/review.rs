//! Reviews: a mention with a rating (Google Business Profile, the App Store, Google Play,
//! Trustpilot). Everything here is pure: how a review reads on a card, how its rating weighs on
//! the priority, and what changed when a source reads a known review again.
//!
//! A review source fills [`Mention::review`]; the rest of earshot treats the mention as any
//! other, plus: a rating of 1 or 2 makes it a likely complaint, an edit reopens it, and a reply
//! by the business (through earshot or not) is remembered, because on these networks an answer
//! replaces the earlier reply instead of adding one.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::mention::Mention;
use super::priority::Priority;

/// How much a low rating adds to the lexicon's score: enough that a one-star review sorts
/// before a complaint found by words alone (the lexicon's strongest terms weigh 3).
const ONE_STAR_WEIGHT: u32 = 6;
const TWO_STAR_WEIGHT: u32 = 4;

/// Stars, 1 to 5. Networks that rate otherwise (Trustpilot's 1-5, Google's `ONE`..`FIVE`)
/// convert at the edge; anything out of range is refused there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub fn new(stars: u8) -> Option<Rating> {
        (1..=5).contains(&stars).then_some(Rating(stars))
    }

    pub fn stars(self) -> u8 {
        self.0
    }

    /// A rating of 1 or 2: the reviewer is unhappy, whatever the words say.
    pub fn is_low(self) -> bool {
        self.0 <= 2
    }
}

impl TryFrom<u8> for Rating {
    type Error = String;

    fn try_from(stars: u8) -> Result<Rating, String> {
        Rating::new(stars).ok_or_else(|| format!("a rating is 1 to 5 stars, not {stars}"))
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> u8 {
        rating.0
    }
}

impl fmt::Display for Rating {
    /// `★★☆☆☆ 2/5`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = usize::from(self.0);
        write!(
            f,
            "{}{} {}/5",
            "★".repeat(full),
            "☆".repeat(5 - full),
            self.0
        )
    }
}

/// What a review adds to a mention. The mention's `text` is the review's text ("" when the
/// reviewer left only stars), its `author` the reviewer, its `created_at` when it was first
/// written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub rating: Rating,
    /// The review's own title, where the network has one (App Store, Trustpilot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What was reviewed: the shop's location or the app, as the team knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The app version the reviewer ran (App Store, Google Play).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The store's country or region (App Store territories such as `NLD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
    /// When the reviewer last changed it, where the network says (Google's `updateTime`,
    /// Play's `lastModified`, Trustpilot's `updatedAt`). Without it, edits are found by
    /// comparing the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The business's public reply as the network shows it now, if there is one. A source sets
    /// it whenever it sees one; `None` means it saw none (earshot then keeps the reply it knew).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<BusinessReply>,
}

/// The business's reply under a review. There is at most one: answering again replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessReply {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl Review {
    pub fn new(rating: Rating) -> Review {
        Review {
            rating,
            title: None,
            place: None,
            version: None,
            territory: None,
            updated_at: None,
            reply: None,
        }
    }

    /// The line a card leads with: `★★☆☆☆ 2/5 · Acme Coffee Utrecht · v2.3.1 · NLD`.
    pub fn headline(&self) -> String {
        let mut parts = vec![self.rating.to_string()];
        parts.extend(self.place.iter().cloned());
        parts.extend(self.version.iter().map(|version| format!("v{version}")));
        parts.extend(self.territory.iter().cloned());
        parts.join(" · ")
    }
}

/// What a card shows as a review's body: its title and text, or "no text" for stars alone.
pub fn body(review: &Review, text: &str) -> String {
    let text = text.trim();
    match (review.title.as_deref().map(str::trim), text.is_empty()) {
        (Some(title), false) if !title.is_empty() => format!("{title}\n{text}"),
        (Some(title), true) if !title.is_empty() => format!("{title}\n(no text)"),
        (_, true) => "(no text)".to_string(),
        (_, false) => text.to_string(),
    }
}

/// A one-line list's words for a mention: for a review, its stars and first words (or "no
/// text"); for anything else, the first words.
pub fn excerpt(mention: &Mention, max_chars: usize) -> String {
    match &mention.review {
        Some(found) if mention.text.trim().is_empty() => format!("{} · no text", found.rating),
        Some(found) => format!("{} · {}", found.rating, mention.excerpt(max_chars)),
        None => mention.excerpt(max_chars),
    }
}

/// The reply a new answer would replace, quoted, for the person about to answer.
pub fn replaced(mention: &Mention, max_chars: usize) -> Option<String> {
    let reply = mention.review.as_ref()?.reply.as_ref()?;
    Some(format!(
        "It replaces the reply on {} now: {}",
        mention.network,
        quote(&reply.text, max_chars)
    ))
}

/// `batch` as the store first records it: reviews without the business's reply, so that a
/// reply already there when a review is first read answers it (see `Store::revise`), with its
/// text in the history, just as one that comes later. Borrowed when no review has a reply.
pub fn without_replies(batch: &[Mention]) -> std::borrow::Cow<'_, [Mention]> {
    let replied = |mention: &Mention| {
        mention
            .review
            .as_ref()
            .is_some_and(|found| found.reply.is_some())
    };
    if !batch.iter().any(replied) {
        return std::borrow::Cow::Borrowed(batch);
    }
    let mut first = batch.to_vec();
    for found in first
        .iter_mut()
        .filter_map(|mention| mention.review.as_mut())
    {
        found.reply = None;
    }
    std::borrow::Cow::Owned(first)
}

/// The priority of a review: the lexicon's score of its words, plus the weight of a low
/// rating, which alone makes it a likely complaint.
pub fn rated(mut priority: Priority, review: &Review) -> Priority {
    let weight = match review.rating.stars() {
        1 => ONE_STAR_WEIGHT,
        2 => TWO_STAR_WEIGHT,
        _ => return priority,
    };
    priority.score = priority.score.saturating_add(weight);
    priority.complaint = true;
    priority
        .reasons
        .insert(0, format!("{}★ review", review.rating.stars()));
    priority
}

/// What changed between the stored copy of a review and a new read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The reviewer changed the stars, the title or the text: "2★ → 4★, new text".
    pub edit: Option<String>,
    /// The business's reply as the network now shows it, when it is new or different.
    pub reply: Option<BusinessReply>,
}

impl Revision {
    pub fn is_empty(&self) -> bool {
        self.edit.is_none() && self.reply.is_none()
    }
}

/// Compares a stored review with a new read of it. A read older than the stored copy (by the
/// network's update time, where both have one) changes nothing, so a stale page cannot undo an
/// edit. A read that shows no reply keeps the stored one.
pub fn revise(stored: &Mention, read: &Mention) -> Revision {
    let unchanged = Revision {
        edit: None,
        reply: None,
    };
    let (Some(before), Some(after)) = (&stored.review, &read.review) else {
        return unchanged;
    };
    if let (Some(was), Some(now)) = (before.updated_at, after.updated_at) {
        if now < was {
            return unchanged;
        }
    }
    let mut changes = Vec::new();
    if before.rating != after.rating {
        changes.push(format!(
            "{}★ → {}★",
            before.rating.stars(),
            after.rating.stars()
        ));
    }
    if before.title != after.title {
        changes.push("new title".to_string());
    }
    if stored.text.trim() != read.text.trim() {
        changes.push(if read.text.trim().is_empty() {
            "text removed".to_string()
        } else {
            "new text".to_string()
        });
    }
    let reply = match (&before.reply, &after.reply) {
        (_, None) => None,
        (Some(known), Some(seen)) if known.text.trim() == seen.text.trim() => None,
        (_, Some(seen)) => Some(seen.clone()),
    };
    Revision {
        edit: (!changes.is_empty()).then(|| changes.join(", ")),
        reply,
    }
}

/// A reply quoted in a history note or a confirmation: one line, at most `max` characters.
pub fn quote(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return format!("“{flat}”");
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("“{}…”", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::examples::REVIEWS;
    use crate::domain::{Author, MentionKey};

    fn review(stars: u8) -> Review {
        Review::new(Rating::new(stars).unwrap())
    }

    fn mention(text: &str, review: Review) -> Mention {
        Mention {
            key: MentionKey::new("play", "r1"),
            network: REVIEWS,
            author: Author::default(),
            text: text.into(),
            link: None,
            created_at: DateTime::UNIX_EPOCH,
            matched: vec![],
            language: None,
            in_reply_to: None,
            direct: true,
            review: Some(review),
        }
    }

    #[test]
    fn ratings_are_one_to_five_and_show_as_stars() {
        assert_eq!(Rating::new(0), None);
        assert_eq!(Rating::new(6), None);
        assert_eq!(Rating::new(2).unwrap().to_string(), "★★☆☆☆ 2/5");
        assert_eq!(Rating::new(5).unwrap().to_string(), "★★★★★ 5/5");
        assert!(serde_json::from_str::<Rating>("7").is_err());
        assert_eq!(serde_json::from_str::<Rating>("1").unwrap().stars(), 1);
    }

    #[test]
    fn headline_and_body_name_what_the_network_gives() {
        let mut full = review(2);
        full.place = Some("Acme Coffee Utrecht".into());
        full.version = Some("2.3.1".into());
        full.territory = Some("NLD".into());
        assert_eq!(
            full.headline(),
            "★★☆☆☆ 2/5 · Acme Coffee Utrecht · v2.3.1 · NLD"
        );
        assert_eq!(review(4).headline(), "★★★★☆ 4/5");
        assert_eq!(body(&review(4), "  "), "(no text)");
        assert_eq!(body(&review(4), "Great"), "Great");
        full.title = Some("Leaky lids".into());
        assert_eq!(body(&full, "They leak"), "Leaky lids\nThey leak");
        assert_eq!(body(&full, ""), "Leaky lids\n(no text)");
    }

    #[test]
    fn low_ratings_are_complaints_and_the_lexicon_still_adds() {
        let words = Priority {
            score: 3,
            complaint: true,
            reasons: vec!["refund".into()],
        };
        let one = rated(words.clone(), &review(1));
        assert_eq!(one.score, 3 + ONE_STAR_WEIGHT);
        assert_eq!(one.reasons, vec!["1★ review", "refund"]);
        let two = rated(Priority::default(), &review(2));
        assert!(two.complaint);
        assert_eq!(two.score, TWO_STAR_WEIGHT);
        assert_eq!(rated(Priority::default(), &review(3)), Priority::default());
        assert_eq!(rated(words.clone(), &review(5)), words);
    }

    #[test]
    fn revisions_name_what_changed() {
        let stored = mention("meh", review(2));
        assert!(revise(&stored, &stored.clone()).is_empty());
        let edited = mention("fixed now, thanks", review(4));
        assert_eq!(
            revise(&stored, &edited).edit.as_deref(),
            Some("2★ → 4★, new text")
        );
        let only_text = mention("meh!", review(2));
        assert_eq!(
            revise(&stored, &only_text).edit.as_deref(),
            Some("new text")
        );
        assert_eq!(
            revise(&stored, &mention("", review(2))).edit.as_deref(),
            Some("text removed")
        );
        assert_eq!(
            revise(&stored, &mention(" meh ", review(2))),
            Revision {
                edit: None,
                reply: None
            },
            "whitespace is no edit"
        );
    }

    #[test]
    fn a_stale_read_changes_nothing() {
        let at = |secs| DateTime::from_timestamp(secs, 0);
        let mut newer = review(4);
        newer.updated_at = at(2_000);
        let mut older = review(2);
        older.updated_at = at(1_000);
        let stored = mention("fixed", newer);
        assert!(revise(&stored, &mention("meh", older)).is_empty());
    }

    #[test]
    fn replies_count_when_new_or_different_and_absence_keeps_the_known_one() {
        let reply = |text: &str| BusinessReply {
            text: text.into(),
            at: None,
        };
        let mut with_reply = review(2);
        with_reply.reply = Some(reply("Sorry, fixed in 2.4"));
        let stored = mention("meh", review(2));
        let answered = mention("meh", with_reply.clone());
        assert_eq!(
            revise(&stored, &answered).reply,
            Some(reply("Sorry, fixed in 2.4"))
        );
        assert!(revise(&answered, &answered.clone()).is_empty());
        assert!(revise(&answered, &stored).is_empty(), "no reply seen: kept");
        let mut other = with_reply;
        other.reply = Some(reply("Fixed in 2.5"));
        assert_eq!(
            revise(&answered, &mention("meh", other)).reply,
            Some(reply("Fixed in 2.5"))
        );
    }

    #[test]
    fn quotes_are_one_line_and_cut() {
        assert_eq!(quote("Thanks\nfor  this", 40), "“Thanks for this”");
        assert_eq!(quote("abcdefghij", 5), "“abcd…”");
    }
}
