//! The core's state as Block Kit: one message per mention, the note in its thread, and the
//! answer modal. Everything relayed from a network passes through [`escape`], so a post can
//! never ping the channel, mention a member, or fake a link.

use chrono::{DateTime, Utc};
use slack_morphism::prelude::*;

use crate::domain::lifecycle::{ago, offers, Offer};
use crate::domain::{ReplyPath, State, Tracked};

/// Message metadata that marks a message as earshot's card for one mention; how a retried post
/// finds the card an earlier, unconfirmed attempt already posted.
pub const METADATA_EVENT: &str = "earshot_mention";
/// The block and element of the modal's text box, as the view submission reports them.
pub const ANSWER_BLOCK: &str = "answer";
pub const ANSWER_INPUT: &str = "text";
pub const ANSWER_CALLBACK: &str = "earshot_answer";
/// The saved-reply select in the answer modal; picking one refills the text box.
pub const REPLY_BLOCK: &str = "reply";
pub const REPLY_SELECT: &str = "earshot_reply";
/// Slack's plain-text option labels and descriptions take at most 75 characters.
const OPTION_TEXT_LIMIT: usize = 75;
/// A select shows at most 100 options.
const MOST_OPTIONS: usize = 100;

/// Section text may hold 3,000 characters; the rest of a long post stays on the network.
const SECTION_LIMIT: usize = 2_900;
/// Caps for the other fields of a card, so every block stays within Block Kit's limits (a
/// section's or context element's text 3,000 characters) whatever a network sends: the head
/// line holds at most about 100 + NAME + SOURCE + LINKED_URL characters, the context line
/// LINKED_URL + LABEL + MATCHED, the state line NAME + NOTE.
const NAME_LIMIT: usize = 200;
const SOURCE_LIMIT: usize = 100;
/// Longer URLs are shown (cut) as text instead of linked: a link cannot be cut.
const LINKED_URL_LIMIT: usize = 1_000;
const LABEL_LIMIT: usize = 200;
const MATCHED_LIMIT: usize = 500;
const NOTE_LIMIT: usize = 1_500;
/// Modal titles hold at most 24 characters.
const TITLE_LIMIT: usize = 24;

/// What the buttons on a card do; the action id is what Slack sends back on a click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Claim,
    Release,
    Answer,
    Done,
    Ignore,
    Reopen,
}

/// The action id of the "Answer on the site" link button: Slack reports its clicks too, and
/// there is nothing to do for them.
pub const SITE_LINK: &str = "answer_on_site";

impl Button {
    pub const ALL: [Button; 6] = [
        Button::Claim,
        Button::Release,
        Button::Answer,
        Button::Done,
        Button::Ignore,
        Button::Reopen,
    ];

    pub fn action_id(self) -> &'static str {
        match self {
            Button::Claim => "claim",
            Button::Release => "release",
            Button::Answer => "answer",
            Button::Done => "done",
            Button::Ignore => "ignore",
            Button::Reopen => "reopen",
        }
    }

    pub fn from_action_id(id: &str) -> Option<Button> {
        Button::ALL.into_iter().find(|b| b.action_id() == id)
    }

    fn label(self) -> &'static str {
        match self {
            Button::Claim => "Claim",
            Button::Release => "Release",
            Button::Answer => "Answer...",
            Button::Done => "Done",
            Button::Ignore => "Ignore",
            Button::Reopen => "Reopen",
        }
    }
}

