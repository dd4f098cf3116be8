//! How a mention looks in Discord: one message with an embed and the buttons that fit its
//! state, and the history notes in its thread. Relayed text is escaped and every message
//! carries an empty `allowed_mentions`, so a post can neither spoof markup nor ping anyone.

use chrono::{DateTime, Utc};
use serenity::all::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedAuthor, CreateEmbedFooter, CreateMessage, EditMessage, MessageId, MessageReference,
    Nonce, RoleId, Timestamp, UserId,
};

use super::commands::Button;
use crate::domain::lifecycle::{offers, Offer};
use crate::domain::{Network, Status, Tracked};

/// Discord's embed description limit is 4096; a shorter cut keeps the whole embed (6000 in
/// all) within bounds whatever the other fields hold.
const TEXT_LIMIT: usize = 3000;
/// Embed field values take at most 1,024 characters; a card's are cut shorter, because an embed may hold
/// 6,000 characters in all: author and title and footer (256 each), the text (3,000) and four
/// fields of this size stay below it.
const CARD_FIELD_LIMIT: usize = 500;
/// Discord refuses an embed whose URLs are longer than this; such a link is left out.
const URL_LIMIT: usize = 2_048;
/// Message content takes at most 2000 characters.
pub const CONTENT_LIMIT: usize = 2000;
/// Embed titles and author names take at most 256 characters.
const TITLE_LIMIT: usize = 256;
/// Discord keeps a nonce for a few minutes and takes at most 25 characters.
const NONCE_LIMIT: usize = 25;

/// A new mention's message. Its nonce is derived from the mention, and `enforce_nonce` makes
/// Discord return the first message instead of posting a second one when the outbox retries
/// after a crash between sending and recording.
pub fn message(tracked: &Tracked, now: DateTime<Utc>) -> CreateMessage {
    CreateMessage::new()
        .embed(embed(tracked, now))
        .components(buttons(tracked))
        .allowed_mentions(CreateAllowedMentions::new())
        .nonce(Nonce::String(nonce(&[
            "post",
            &tracked.number.to_string(),
            &tracked.mention.key.to_string(),
        ])))
        .enforce_nonce(true)
}

/// The same message re-rendered after a change.
pub fn edit(tracked: &Tracked, now: DateTime<Utc>) -> EditMessage {
    EditMessage::new()
        .embed(embed(tracked, now))
        .components(buttons(tracked))
        .allowed_mentions(CreateAllowedMentions::new())
}

/// A history line in the mention's thread (or, where threads are refused, a reply to its
/// message). The state it led to is part of the nonce, so a retried update is not noted twice
/// while the same words later in the mention's life (claimed again) still are.
pub fn note(
    channel: u64,
    message: u64,
    tracked: &Tracked,
    note: &str,
    as_reply: bool,
) -> CreateMessage {
    let state = serde_json::to_string(&tracked.state).unwrap_or_default();
    let mut note = CreateMessage::new()
        .content(truncate(
            &escape(&format!("#{} {note}", tracked.number)),
            CONTENT_LIMIT,
        ))
        .allowed_mentions(CreateAllowedMentions::new())
        .nonce(Nonce::String(nonce(&[
            "note",
            &message.to_string(),
            note,
            &state,
        ])))
        .enforce_nonce(true);
    if as_reply {
        note = note.reference_message(
            MessageReference::from((ChannelId::new(channel), MessageId::new(message)))
                .fail_if_not_exists(false),
        );
    }
    note
}

/// A message for the channel that belongs to no single mention (the daily digest, the weekly
/// report's caption), escaped and split on line breaks into messages Discord takes. Each part
/// has a nonce from the text, so a retried notice is not posted twice.
pub fn notice(channel: u64, text: &str) -> Vec<CreateMessage> {
    let parts = split(&escape(text), CONTENT_LIMIT);
    parts
        .iter()
        .enumerate()
        .map(|(at, part)| {
            CreateMessage::new()
                .content(part.as_str())
                .allowed_mentions(CreateAllowedMentions::new())
                .nonce(Nonce::String(nonce(&[
                    "notice",
                    &channel.to_string(),
                    text,
                    &at.to_string(),
                ])))
                .enforce_nonce(true)
        })
        .collect()
}

