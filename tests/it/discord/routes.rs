//! Routes and saved replies in Discord: routed cards, their edits, threads and nudges in their
//! channel, a digest per channel, commands from any channel; saved replies offered as a select
//! before the answer form (Discord forms hold text inputs only), which opens the form filled in.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveTime, Utc};
use earshot::chat::discord::Discord;
use earshot::chat::Chat;
use earshot::desk::Desk;
use earshot::digest::Digester;
use earshot::domain::replies::SavedReplies;
use earshot::domain::routing::{Route, Routes, When};
use earshot::domain::schedule::Daily;
use earshot::domain::State;
use earshot::outbox::Outbox;
use earshot::store::{Effect, Store};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};

use super::fake::{self, FakeDiscord, CHANNEL, SUPPORT};
use super::{ephemeral_text, jane, mention, settings, Bot};
use crate::harness::fake_source::FakeSource;
use crate::harness::terminal::Screen;

async fn routed_bot(fake: &FakeDiscord, routes: Routes, replies: SavedReplies) -> Bot {
    let discord = Arc::new(Discord::new(settings(fake), reqwest::Client::new()));
    let store = Store::temporary(vec!["discord".into()])
        .unwrap()
        .with_routes(routes);
    let wake = Arc::new(Notify::new());
    let sent = Arc::new(FakeSource::default());
    let outbox = Outbox::new(
        store.clone(),
        vec![discord.clone() as Arc<dyn Chat>],
        vec![sent.clone()],
        wake.clone(),
    );
    let desk = Desk::new(store.clone(), "/mentions".into(), wake).with_replies(replies);
    let (stop, stopped) = watch::channel(false);
    let listening = tokio::spawn(discord.clone().listen(desk.clone(), stopped));
    Bot {
        fake: fake.clone(),
        store,
        desk,
        outbox,
        discord,
        replies: sent,
        screen: Screen::default(),
        stop,
        listening,
    }
}

fn complaints() -> Routes {
    Routes(vec![Route {
        name: "complaints".into(),
        when: When {
            complaint: Some(true),
            ..When::default()
        },
        channels: [("discord".to_string(), SUPPORT.to_string())].into(),
    }])
}

/// `payload` as if typed in `channel`.
fn in_channel(mut payload: Value, channel: &str) -> Value {
    payload["channel_id"] = json!(channel);
    payload["channel"]["id"] = json!(channel);
    payload
}