/// The card for a mention: the fallback text (notifications, screen readers), the blocks, and
/// the metadata that identifies it.
pub fn card(tracked: &Tracked, now: DateTime<Utc>) -> SlackMessageContent {
    let mention = &tracked.mention;
    let number = tracked.number;
    let name = escape_within(&mention.author.display(), NAME_LIMIT);
    let author = match mention.author.profile.as_deref().and_then(linkable) {
        Some(profile) => format!("<{profile}|{name}>"),
        None => name,
    };
    let when = format!(
        "<!date^{}^{{ago}}|{}>",
        mention.created_at.timestamp(),
        ago(mention.created_at, now)
    );
    let head = format!(
        "*#{number}* · {} · {} · {author} · {when}",
        mention.network,
        escape_within(&mention.key.source, SOURCE_LIMIT),
    );
    let head = match &mention.review {
        Some(found) => format!("{head}\n{}", escape(&found.headline())),
        None => head,
    };
    let body = match &mention.review {
        Some(found) => crate::domain::review::body(found, &mention.text),
        None => mention.text.clone(),
    };
    let mut details = Vec::new();
    if let Some(reply) = mention
        .review
        .as_ref()
        .and_then(|found| found.reply.as_ref())
    {
        details.push(format!(
            "reply on {}: {}",
            mention.network,
            escape(&crate::domain::review::quote(&reply.text, 300))
        ));
    }
    if let Some(link) = mention.link.as_deref() {
        let label = escape_within(link, LABEL_LIMIT);
        match linkable(link) {
            Some(url) => details.push(format!("<{url}|{label}>")),
            None => details.push(label),
        }
    }
    if !mention.matched.is_empty() {
        details.push(format!(
            "matched: {}",
            escape_within(&mention.matched.join(", "), MATCHED_LIMIT)
        ));
    }

    let mut blocks: Vec<SlackBlock> = vec![SlackSectionBlock::new().with_text(md(head)).into()];
    // Why it is flagged, above the text: the reasons quote the writer, so they are escaped too.
    if let Some(flag) = tracked.priority.flag() {
        blocks.push(
            SlackContextBlock::new(vec![SlackBlockMarkDownText::new(format!(
                "⚠ {}",
                escape_within(&flag, SECTION_LIMIT)
            ))
            .into()])
            .into(),
        );
    }
    blocks.push(
        SlackSectionBlock::new()
            .with_text(verbatim(escape_within(&body, SECTION_LIMIT)))
            .into(),
    );
    if !details.is_empty() {
        blocks.push(
            SlackContextBlock::new(vec![SlackBlockMarkDownText::new(details.join(" · ")).into()])
                .into(),
        );
    }
    blocks.push(
        SlackSectionBlock::new()
            .with_text(md(state_line(&tracked.state)))
            .into(),
    );
    let buttons: Vec<SlackActionBlockElement> =
        offers(&tracked.state, mention.network, mention.link.as_deref())
            .iter()
            .filter_map(|offer| button(offer, number))
            .collect();
    // Block Kit refuses an actions block without elements (nothing is offered while an answer
    // is on its way).
    if !buttons.is_empty() {
        blocks.push(
            SlackActionsBlock::new(buttons)
                .with_block_id(format!("earshot-{number}").into())
                .into(),
        );
    }

    SlackMessageContent::new()
        .with_text(fallback(tracked))
        .with_blocks(blocks)
        .with_metadata(metadata(number))
}

/// A card's control for what the domain offers; a site link Slack could not show is left out.
fn button(offer: &Offer, number: u64) -> Option<SlackActionBlockElement> {
    let kind = match offer {
        Offer::Claim => Button::Claim,
        Offer::Release => Button::Release,
        Offer::Answer => Button::Answer,
        Offer::Done => Button::Done,
        Offer::Ignore => Button::Ignore,
        Offer::Reopen => Button::Reopen,
        Offer::AnswerOnSite(link) => {
            let url = linkable(link).and_then(|_| url::Url::parse(link.trim()).ok())?;
            let element = SlackBlockButtonElement::new("Answer on the site".into())
                .with_action_id(SITE_LINK.into())
                .with_value(number.to_string())
                .with_url(url);
            return Some(element.into());
        }
    };
    let element = SlackBlockButtonElement::new(kind.label().into())
        .with_action_id(kind.action_id().into())
        .with_value(number.to_string());
    Some(
        match kind {
            Button::Claim => element.with_style(SlackBlockButtonStyle::Primary),
            _ => element,
        }
        .into(),
    )
}

/// The metadata a card carries.
pub fn metadata(number: u64) -> SlackMessageMetadata {
    SlackMessageMetadata::new(METADATA_EVENT.into())
        .with_event_payload([("number".to_string(), number.to_string())].into())
}

/// The number in a message's metadata (raw JSON, as any app may have written it), if the
/// message is one of earshot's cards. Other apps' metadata of any shape is simply not a card.
pub fn card_number(metadata: &serde_json::Value) -> Option<u64> {
    if metadata.get("event_type")?.as_str()? != METADATA_EVENT {
        return None;
    }
    match metadata.get("event_payload")?.get("number")? {
        serde_json::Value::String(number) => number.parse().ok(),
        number => number.as_u64(),
    }
}

/// The line in the card's thread that records a change.
pub fn note(note: &str) -> SlackMessageContent {
    SlackMessageContent::new().with_text(escape(note))
}