/// A storm's summary card: one message (cut to Discord's limit rather than split, so it has one
/// id to edit), escaped and pinging nobody. The nonce comes from the text, so a retried post is
/// not shown twice.
pub fn summary(channel: u64, text: &str) -> CreateMessage {
    CreateMessage::new()
        .content(truncate(&escape(text), CONTENT_LIMIT))
        .allowed_mentions(CreateAllowedMentions::new())
        .nonce(Nonce::String(nonce(&[
            "summary",
            &channel.to_string(),
            text,
        ])))
        .enforce_nonce(true)
}

/// The summary card re-rendered as the storm grows, escaped and pinging nobody like the post.
pub fn summary_edit(text: &str) -> EditMessage {
    EditMessage::new()
        .content(truncate(&escape(text), CONTENT_LIMIT))
        .allowed_mentions(CreateAllowedMentions::new())
}

/// The JSON part of a message carrying a file (the weekly report's chart): the caption,
/// escaped and pinging nobody, and the file as attachment 0.
pub fn upload(caption: &str, file_name: &str) -> serde_json::Value {
    serde_json::json!({
        "content": truncate(&escape(caption), CONTENT_LIMIT),
        "allowed_mentions": { "parse": [] },
        "attachments": [{ "id": 0, "filename": file_name }],
    })
}

/// A direct message to one member; it quotes relayed text, so it pings nobody.
pub fn direct(text: &str) -> CreateMessage {
    CreateMessage::new()
        .content(truncate(&escape(text), CONTENT_LIMIT))
        .allowed_mentions(CreateAllowedMentions::new())
}

/// A reminder about an unclaimed mention in its thread (or, where threads are refused, a reply
/// to its message), led by the escalation targets it alerts: `allowed_mentions` lists exactly
/// those, so nothing in the text can ping anyone else.
pub fn nudge(
    channel: u64,
    message: u64,
    text: &str,
    ping: &[String],
    as_reply: bool,
) -> CreateMessage {
    let targets: Vec<Target> = ping.iter().map(|who| Target::parse(who)).collect();
    let mut allowed = CreateAllowedMentions::new();
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut line = String::new();
    for target in &targets {
        match target {
            Target::Everyone => allowed = allowed.everyone(true),
            Target::Here => allowed = allowed.everyone(true),
            Target::User(id) => users.push(UserId::new(*id)),
            Target::Role(id) => roles.push(RoleId::new(*id)),
            Target::Name(_) => {}
        }
        line.push_str(&target.render());
        line.push(' ');
    }
    line.push_str(&escape(text));
    let mut nudge = CreateMessage::new()
        .content(truncate(&line, CONTENT_LIMIT))
        .allowed_mentions(allowed.users(users).roles(roles))
        .nonce(Nonce::String(nonce(&[
            "nudge",
            &message.to_string(),
            text,
            &ping.join(" "),
        ])))
        .enforce_nonce(true);
    if as_reply && message != 0 {
        nudge = nudge.reference_message(
            MessageReference::from((ChannelId::new(channel), MessageId::new(message)))
                .fail_if_not_exists(false),
        );
    }
    nudge
}

/// Who an escalation alerts. Discord ids do not say whether they name a user or a role, so
/// roles are written `<@&id>` (or `role:id`) and users `<@id>`, `user:id` or the bare id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `@everyone`, or `@channel` as the core says it.
    Everyone,
    Here,
    User(u64),
    Role(u64),
    /// Not something Discord can alert (a name from another chat): shown, escaped.
    Name(String),
}

