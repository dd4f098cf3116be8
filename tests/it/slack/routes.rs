//! Routes and saved replies in Slack: mentions land in their route's channel, and everything
//! about them follows there; saved replies answer from the command and from the modal's select.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveTime, Utc};
use earshot::digest::Digester;
use earshot::domain::replies::SavedReplies;
use earshot::domain::routing::{Route, Routes, When};
use earshot::domain::schedule::Daily;
use earshot::domain::Status;
use earshot::sources::Source;
use earshot::store::{Effect, Store};
use serde_json::{json, Value};

use super::fake::FakeSlack;
use super::{config, mention, modal_submit, slash_command, Bot, CHANNEL};
use crate::harness::fake_source::FakeSource;

const SUPPORT: &str = "C0SUPPORT01";

const REVIEWS: &str = "C0REVIEWS01";

fn routes() -> Routes {
    Routes(vec![
        Route {
            name: "complaints".into(),
            when: When {
                complaint: Some(true),
                ..When::default()
            },
            channels: [("slack".to_string(), SUPPORT.to_string())].into(),
        },
        // No mention comes from here: its channel's digest is "all clear".
        Route {
            name: "reviews".into(),
            when: When {
                source: Some(vec!["app-store".into()]),
                ..When::default()
            },
            channels: [("slack".to_string(), REVIEWS.to_string())].into(),
        },
    ])
}

fn command_in(channel: &str, text: &str) -> Value {
    let mut command = slash_command(text);
    command["channel_id"] = json!(channel);
    command
}