/// A message for the whole channel that belongs to no single mention (the daily digest, the
/// weekly report's caption). The core writes it, but it quotes relayed names and text, so it
/// is escaped like them: it cannot ping.
pub fn notice(text: &str) -> SlackMessageContent {
    SlackMessageContent::new().with_text(escape(text))
}

/// A reminder about an unclaimed mention, led by the escalation targets it alerts.
pub fn nudge(text: &str, ping: &[String]) -> SlackMessageContent {
    let mut line: String = ping.iter().map(|who| format!("{} ", target(who))).collect();
    line.push_str(&escape(text));
    SlackMessageContent::new().with_text(line)
}

/// An escalation target as Slack mention syntax: `@channel` and `@here` alert the channel,
/// a user id (`U...`, `W...`) the user, a user group id (`S...`) the group; the same targets
/// already written in Slack's syntax are kept. Anything else is shown as an escaped name,
/// which alerts nobody.
pub fn target(who: &str) -> String {
    let who = who.trim();
    match who {
        "@channel" | "<!channel>" => return "<!channel>".into(),
        "@here" | "<!here>" => return "<!here>".into(),
        _ => {}
    }
    let bare = who
        .strip_prefix("<@")
        .or_else(|| who.strip_prefix("<!subteam^"))
        .and_then(|inner| inner.strip_suffix('>'))
        .map(|inner| inner.split('|').next().unwrap_or(inner))
        .unwrap_or(who);
    if is_user_id(bare) {
        format!("<@{bare}>")
    } else if is_id(bare, &['S']) {
        format!("<!subteam^{bare}>")
    } else {
        escape(who)
    }
}

/// Whether `id` looks like a Slack user id (`U...`, or `W...` on Enterprise Grid).
pub fn is_user_id(id: &str) -> bool {
    is_id(id, &['U', 'W'])
}

fn is_id(id: &str, kinds: &[char]) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|first| kinds.contains(&first))
        && id.len() >= 2
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A reply meant for one person (command results, refusals); it may quote relayed text.
pub fn reply(text: &str) -> SlackMessageContent {
    SlackMessageContent::new().with_text(escape(text))
}

/// The modal behind "Answer...": the post being answered, the saved replies (`replies`: name
/// and text filled in for this mention) as a select, and a text box, prefilled with the chosen
/// reply or the way the network expects replies to start, and limited to what it takes.
pub fn answer_modal(
    tracked: &Tracked,
    replies: &[(String, String)],
    chosen: Option<&str>,
) -> SlackView {
    let mention = &tracked.mention;
    let mut input = SlackBlockPlainTextInputElement::new()
        .with_action_id(ANSWER_INPUT.into())
        .with_multiline(true)
        .with_focus_on_load(true);
    let picked = chosen.and_then(|name| replies.iter().find(|(n, _)| n == name));
    let draft = match picked {
        Some((_, text)) => text.clone(),
        None => mention.answer_draft(),
    };
    if let ReplyPath::Direct { max_chars } = mention.network.reply_path() {
        // A saved reply that came out too long is shown whole, to be shortened here; sent as it
        // is, it is refused with the count under the box.
        let longest = max_chars.max(draft.chars().count()).min(INPUT_LIMIT);
        input = input.with_max_length(longest as u64);
    }
    if !draft.is_empty() {
        input = input.with_initial_value(draft);
    }
    // Slack keeps what a box holds across views.update unless its block id changes: a new id
    // per chosen reply makes the box show the reply.
    let input_block = match picked {
        Some((name, _)) => format!("{ANSWER_BLOCK}-{name}"),
        None => ANSWER_BLOCK.to_string(),
    };
    let quoted = format!(
        "*{}* on {}:\n{}",
        escape(&mention.author.display()),
        mention.network,
        escape_within(&mention.text, SECTION_LIMIT)
    );
    let mut blocks: Vec<SlackBlock> =
        vec![SlackSectionBlock::new().with_text(verbatim(quoted)).into()];
    if let Some(replaced) = crate::domain::review::replaced(mention, 1_000) {
        blocks.push(
            SlackContextBlock::new(vec![SlackBlockMarkDownText::new(escape(&replaced)).into()])
                .into(),
        );
    }
    let title: String = format!("Answer #{}", tracked.number)
        .chars()
        .take(TITLE_LIMIT)
        .collect();
    if !replies.is_empty() {
        let option = |name: &str, text: &str| {
            SlackBlockChoiceItem::new(
                SlackBlockPlainTextOnly::from(cut(&format!(":{name}"), OPTION_TEXT_LIMIT).as_str()),
                name.to_string(),
            )
            .with_description(cut(text, OPTION_TEXT_LIMIT).as_str().into())
        };
        let options: Vec<_> = replies
            .iter()
            .take(MOST_OPTIONS)
            .map(|(name, text)| option(name, text))
            .collect();
        let mut select = SlackBlockStaticSelectElement::new()
            .with_action_id(REPLY_SELECT.into())
            .with_placeholder("Start from a saved reply".into())
            .with_options(options);
        if let Some((name, text)) = picked {
            select = select.with_initial_option(option(name, text));
        }
        blocks.push(
            SlackInputBlock::new(
                "Saved reply".into(),
                SlackInputBlockElement::StaticSelect(select),
            )
            .with_block_id(REPLY_BLOCK.into())
            .with_optional(true)
            // Picking one is sent at once, so the box below can be filled with it.
            .with_dispatch_action(true)
            .into(),
        );
    }
    blocks.push(
        SlackInputBlock::new(
            format!("Your answer on {}", mention.network)
                .as_str()
                .into(),
            SlackInputBlockElement::PlainTextInput(input),
        )
        .with_block_id(input_block.into())
        .into(),
    );
    SlackView::Modal(
        SlackModalView::new(title.as_str().into(), blocks)
            .with_submit("Send".into())
            .with_close("Cancel".into())
            .with_callback_id(ANSWER_CALLBACK.into())
            .with_private_metadata(tracked.number.to_string()),
    )
}