impl Target {
    pub fn parse(who: &str) -> Target {
        let who = who.trim();
        let id = |text: &str| {
            text.parse::<u64>()
                .ok()
                .filter(|id| *id > 0 && text.chars().all(|c| c.is_ascii_digit()))
        };
        let wrapped = |prefix: &str| {
            who.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix('>'))
                .and_then(id)
        };
        match who {
            "@everyone" | "@channel" => return Target::Everyone,
            "@here" => return Target::Here,
            _ => {}
        }
        if let Some(role) = wrapped("<@&").or_else(|| who.strip_prefix("role:").and_then(id)) {
            Target::Role(role)
        } else if let Some(user) = wrapped("<@!")
            .or_else(|| wrapped("<@"))
            .or_else(|| who.strip_prefix("user:").and_then(id))
            .or_else(|| id(who))
        {
            Target::User(user)
        } else {
            Target::Name(who.to_string())
        }
    }

    pub fn render(&self) -> String {
        match self {
            Target::Everyone => "@everyone".into(),
            Target::Here => "@here".into(),
            Target::User(id) => format!("<@{id}>"),
            Target::Role(id) => format!("<@&{id}>"),
            Target::Name(name) => escape(name),
        }
    }
}

/// Cuts `text` into pieces of at most `max` characters, at line breaks where it can, and
/// never right after an escaping backslash.
fn split(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if current.chars().count() + line.chars().count() > max && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        let mut rest = line;
        while rest.chars().count() > max {
            let mut cut = rest
                .char_indices()
                .nth(max)
                .map_or(rest.len(), |(at, _)| at);
            while cut > 1 && rest[..cut].ends_with('\\') {
                cut -= 1;
            }
            parts.push(rest[..cut].to_string());
            rest = &rest[cut..];
        }
        current.push_str(rest);
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

/// The embed: network colour and name, the author linked to their profile, the text, the link,
/// when it was posted, the matched keywords and where it stands.
pub fn embed(tracked: &Tracked, now: DateTime<Utc>) -> CreateEmbed {
    let mention = &tracked.mention;
    let mut author = CreateEmbedAuthor::new(truncate(&mention.author.display(), TITLE_LIMIT));
    if let Some(profile) = mention
        .author
        .profile
        .as_deref()
        .filter(|url| linkable(url))
    {
        author = author.url(profile);
    }
    let title = format!(
        "#{} · {} · {}",
        tracked.number,
        mention.network,
        tracked.state.describe()
    );
    let body = match &mention.review {
        Some(found) => crate::domain::review::body(found, &mention.text),
        None => mention.text.clone(),
    };
    let mut embed = CreateEmbed::new()
        .author(author)
        .title(truncate(&title, TITLE_LIMIT))
        .description(truncate(&escape(&body), TEXT_LIMIT))
        .colour(colour(mention.network, tracked.state.status()))
        .footer(CreateEmbedFooter::new(truncate(
            &format!("{} · {}", mention.key.source, mention.network),
            TITLE_LIMIT,
        )));
    if let Ok(posted) = Timestamp::from_unix_timestamp(mention.created_at.timestamp()) {
        embed = embed.timestamp(posted);
    }
    if let Some(link) = mention.link.as_deref().filter(|url| linkable(url)) {
        embed = embed.url(link);
    }
    embed = embed.field(
        "Status",
        truncate(
            &escape(&format!(
                "{} · found {}",
                tracked.state.describe(),
                crate::domain::lifecycle::ago(tracked.received_at, now)
            )),
            CARD_FIELD_LIMIT,
        ),
        false,
    );
    if let Some(found) = &mention.review {
        embed = embed.field(
            "Rating",
            truncate(&escape(&found.headline()), CARD_FIELD_LIMIT),
            false,
        );
        if let Some(reply) = &found.reply {
            embed = embed.field(
                "Reply there now",
                truncate(&escape(&reply.text), CARD_FIELD_LIMIT),
                false,
            );
        }
    }
    if let Some(earlier) = tracked.follow_up_of {
        embed = embed.field(
            "Follow-up",
            format!("replies to our answer on #{earlier}"),
            true,
        );
    }
    // Why it is flagged: the reasons quote the writer, so they are escaped like the text.
    if let Some(flag) = tracked.priority.flag() {
        embed = embed.field(
            "⚠ Likely complaint",
            truncate(
                &escape(flag.trim_start_matches("likely complaint: ")),
                CARD_FIELD_LIMIT,
            ),
            false,
        );
    }
    if !mention.matched.is_empty() {
        embed = embed.field(
            "Matched",
            truncate(&escape(&mention.matched.join(", ")), CARD_FIELD_LIMIT),
            true,
        );
    }
    if let Some(link) = mention.link.as_deref().filter(|url| linkable(url)) {
        embed = embed.field("Link", truncate(link, CARD_FIELD_LIMIT), true);
    }
    embed
}

/// A web URL short enough for Discord to take in an embed.
fn linkable(url: &str) -> bool {
    web_url(url) && url.chars().count() <= URL_LIMIT
}

/// The controls the domain offers for the mention now, as Discord buttons; a site link
/// Discord could not open is left out.
pub fn buttons(tracked: &Tracked) -> Vec<CreateActionRow> {
    let number = tracked.number;
    let button = |kind: Button, label: &str, style: ButtonStyle| {
        CreateButton::new(kind.custom_id(number))
            .label(label)
            .style(style)
    };
    let mention = &tracked.mention;
    let row: Vec<CreateButton> = offers(&tracked.state, mention.network, mention.link.as_deref())
        .into_iter()
        .filter_map(|offer| match offer {
            Offer::Claim => Some(button(Button::Claim, "Claim", ButtonStyle::Primary)),
            Offer::Release => Some(button(Button::Release, "Release", ButtonStyle::Secondary)),
            Offer::Answer => Some(button(Button::Answer, "Answer…", ButtonStyle::Primary)),
            Offer::AnswerOnSite(link) => {
                web_url(&link).then(|| CreateButton::new_link(link).label("Answer on the site"))
            }
            Offer::Done => Some(button(Button::Done, "Done", ButtonStyle::Success)),
            Offer::Ignore => Some(button(Button::Ignore, "Ignore", ButtonStyle::Secondary)),
            Offer::Reopen => Some(button(Button::Reopen, "Reopen", ButtonStyle::Secondary)),
        })
        .collect();
    // Discord refuses an empty row (nothing is offered while an answer is on its way).
    if row.is_empty() {
        return Vec::new();
    }
    vec![CreateActionRow::Buttons(row)]
}

/// Neutralises Discord markdown and mentions in relayed text: every markup character gets a
/// backslash (Discord shows the character itself), so `**x**`, `[spoof](https://evil)`,
/// `<@123>`, `@everyone` and `# heading` all show literally.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*'
                | '_'
                | '~'
                | '`'
                | '|'
                | '<'
                | '>'
                | '#'
                | '-'
                | '['
                | ']'
                | '('
                | ')'
                | '@'
                | ':'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The colour the network names for itself (a closed mention fades to grey, so the open ones
/// stand out).
pub fn colour(network: Network, status: Status) -> u32 {
    if !status.is_owed() {
        return 0x99AAB5;
    }
    network.colour()
}

/// A short stable token for `parts`: the same parts give the same nonce on every retry.
pub fn nonce(parts: &[&str]) -> String {
    // FNV-1a: stable across runs and Rust versions, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut nonce = format!("es{hash:016x}");
    nonce.truncate(NONCE_LIMIT);
    nonce
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    // Never leave a lone escaping backslash at the end.
    if cut.ends_with('\\') {
        cut.pop();
    }
    cut.push('…');
    cut
}

/// Discord refuses a whole message whose embed holds a URL it cannot use; such links are left
/// out rather than losing the mention.
fn web_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::domain::{Author, Member, Mention, MentionKey, State};

    fn tracked(network: Network, state: State) -> Tracked {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .to_utc();
        Tracked {
            number: 12,
            mention: Mention {
                key: MentionKey::new("masto", "109"),
                network,
                author: Author {
                    handle: "jane@example.social".into(),
                    name: Some("Jane".into()),
                    profile: Some("https://example.social/@jane".into()),
                },
                text: "**Acme** [spoof](https://evil.example) <@123> @everyone".into(),
                link: Some("https://example.social/@jane/109".into()),
                created_at: now,
                matched: vec!["acme".into()],
                language: None,
                in_reply_to: None,
                direct: false,
                review: None,
            },
            state,
            received_at: now,
            follow_up_of: None,
            priority: Default::default(),
            place: Default::default(),
            copy: Default::default(),
        }
    }

    fn labels(tracked: &Tracked) -> Vec<String> {
        let rows = serde_json::to_value(buttons(tracked)).unwrap();
        rows[0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["label"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn a_review_shows_its_stars_its_reply_and_no_text() {
        let mut review = tracked(crate::sources::google_play::TRAITS.network(), State::Open);
        let mut found = crate::domain::Review::new(crate::domain::Rating::new(2).unwrap());
        found.version = Some("2.3".into());
        found.reply = Some(crate::domain::BusinessReply {
            text: "Sorry @everyone".into(),
            at: None,
        });
        review.mention.review = Some(found);
        review.mention.text = String::new();
        let body = serde_json::to_value(embed(&review, review.received_at)).unwrap();
        assert_eq!(body["description"], r"\(no text\)");
        let fields = body["fields"].as_array().unwrap();
        let field = |name: &str| {
            fields
                .iter()
                .find(|field| field["name"] == name)
                .map(|field| field["value"].as_str().unwrap().to_string())
        };
        assert_eq!(field("Rating").as_deref(), Some("★★☆☆☆ 2/5 · v2.3"));
        assert_eq!(
            field("Reply there now").as_deref(),
            Some(r"Sorry \@everyone")
        );
        assert_eq!(body["color"], 0x01875F);
    }

    #[test]
    fn escalation_targets_ping_exactly_themselves() {
        let cases = [
            ("@everyone", Target::Everyone),
            ("@channel", Target::Everyone),
            ("@here", Target::Here),
            ("<@&42>", Target::Role(42)),
            ("role:42", Target::Role(42)),
            ("<@7>", Target::User(7)),
            ("<@!7>", Target::User(7)),
            ("user:7", Target::User(7)),
            ("7", Target::User(7)),
            ("@oncall", Target::Name("@oncall".into())),
            ("<@&42> <@7>", Target::Name("<@&42> <@7>".into())),
            ("+7", Target::Name("+7".into())),
            ("0", Target::Name("0".into())),
        ];
        for (raw, target) in cases {
            assert_eq!(Target::parse(raw), target, "{raw:?}");
        }
        let ping = [
            "@here".to_string(),
            "<@&42>".into(),
            "7".into(),
            "@oncall".into(),
        ];
        let body = serde_json::to_value(nudge(1, 2, "<@9> @everyone", &ping, false)).unwrap();
        assert_eq!(
            body["content"],
            r"@here <@&42> <@7> \@oncall \<\@9\> \@everyone"
        );
        assert_eq!(body["allowed_mentions"]["parse"], json!(["everyone"]));
        assert_eq!(body["allowed_mentions"]["roles"], json!(["42"]));
        assert_eq!(body["allowed_mentions"]["users"], json!(["7"]));
        let quiet = serde_json::to_value(nudge(1, 2, "x", &[], false)).unwrap();
        assert_eq!(quiet["allowed_mentions"]["parse"], json!([]));
        assert_eq!(quiet["allowed_mentions"]["users"], json!([]));
        assert_eq!(quiet["allowed_mentions"]["roles"], json!([]));
    }

    #[test]
    fn long_notices_split_on_lines_within_the_limit() {
        let text = "a line of the digest\n".repeat(300);
        let parts = notice(1, &text);
        assert!(parts.len() > 1);
        let mut joined = String::new();
        for part in &parts {
            let body = serde_json::to_value(part).unwrap();
            let content = body["content"].as_str().unwrap();
            assert!(content.chars().count() <= CONTENT_LIMIT);
            assert_eq!(body["allowed_mentions"]["parse"], json!([]));
            joined.push_str(content);
        }
        assert_eq!(joined, text);
        assert_eq!(split("", 10), vec![""]);
        assert_eq!(split(r"abc\*def", 4), vec!["abc", r"\*de", "f"]);
    }

    #[test]
    fn escaping_leaves_nothing_that_renders_or_pings() {
        assert_eq!(escape("**bold**"), r"\*\*bold\*\*");
        assert_eq!(escape("[x](https://e.vil)"), r"\[x\]\(https\://e.vil\)");
        assert_eq!(escape("<@123> @everyone"), r"\<\@123\> \@everyone");
        assert_eq!(escape("# title\n> quote"), "\\# title\n\\> quote");
        assert_eq!(escape(r"\*"), r"\\\*");
        assert_eq!(escape("plain words, 12!"), "plain words, 12!");
    }

    #[test]
    fn the_message_has_the_embed_buttons_no_pings_and_a_stable_nonce() {
        let now = Utc::now();
        let open = tracked(crate::sources::mastodon::TRAITS.network(), State::Open);
        let body = serde_json::to_value(message(&open, now)).unwrap();
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        assert_eq!(body["enforce_nonce"], json!(true));
        let nonce = body["nonce"].as_str().unwrap();
        assert!(nonce.len() <= 25);
        assert_eq!(
            serde_json::to_value(message(&open, now)).unwrap()["nonce"],
            json!(nonce),
            "the same mention gives the same nonce"
        );
        let mut other = open.clone();
        other.number = 13;
        assert_ne!(
            serde_json::to_value(message(&other, now)).unwrap()["nonce"],
            json!(nonce)
        );
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], json!("#12 · Mastodon · open"));
        assert_eq!(embed["color"], json!(0x6364FF));
        assert_eq!(embed["url"], json!("https://example.social/@jane/109"));
        assert_eq!(
            embed["author"]["name"],
            json!("Jane (@jane@example.social)")
        );
        assert_eq!(
            embed["author"]["url"],
            json!("https://example.social/@jane")
        );
        assert_eq!(embed["timestamp"], json!("2026-11-22T10:00:00Z"));
        assert_eq!(
            embed["description"],
            json!(r"\*\*Acme\*\* \[spoof\]\(https\://evil.example\) \<\@123\> \@everyone")
        );
        let fields: Vec<(&str, &str)> = embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].as_str().unwrap(), f["value"].as_str().unwrap()))
            .collect();
        assert!(fields.contains(&("Matched", "acme")), "{fields:?}");
        assert_eq!(labels(&open), ["Claim", "Answer…", "Done", "Ignore"]);
        assert_eq!(
            body["components"][0]["components"][0]["custom_id"],
            json!("earshot:claim:12")
        );
    }

    #[test]
    fn a_likely_complaint_says_why_in_its_own_escaped_field() {
        let now = Utc::now();
        let mut flagged = tracked(crate::sources::mastodon::TRAITS.network(), State::Open);
        flagged.priority = crate::domain::Priority {
            score: 3,
            complaint: true,
            reasons: vec!["no reply (\"nobody **ever** answers\")".into()],
        };
        let body = serde_json::to_value(message(&flagged, now)).unwrap();
        let fields = body["embeds"][0]["fields"].as_array().unwrap();
        let why = fields
            .iter()
            .find(|field| field["name"] == json!("⚠ Likely complaint"))
            .expect("the complaint field");
        assert_eq!(
            why["value"],
            json!(r#"no reply \("nobody \*\*ever\*\* answers"\)"#)
        );
        let plain = serde_json::to_value(message(
            &tracked(crate::sources::mastodon::TRAITS.network(), State::Open),
            now,
        ))
        .unwrap();
        assert!(!plain.to_string().contains("Likely complaint"));
    }

    #[test]
    fn buttons_follow_the_state_and_the_network() {
        let jane = Member::new("discord:1", "jane");
        let at = Utc::now();
        let claimed = State::Claimed {
            by: jane.clone(),
            at,
            answering: false,
        };
        assert_eq!(
            labels(&tracked(crate::sources::bluesky::TRAITS.network(), claimed)),
            ["Release", "Answer…", "Done", "Ignore"]
        );
        let done = State::Done {
            by: jane.into(),
            at,
            note: None,
        };
        assert_eq!(
            labels(&tracked(
                crate::sources::bluesky::TRAITS.network(),
                done.clone()
            )),
            ["Reopen"]
        );
        let answering = State::Claimed {
            by: Member::new("discord:1", "jane"),
            at,
            answering: true,
        };
        assert!(buttons(&tracked(
            crate::sources::bluesky::TRAITS.network(),
            answering
        ))
        .is_empty());
        assert_eq!(
            labels(&tracked(
                crate::sources::bluesky::TRAITS.network(),
                done.clone()
            )),
            ["Reopen"]
        );
        assert_eq!(
            labels(&tracked(
                crate::sources::feed::TRAITS.network(),
                State::Open
            )),
            ["Claim", "Answer on the site", "Done", "Ignore"]
        );
        let closed = serde_json::to_value(edit(
            &tracked(crate::sources::bluesky::TRAITS.network(), done),
            at,
        ))
        .unwrap();
        assert_eq!(closed["embeds"][0]["color"], json!(0x99AAB5));
    }

    #[test]
    fn unusable_links_are_left_out_instead_of_failing_the_message() {
        let mut bad = tracked(crate::sources::feed::TRAITS.network(), State::Open);
        bad.mention.link = Some("javascript:alert(1)".into());
        bad.mention.author.profile = Some("not a url".into());
        let body: Value = serde_json::to_value(message(&bad, Utc::now())).unwrap();
        assert!(body["embeds"][0].get("url").is_none());
        assert!(body["embeds"][0]["author"].get("url").is_none());
        assert_eq!(labels(&bad), ["Claim", "Done", "Ignore"]);
    }

    #[test]
    fn every_field_of_a_card_stays_within_discord_embed_limits() {
        let long = |c: char| std::iter::repeat_n(c, 5_000).collect::<String>();
        let mut huge = tracked(crate::sources::reddit::TRAITS.network(), State::Open);
        let url = format!("https://example.com/{}", long('a'));
        huge.mention.text = long('x');
        huge.mention.author.name = Some(long('n'));
        huge.mention.author.handle = long('h');
        huge.mention.author.profile = Some(url.clone());
        huge.mention.link = Some(url);
        huge.mention.key.source = long('s');
        huge.mention.matched = vec![long('m')];
        huge.follow_up_of = Some(3);
        let body = serde_json::to_value(message(&huge, Utc::now())).unwrap();
        let embed = &body["embeds"][0];
        let chars = |v: &Value| v.as_str().unwrap_or_default().chars().count();
        assert!(chars(&embed["title"]) <= 256);
        assert!(chars(&embed["description"]) <= 4096);
        assert!(chars(&embed["author"]["name"]) <= 256);
        assert!(chars(&embed["footer"]["text"]) <= 2048);
        assert!(chars(&embed["url"]) <= 2048 && chars(&embed["author"]["url"]) <= 2048);
        let fields = embed["fields"].as_array().unwrap();
        assert!(fields.len() <= 25);
        let mut total = chars(&embed["title"])
            + chars(&embed["description"])
            + chars(&embed["author"]["name"])
            + chars(&embed["footer"]["text"]);
        for field in fields {
            assert!(chars(&field["name"]) <= 256 && chars(&field["value"]) <= 1024);
            total += chars(&field["name"]) + chars(&field["value"]);
        }
        assert!(total <= 6000, "{total}");
        assert!(chars(&body["content"]) <= CONTENT_LIMIT);
    }

    #[test]
    fn long_text_is_cut_within_discord_limits() {
        let mut long = tracked(crate::sources::reddit::TRAITS.network(), State::Open);
        long.mention.text = "*".repeat(5000);
        let body = serde_json::to_value(message(&long, Utc::now())).unwrap();
        let description = body["embeds"][0]["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), TEXT_LIMIT - 1);
        assert!(description.ends_with('…') && !description.ends_with("\\…"));
    }

    #[test]
    fn notes_are_escaped_and_retries_share_a_nonce() {
        let claimed = tracked(crate::sources::x::TRAITS.network(), State::Open);
        let first = serde_json::to_value(note(9, 55, &claimed, "claimed by @jane", false)).unwrap();
        assert_eq!(first["content"], json!(r"\#12 claimed by \@jane"));
        assert_eq!(first["allowed_mentions"]["parse"], json!([]));
        let again = serde_json::to_value(note(9, 55, &claimed, "claimed by @jane", false)).unwrap();
        assert_eq!(first["nonce"], again["nonce"]);
        let reply = serde_json::to_value(note(9, 55, &claimed, "claimed by @jane", true)).unwrap();
        assert_eq!(reply["message_reference"]["message_id"], json!("55"));
    }
}