fn posted_numbers(fake: &FakeDiscord, channel: &str) -> Vec<String> {
    fake.requests_to("POST", &format!("/channels/{channel}/messages"))
        .iter()
        .filter_map(|r| r.body["embeds"][0]["title"].as_str().map(str::to_string))
        .map(|title| title.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn routed_mentions_and_everything_about_them_stay_in_their_channel() {
    let fake = FakeDiscord::start().await;
    let bot = routed_bot(&fake, complaints(), SavedReplies::default()).await;
    fake.wait_identified().await;
    bot.relay(mention("1", "Acme coffee is lovely")).await;
    let complaint = bot
        .relay(mention(
            "2",
            "Acme charged me twice and nobody answers, I want a refund",
        ))
        .await;
    assert_eq!(complaint["channel_id"], SUPPORT);
    assert_eq!(posted_numbers(&fake, CHANNEL), ["#1"]);
    assert_eq!(posted_numbers(&fake, SUPPORT), ["#2"]);

    // Claimed from the team's own channel; the card, its thread and its notes are in support.
    fake.dispatch(
        "INTERACTION_CREATE",
        fake::slash(
            "6001",
            &jane(),
            "claim",
            json!([{ "name": "number", "type": 4, "value": 2 }]),
        ),
    );
    assert!(ephemeral_text(&fake.callback("6001").await).starts_with("#2 is yours."));
    assert!(matches!(
        bot.store.mention(2).unwrap().state,
        State::Claimed { .. }
    ));
    bot.outbox.drain(Utc::now()).await.unwrap();
    let id = complaint["id"].as_str().unwrap();
    assert_eq!(
        fake.requests_to("PATCH", &format!("/channels/{SUPPORT}/messages/{id}"))
            .len(),
        1
    );
    assert_eq!(
        fake.requests_to(
            "POST",
            &format!("/channels/{SUPPORT}/messages/{id}/threads")
        )
        .len(),
        1
    );

    // `list` in support shows its mentions first; in the team's channel, the team's first.
    let list_in = |channel: &str, interaction: &str| {
        fake.dispatch(
            "INTERACTION_CREATE",
            in_channel(
                fake::slash(interaction, &jane(), "list", json!([])),
                channel,
            ),
        );
    };
    list_in(SUPPORT, "6002");
    let listed = fake.callback("6002").await;
    let lines: Vec<&str> = ephemeral_text(&listed).lines().skip(1).collect();
    assert!(
        lines[0].contains("#2 ·") && lines[1].contains("#1 ·"),
        "{lines:?}"
    );
    list_in(CHANNEL, "6003");
    let listed = fake.callback("6003").await;
    let lines: Vec<&str> = ephemeral_text(&listed).lines().skip(1).collect();
    assert!(
        lines[0].contains("#1 ·") && lines[1].contains("#2 ·"),
        "{lines:?}"
    );

    // A nudge for #2 goes to its thread.
    let now = Utc::now();
    let nudge = Effect::Nudge {
        chat: "discord".into(),
        number: 2,
        text: "#2 is still waiting for an answer".into(),
        ping: vec![],
    };
    bot.store
        .queue_once("nudge-2", now.date_naive(), vec![nudge], now)
        .await
        .unwrap();
    bot.outbox.drain(now).await.unwrap();
    let in_thread = fake.requests_to("POST", &format!("/channels/{id}/messages"));
    assert!(
        in_thread.iter().any(|r| r.body["content"]
            .as_str()
            .is_some_and(|c| c.contains("still waiting"))),
        "{in_thread:?}"
    );

    // One digest per channel, each with its own mentions only.
    let daily = Daily {
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
    assert!(Digester::new(bot.store.clone(), daily)
        .tick(now)
        .await
        .unwrap());
    bot.outbox.drain(now).await.unwrap();
    let digest = |channel: &str| {
        fake.requests_to("POST", &format!("/channels/{channel}/messages"))
            .iter()
            .filter_map(|r| r.body["content"].as_str().map(str::to_string))
            .find(|c| c.starts_with("Daily digest"))
            .unwrap_or_else(|| panic!("no digest in {channel}"))
    };
    let own = digest(CHANNEL);
    let support = digest(SUPPORT);
    assert!(own.contains("\\#1 ·") && !own.contains("\\#2 ·"), "{own}");
    assert!(
        support.contains("\\#2 ·") && !support.contains("\\#1 ·"),
        "{support}"
    );
    bot.stop().await;
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
                format!("{{author}} {}", "x".repeat(480)),
            ),
        ]),
    }
}

fn pick(id: &str, custom_id: &str, value: &str, message: &Value) -> Value {
    let mut payload = fake::click(id, &jane(), custom_id, message);
    payload["data"] = json!({ "custom_id": custom_id, "component_type": 3, "values": [value] });
    payload
}