/// Slack's plain-text inputs take at most 3,000 characters.
const INPUT_LIMIT: usize = 3000;

/// `text` on one line, at most `limit` characters.
fn cut(text: &str, limit: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= limit {
        return flat;
    }
    let kept: String = flat.chars().take(limit.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Makes relayed text inert in Slack's markup: `&`, `<` and `>` escaped as Slack documents,
/// so `<!channel>`, `<@U123>` and `<https://evil|https://good>` show as typed; and a word
/// joiner after the `@` of `@channel`, `@here` and `@everyone`, so they stay plain words even
/// where a client would link names.
pub fn escape(text: &str) -> String {
    escape_within(text, usize::MAX)
}

/// [`escape`], cut to at most `limit` characters of output (never inside an entity).
pub fn escape_within(text: &str, limit: usize) -> String {
    let mut out = String::with_capacity(text.len().min(limit));
    let mut count = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let mut plain = [0u8; 4];
        let piece: &str = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '@' if is_broadcast(&text[at + 1..]) => "@\u{2060}",
            _ => c.encode_utf8(&mut plain),
        };
        let len = piece.chars().count();
        // Keep room for the ellipsis unless this is the last piece.
        let room = if chars.peek().is_none() {
            limit
        } else {
            limit.saturating_sub(1)
        };
        if count + len > room {
            out.push('…');
            return out;
        }
        out.push_str(piece);
        count += len;
    }
    out
}

fn is_broadcast(after_at: &str) -> bool {
    ["channel", "here", "everyone"].iter().any(|word| {
        after_at
            .get(..word.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(word))
    })
}

/// An http(s) URL fit to sit inside `<url|label>`: parsed, and with the characters that would
/// end the link (`|`, `>`) or start an entity percent-encoded by the parser.
fn safe_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(
        url.as_str()
            .replace('|', "%7C")
            .replace('<', "%3C")
            .replace('>', "%3E")
            .replace('&', "&amp;"),
    )
}

/// Where the mention stands, for the card; names are escaped like any relayed text.
fn state_line(state: &State) -> String {
    let name = |who: &dyn std::fmt::Display| escape_within(&who.to_string(), NAME_LIMIT);
    match state {
        State::Open => ":large_blue_circle: *Open*: nobody has claimed it yet".to_string(),
        State::Claimed {
            by,
            answering: true,
            ..
        } => format!(
            ":hourglass_flowing_sand: *Claimed* by {}; the answer is on its way",
            name(by)
        ),
        State::Claimed { by, .. } => format!(":raising_hand: *Claimed* by {}", name(by)),
        State::Answered { by, link, .. } => {
            let link = match link.as_deref() {
                Some(link) => match linkable(link) {
                    Some(url) => format!(": <{url}|the reply>"),
                    None => format!(": {}", escape_within(link, LABEL_LIMIT)),
                },
                None => String::new(),
            };
            format!(":white_check_mark: *Answered* by {}{link}", name(by))
        }
        State::Done { by, note, .. } => format!(
            ":heavy_check_mark: *Done* by {}{}",
            name(by),
            detail(note.as_deref())
        ),
        State::Ignored { by, reason, .. } => format!(
            ":no_entry_sign: *Ignored* by {}{}",
            name(by),
            detail(reason.as_deref())
        ),
    }
}