fn reply_text(ack: &Value) -> String {
    ack["payload"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn routed_mentions_live_in_their_channel_and_their_digest_is_their_own() {
    let fake = FakeSlack::start().await;
    let store = Store::temporary(vec!["slack".into()])
        .unwrap()
        .with_routes(routes());
    let bot = Bot::new(config(&fake), store, vec![]);
    // #1 is praise (no route), #2 a complaint (the complaints route).
    bot.ingest(&[
        mention(
            "masto",
            "1",
            earshot::sources::mastodon::TRAITS.network(),
            "Acme coffee is lovely",
        ),
        mention(
            "masto",
            "2",
            earshot::sources::mastodon::TRAITS.network(),
            "Acme charged me twice and nobody answers, I want a refund",
        ),
    ]);
    assert_eq!(bot.store.mention(1).unwrap().place.route, None);
    assert_eq!(
        bot.store.mention(2).unwrap().place.route.as_deref(),
        Some("complaints")
    );
    bot.outbox.drain(Utc::now()).await.unwrap();
    let (own, support) = fake.with(|s| {
        let numbers = |channel: &str| -> Vec<u64> {
            s.posted_to(channel)
                .iter()
                .filter_map(|m| m.number())
                .collect()
        };
        (numbers(CHANNEL), numbers(SUPPORT))
    });
    assert_eq!(own, vec![1]);
    assert_eq!(support, vec![2]);
    bot.run();

    // A claim typed in the support channel for the mention in the team's channel works, and
    // its card and thread change where the card is.
    let ack = fake
        .ack(&fake.send("slash_commands", command_in(SUPPORT, "claim 1")))
        .await;
    assert!(reply_text(&ack).starts_with("#1 is yours."), "{ack}");
    let update = fake
        .until("#1's card updated", |s| s.updates.first().cloned())
        .await;
    assert_eq!(update["channel"], CHANNEL);

    // `list` in a channel shows its mentions first.
    let listed = |channel: &str| {
        let fake = &fake;
        let channel = channel.to_string();
        async move {
            let ack = fake
                .ack(&fake.send("slash_commands", command_in(&channel, "list")))
                .await;
            reply_text(&ack)
                .lines()
                .skip(1)
                .map(|line| {
                    line.split(' ')
                        .find(|w| w.starts_with('#'))
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(SUPPORT).await, ["#2", "#1"]);
    // In the team's channel #1 comes first, though #2 is a complaint (ranked first elsewhere).
    assert_eq!(listed(CHANNEL).await, ["#1", "#2"]);

    // A nudge for #2 goes to #2's thread, in the support channel.
    let now = Utc::now();
    let support_card = fake.with(|s| s.posted_to(SUPPORT)[0].ts.clone());
    let nudge = Effect::Nudge {
        chat: "slack".into(),
        number: 2,
        text: "#2 is still unclaimed".into(),
        ping: vec![],
    };
    bot.store
        .queue_once("nudge-2", now.date_naive(), vec![nudge], now)
        .await
        .unwrap();
    bot.outbox.drain(now).await.unwrap();
    let nudged = fake.with(|s| {
        s.messages
            .iter()
            .find(|m| m.request["text"] == "#2 is still unclaimed")
            .map(|m| m.request.clone())
            .unwrap()
    });
    assert_eq!(nudged["channel"], SUPPORT);
    assert_eq!(nudged["thread_ts"], support_card.as_str());

    // The digest: one per channel, each with only its own mentions.
    let every_day = Daily {
        at: NaiveTime::MIN,
        timezone: chrono_tz::UTC,
        days: vec![
            chrono::Weekday::Mon,
            chrono::Weekday::Tue,
            chrono::Weekday::Wed,
            chrono::Weekday::Thu,
            chrono::Weekday::Fri,
            chrono::Weekday::Sat,
            chrono::Weekday::Sun,
        ],
    };
    assert!(Digester::new(bot.store.clone(), every_day)
        .tick(now)
        .await
        .unwrap());
    bot.outbox.drain(now).await.unwrap();
    let digest_in = |channel: &str| {
        fake.with(|s| {
            s.posted_to(channel)
                .iter()
                .map(|m| m.request["text"].as_str().unwrap_or_default().to_string())
                .find(|text| text.starts_with("Daily digest"))
                .unwrap_or_else(|| panic!("no digest in {channel}"))
        })
    };
    let own = digest_in(CHANNEL);
    let support = digest_in(SUPPORT);
    assert!(own.contains("#1 ·") && !own.contains("#2 ·"), "{own}");
    assert!(
        support.contains("#2 ·") && !support.contains("#1 ·"),
        "{support}"
    );
    assert!(support.contains("Unclaimed (1):"), "{support}");
    let reviews = digest_in(REVIEWS);
    assert!(
        reviews.contains("All clear: nothing is owed an answer."),
        "{reviews}"
    );

    // Changing the routes moves new mentions only: #2 stays in support.
    let unrouted = bot.store.clone().with_routes(Routes::default());
    unrouted
        .ingest(
            "masto",
            &[mention(
                "masto",
                "3",
                earshot::sources::mastodon::TRAITS.network(),
                "Acme refund please",
            )],
            &earshot::domain::Cursor::default(),
            now,
        )
        .unwrap();
    assert_eq!(unrouted.mention(3).unwrap().place.route, None);
    assert_eq!(
        unrouted.mention(2).unwrap().place.channel("slack"),
        Some(SUPPORT)
    );
}

fn saved() -> SavedReplies {
    SavedReplies {
        brand: "Acme".into(),
        replies: BTreeMap::from([
            (
                "refund".to_string(),
                "Sorry, {author}! {brand} will refund #{number} today.".to_string(),
            ),
            (
                "long".to_string(),
                format!("{{author}} {}", "x".repeat(495)),
            ),
            // Checked when the file is read; one that slipped through is still refused.
            ("broken".to_string(), "Hi {autor}".to_string()),
        ]),
    }
}

#[tokio::test]
async fn saved_replies_answer_from_the_command_and_refuse_what_does_not_fit() {
    let fake = FakeSlack::start().await;
    let source = Arc::new(FakeSource::default());
    let mut bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![source.clone() as Arc<dyn Source>],
    );
    bot.desk = bot.desk.clone().with_replies(saved());
    bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        "Acme lost my order",
    )]);
    bot.run();
    let say = |text: &str| {
        let envelope = fake.send("slash_commands", slash_command(text));
        let fake = &fake;
        async move { reply_text(&fake.ack(&envelope).await) }
    };

    let listing = say("replies").await;
    assert!(listing.starts_with("Saved replies (3)"), "{listing}");
    assert!(listing.contains(":refund · Sorry, {author}!"), "{listing}");
    assert_eq!(
        say("answer 1 :refnud").await,
        "There is no saved reply `:refnud`; the saved ones are :broken, :long, :refund."
    );
    assert!(say("answer 1 :broken")
        .await
        .starts_with("The saved reply `:broken` is broken: unknown placeholder `{autor}`"));
    // Within 500 as written, over it once {author} is filled in (and Mastodon's @jane put first).
    let too_long = say("answer 1 :long").await;
    assert!(
        too_long.starts_with("Your answer is 510 characters; Mastodon takes at most 500."),
        "{too_long}"
    );
    assert_eq!(bot.store.mention(1).unwrap().state.status(), Status::Open);

    assert!(say("answer 1 :refund")
        .await
        .starts_with("Your answer to #1 is queued"));
    fake.until("the answer delivered", |_| {
        (!source.texts().is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        source.texts(),
        ["@jane Sorry, Jane Roe! Acme will refund #1 today."]
    );
}

fn pick(number: u64, name: &str) -> Value {
    json!({
        "type": "block_actions",
        "team": { "id": "T1", "domain": "acme" },
        "user": { "id": "U1", "username": "jane", "name": "jane", "team_id": "T1" },
        "api_app_id": "A1",
        "container": { "type": "view", "view_id": "V1" },
        "trigger_id": "111.222.pick",
        "view": {
            "id": "V1", "team_id": "T1", "type": "modal", "hash": "h1",
            "title": { "type": "plain_text", "text": "Answer" },
            "blocks": [], "callback_id": "earshot_answer",
            "private_metadata": number.to_string(),
        },
        "actions": [{
            "type": "static_select", "action_id": "earshot_reply", "block_id": "reply",
            "selected_option": { "text": { "type": "plain_text", "text": format!(":{name}") }, "value": name },
            "action_ts": "1700000100.000002",
        }],
    })
}

#[tokio::test]
async fn the_answer_modal_offers_saved_replies_and_a_pick_fills_the_box() {
    let fake = FakeSlack::start().await;
    let source = Arc::new(FakeSource::default());
    let mut bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![source.clone() as Arc<dyn Source>],
    );
    bot.desk = bot.desk.clone().with_replies(saved());
    bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        "Acme lost my order",
    )]);
    bot.run();
    fake.ack(&fake.send("slash_commands", slash_command("answer 1")))
        .await;
    let opened = fake.until("views.open", |s| s.views.first().cloned()).await;
    let select = &opened["view"]["blocks"][1];
    assert_eq!(select["block_id"], "reply");
    assert_eq!(select["dispatch_action"], true);
    assert_eq!(select["optional"], true);
    assert_eq!(select["element"]["type"], "static_select");
    let values: Vec<&str> = select["element"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    // `:broken` cannot be filled in, so it is not offered.
    assert_eq!(values, ["long", "refund"]);
    assert_eq!(
        opened["view"]["blocks"][2]["element"]["initial_value"],
        "@jane "
    );

    fake.ack(&fake.send("interactive", pick(1, "refund"))).await;
    let updated = fake
        .until("views.update", |s| s.view_updates.first().cloned())
        .await;
    assert_eq!(updated["view_id"], "V1");
    let input = &updated["view"]["blocks"][2];
    assert_eq!(
        input["block_id"], "answer-refund",
        "a new block id shows the new text"
    );
    assert_eq!(
        input["element"]["initial_value"],
        "@jane Sorry, Jane Roe! Acme will refund #1 today."
    );
    assert_eq!(
        updated["view"]["blocks"][1]["element"]["initial_option"]["value"],
        "refund"
    );

    // The person edits the text, then sends it; the box is read under its new id.
    let mut submit = modal_submit(1, "");
    submit["view"]["state"]["values"] = json!({
        "answer-refund": { "text": { "type": "plain_text_input", "value": "@jane Sorry, Jane! We refund today." } },
    });
    let ack = fake.ack(&fake.send("interactive", submit)).await;
    assert!(
        ack.get("payload")
            .is_none_or(|p| p.get("response_action").is_none()),
        "closes: {ack}"
    );
    fake.until("the answer delivered", |_| {
        (!source.texts().is_empty()).then_some(())
    })
    .await;
    assert_eq!(source.texts(), ["@jane Sorry, Jane! We refund today."]);
}