#[tokio::test]
async fn the_answer_button_offers_saved_replies_and_a_pick_opens_the_form_filled_in() {
    let fake = FakeDiscord::start().await;
    let bot = routed_bot(&fake, Routes::default(), saved()).await;
    fake.wait_identified().await;
    let message = bot.relay(mention("1", "Acme lost my order")).await;

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::click("6101", &jane(), "earshot:answer:1", &message),
    );
    let offered = fake.callback("6101").await;
    assert!(ephemeral_text(&offered).starts_with("Answer #1: start from a saved reply"));
    let select = &offered["data"]["components"][0]["components"][0];
    assert_eq!(select["type"], json!(3), "a string select: {select}");
    assert_eq!(select["custom_id"], json!("earshot:reply:1"));
    let values: Vec<&str> = select["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["+own", "long", "refund"]);

    fake.dispatch(
        "INTERACTION_CREATE",
        pick("6102", "earshot:reply:1", "refund", &message),
    );
    let form = fake.callback("6102").await;
    assert_eq!(form["type"], json!(9), "a modal: {form}");
    assert_eq!(form["data"]["custom_id"], json!("earshot:answer:1"));
    let input = &form["data"]["components"][0]["components"][0];
    assert_eq!(
        input["value"],
        json!("@jane@example.social Sorry, Jane! Acme will refund #1 today.")
    );
    assert_eq!(input["max_length"], json!(500));

    // "Write my own": the usual form.
    fake.dispatch(
        "INTERACTION_CREATE",
        pick("6103", "earshot:reply:1", "+own", &message),
    );
    let own = fake.callback("6103").await;
    assert_eq!(
        own["data"]["components"][0]["components"][0]["value"],
        json!("@jane@example.social ")
    );

    // Over Mastodon's 500 once filled in: shown whole to be shortened; sent as is, refused.
    fake.dispatch(
        "INTERACTION_CREATE",
        pick("6104", "earshot:reply:1", "long", &message),
    );
    let long = fake.callback("6104").await;
    let text = long["data"]["components"][0]["components"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(text.chars().count(), 506);
    assert_eq!(
        long["data"]["components"][0]["components"][0]["max_length"],
        json!(506)
    );
    fake.dispatch(
        "INTERACTION_CREATE",
        fake::submit("6105", &jane(), "earshot:answer:1", &text),
    );
    let refused = fake.callback("6105").await;
    assert!(
        ephemeral_text(&refused)
            .starts_with("Your answer is 506 characters; Mastodon takes at most 500."),
        "{refused}"
    );

    // Edited and sent from the form.
    fake.dispatch(
        "INTERACTION_CREATE",
        fake::submit(
            "6106",
            &jane(),
            "earshot:answer:1",
            "@jane@example.social Sorry! Refunded.",
        ),
    );
    assert!(ephemeral_text(&fake.callback("6106").await).starts_with("Your answer to #1 is queued"));
    bot.outbox.drain(Utc::now()).await.unwrap();
    assert_eq!(
        bot.replies.texts(),
        ["@jane@example.social Sorry! Refunded."]
    );
    bot.stop().await;
}

#[tokio::test]
async fn the_answer_command_takes_a_saved_reply_by_name_and_replies_lists_them() {
    let fake = FakeDiscord::start().await;
    let bot = routed_bot(&fake, Routes::default(), saved()).await;
    fake.wait_identified().await;
    bot.relay(mention("1", "Acme lost my order")).await;
    let answer = |id: &str, text: &str| {
        fake.dispatch(
            "INTERACTION_CREATE",
            fake::slash(
                id,
                &jane(),
                "answer",
                json!([{ "name": "number", "type": 4, "value": 1 }, { "name": "text", "type": 3, "value": text }]),
            ),
        );
    };
    fake.dispatch(
        "INTERACTION_CREATE",
        fake::slash("6201", &jane(), "replies", json!([])),
    );
    let listing = fake.callback("6201").await;
    assert!(ephemeral_text(&listing).contains(":refund · Sorry, {author}!"));
    answer("6202", ":nope");
    assert_eq!(
        ephemeral_text(&fake.callback("6202").await),
        "There is no saved reply `:nope`; the saved ones are :long, :refund."
    );
    answer("6203", ":refund");
    assert!(ephemeral_text(&fake.callback("6203").await).starts_with("Your answer to #1 is queued"));
    bot.outbox.drain(Utc::now()).await.unwrap();
    assert_eq!(
        bot.replies.texts(),
        ["@jane@example.social Sorry, Jane! Acme will refund #1 today."]
    );
    bot.stop().await;
}