fn detail(text: Option<&str>) -> String {
    text.map(|text| format!(": {}", escape_within(text, NOTE_LIMIT)))
        .unwrap_or_default()
}

fn fallback(tracked: &Tracked) -> String {
    let mention = &tracked.mention;
    escape(&format!(
        "#{} · {} · {}: {}",
        tracked.number,
        mention.network,
        mention
            .author
            .display()
            .chars()
            .take(NAME_LIMIT)
            .collect::<String>(),
        mention.excerpt(150)
    ))
}

/// A URL safe to link and short enough to link whole.
fn linkable(raw: &str) -> Option<String> {
    safe_url(raw).filter(|url| url.chars().count() <= LINKED_URL_LIMIT)
}

fn md(text: String) -> SlackBlockText {
    SlackBlockMarkDownText::new(text).into()
}

/// Relayed text: no auto-linking of names, channels or URLs Slack would otherwise do.
fn verbatim(text: String) -> SlackBlockText {
    SlackBlockMarkDownText::new(text).with_verbatim(true).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review() -> Tracked {
        use crate::domain::{Author, BusinessReply, Mention, MentionKey, Rating, Review};
        let mut found = Review::new(Rating::new(1).unwrap());
        found.place = Some("Acme Utrecht".into());
        found.reply = Some(BusinessReply {
            text: "We are <!channel> sorry".into(),
            at: None,
        });
        Tracked {
            place: Default::default(),
            copy: Default::default(),
            number: 4,
            mention: Mention {
                key: MentionKey::new("gbp", "accounts/1/locations/2/reviews/3"),
                network: crate::sources::google_reviews::TRAITS.network(),
                author: Author {
                    handle: String::new(),
                    name: Some("Jan".into()),
                    profile: None,
                },
                text: "Cold coffee".into(),
                link: None,
                created_at: chrono::DateTime::UNIX_EPOCH,
                matched: vec!["review".into()],
                language: None,
                in_reply_to: None,
                direct: true,
                review: Some(found),
            },
            state: State::Open,
            received_at: chrono::DateTime::UNIX_EPOCH,
            follow_up_of: None,
            priority: Default::default(),
        }
    }

    /// Each button's label, and its link when it is one.
    fn buttons(tracked: &Tracked) -> Vec<String> {
        let card = serde_json::to_value(card(tracked, chrono::DateTime::UNIX_EPOCH)).unwrap();
        card["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|block| block["type"] == "actions")
            .flat_map(|block| block["elements"].as_array().unwrap().clone())
            .map(|button| match button["url"].as_str() {
                Some(url) => format!("{} <{url}>", button["text"]["text"].as_str().unwrap()),
                None => button["text"]["text"].as_str().unwrap().to_string(),
            })
            .collect()
    }

    #[test]
    fn buttons_follow_the_state_and_the_network_as_the_domain_offers_them() {
        use crate::domain::Member;
        let jane = Member::new("U1", "jane");
        let at = chrono::DateTime::UNIX_EPOCH;
        let mut tracked = review();
        tracked.mention.review = None;
        tracked.mention.network = crate::sources::mastodon::TRAITS.network();
        assert_eq!(buttons(&tracked), ["Claim", "Answer...", "Done", "Ignore"]);
        tracked.state = State::Claimed {
            by: jane.clone(),
            at,
            answering: false,
        };
        assert_eq!(
            buttons(&tracked),
            ["Release", "Answer...", "Done", "Ignore"]
        );
        tracked.state = State::Claimed {
            by: jane.clone(),
            at,
            answering: true,
        };
        assert!(
            buttons(&tracked).is_empty(),
            "nothing while the answer is on its way"
        );
        tracked.state = State::Done {
            by: jane.into(),
            at,
            note: None,
        };
        assert_eq!(buttons(&tracked), ["Reopen"]);
        tracked.state = State::Open;
        tracked.mention.network = crate::sources::feed::TRAITS.network();
        tracked.mention.link = Some("https://news.example/1".into());
        assert_eq!(
            buttons(&tracked),
            [
                "Claim",
                "Answer on the site <https://news.example/1>",
                "Done",
                "Ignore"
            ]
        );
        tracked.mention.link = Some("javascript:alert(1)".into());
        assert_eq!(buttons(&tracked), ["Claim", "Done", "Ignore"]);
    }

    #[test]
    fn a_review_card_and_its_answer_form_show_the_stars_and_the_reply_it_replaces() {
        let tracked = review();
        let card = serde_json::to_string(&card(&tracked, chrono::DateTime::UNIX_EPOCH)).unwrap();
        assert!(card.contains("★☆☆☆☆ 1/5 · Acme Utrecht"), "{card}");
        assert!(
            card.contains("reply on Google Business Profile: “We are &lt;!channel&gt; sorry”"),
            "{card}"
        );
        let modal = serde_json::to_string(&answer_modal(&tracked, &[], None)).unwrap();
        assert!(
            modal.contains(
                "It replaces the reply on Google Business Profile now: “We are &lt;!channel&gt; sorry”"
            ),
            "{modal}"
        );
        // Google allows 4,096 bytes, but a Slack text box holds at most 3,000 characters.
        assert!(modal.contains("\"max_length\":3000"), "{modal}");
    }

    #[test]
    fn escape_neutralises_slack_markup() {
        let cases = [
            ("plain", "plain"),
            ("fish & chips", "fish &amp; chips"),
            ("<!channel> hi", "&lt;!channel&gt; hi"),
            ("<@U024BE7LH>", "&lt;@U024BE7LH&gt;"),
            (
                "<https://evil.example|https://acme.com>",
                "&lt;https://evil.example|https://acme.com&gt;",
            ),
            (
                "@channel @Here @EVERYONE",
                "@\u{2060}channel @\u{2060}Here @\u{2060}EVERYONE",
            ),
            ("@jane @chan", "@jane @chan"),
            ("ends with @", "ends with @"),
            ("&amp;", "&amp;amp;"),
        ];
        for (raw, escaped) in cases {
            assert_eq!(escape(raw), escaped, "input: {raw:?}");
        }
    }

    #[test]
    fn only_escalation_targets_become_mentions() {
        let cases = [
            ("@channel", "<!channel>"),
            ("@here", "<!here>"),
            ("<!here>", "<!here>"),
            ("U024BE7LH", "<@U024BE7LH>"),
            ("W024BE7LH", "<@W024BE7LH>"),
            ("<@U024BE7LH|jane>", "<@U024BE7LH>"),
            ("S0614TZR7", "<!subteam^S0614TZR7>"),
            ("<!subteam^S0614TZR7>", "<!subteam^S0614TZR7>"),
            ("@oncall", "@oncall"),
            ("@everyone", "@\u{2060}everyone"),
            ("<!channel|x> <@U1>", "&lt;!channel|x&gt; &lt;@U1&gt;"),
            ("Us", "Us"),
            ("U1>x", "U1&gt;x"),
            ("Sam", "Sam"),
        ];
        for (raw, rendered) in cases {
            assert_eq!(target(raw), rendered, "target: {raw:?}");
        }
        let nudge = nudge(
            "<!channel> from a post",
            &["@here".into(), "S0614TZR7".into()],
        );
        assert_eq!(
            nudge.text.as_deref(),
            Some("<!here> <!subteam^S0614TZR7> &lt;!channel&gt; from a post")
        );
    }

    #[test]
    fn a_likely_complaint_card_says_why_escaped() {
        use crate::domain::{Author, Mention, MentionKey, State, Tracked};
        let mut tracked = Tracked {
            place: Default::default(),
            copy: Default::default(),
            number: 7,
            mention: Mention {
                review: None,
                key: MentionKey::new("m", "1"),
                network: crate::sources::mastodon::TRAITS.network(),
                author: Author::default(),
                text: "nobody answers".into(),
                link: None,
                created_at: chrono::DateTime::UNIX_EPOCH,
                matched: vec![],
                language: None,
                in_reply_to: None,
                direct: false,
            },
            state: State::Open,
            received_at: chrono::DateTime::UNIX_EPOCH,
            follow_up_of: None,
            priority: Default::default(),
        };
        let plain = serde_json::to_string(&card(&tracked, Utc::now())).unwrap();
        assert!(!plain.contains("likely complaint"));
        tracked.priority = crate::domain::Priority {
            score: 3,
            complaint: true,
            reasons: vec!["no reply (\"<!channel> nobody answers\")".into()],
        };
        let flagged = serde_json::to_string(&card(&tracked, Utc::now())).unwrap();
        assert!(
            flagged.contains("⚠ likely complaint: no reply"),
            "{flagged}"
        );
        assert!(!flagged.contains("<!channel>"), "{flagged}");
    }

    #[test]
    fn escape_within_cuts_on_whole_entities() {
        assert_eq!(escape_within("abcdef", 4), "abc…");
        assert_eq!(escape_within("abc", 4), "abc");
        assert_eq!(escape_within("abcd", 4), "abcd");
        assert_eq!(escape_within("ab&cd", 5), "ab…");
        assert_eq!(escape_within("ab&cd", 10), "ab&amp;cd");
    }

    #[test]
    fn urls_cannot_break_out_of_a_link() {
        assert_eq!(
            safe_url("https://a.example/x|<!channel>").as_deref(),
            Some("https://a.example/x%7C%3C!channel%3E")
        );
        assert_eq!(
            safe_url("https://a.example/?a=1&b=2").as_deref(),
            Some("https://a.example/?a=1&amp;b=2")
        );
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("not a url"), None);
    }

    #[test]
    fn every_block_of_a_card_stays_within_block_kit_limits() {
        use crate::domain::{Author, Member, Mention, MentionKey, Priority};
        let long = |c: char| std::iter::repeat_n(c, 5_000).collect::<String>();
        let url = format!("https://example.com/{}", long('a'));
        let mention = Mention {
            review: None,
            key: MentionKey::new(long('s'), "1"),
            network: crate::sources::mastodon::TRAITS.network(),
            author: Author {
                handle: long('h'),
                name: Some(long('n')),
                profile: Some(url.clone()),
            },
            text: long('<'),
            link: Some(url.clone()),
            created_at: DateTime::UNIX_EPOCH,
            matched: vec![long('m'), long('k')],
            language: None,
            in_reply_to: None,
            direct: false,
        };
        let states = [
            State::Open,
            State::Done {
                by: Member::new("U1", long('j')).into(),
                at: DateTime::UNIX_EPOCH,
                note: Some(long('&')),
            },
            State::Answered {
                by: Member::new("U1", "jane").into(),
                at: DateTime::UNIX_EPOCH,
                link: Some(url.clone()),
            },
        ];
        for state in states {
            let tracked = Tracked {
                number: 1,
                mention: mention.clone(),
                state,
                received_at: DateTime::UNIX_EPOCH,
                follow_up_of: None,
                priority: Priority::default(),
                place: Default::default(),
                copy: Default::default(),
            };
            let card = serde_json::to_value(card(&tracked, Utc::now())).expect("serialises");
            let blocks = card["blocks"].as_array().expect("blocks");
            assert!(blocks.len() <= 50);
            for block in blocks {
                let chars = |v: &serde_json::Value| v.as_str().unwrap_or_default().chars().count();
                match block["type"].as_str() {
                    Some("section") => assert!(chars(&block["text"]["text"]) <= 3_000, "{block}"),
                    Some("header") => assert!(chars(&block["text"]["text"]) <= 150, "{block}"),
                    Some("context") => {
                        let elements = block["elements"].as_array().expect("elements");
                        assert!(elements.len() <= 10);
                        for element in elements {
                            assert!(
                                chars(&element["text"]) <= 3_000,
                                "{}",
                                chars(&element["text"])
                            );
                        }
                    }
                    _ => {}
                }
            }
            assert!(card["text"].as_str().unwrap_or_default().chars().count() <= 4_000);
        }
    }

    #[test]
    fn metadata_round_trips_the_number() {
        let ours = serde_json::to_value(metadata(42)).expect("metadata serialises");
        assert_eq!(card_number(&ours), Some(42));
        let other = serde_json::json!({
            "event_type": "something_else",
            "event_payload": { "number": "42" },
        });
        assert_eq!(card_number(&other), None);
        // Other apps put any JSON there; it is never a card and never an error.
        let deploy = serde_json::json!({
            "event_type": "deploy",
            "event_payload": { "build": 1432, "green": true, "steps": [{ "ok": 1 }] },
        });
        assert_eq!(card_number(&deploy), None);
        assert_eq!(card_number(&serde_json::json!("odd")), None);
    }
}
