//! The Slack adapter against a fake Slack on 127.0.0.1 (see `fake.rs`): cards, clicks over
//! Socket Mode, the slash command, the answer modal, rate limits, hostile posts, HTTP mode's
//! signatures, and a restart in the middle of an outage.

pub mod fake;
mod retry_after;
mod routes;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use earshot::chat::slack::signature::sign;
use earshot::chat::slack::{Listen, SlackChat, SlackConfig};
use earshot::chat::{Chat, ChatError};
use earshot::desk::Desk;
use earshot::domain::lifecycle::Answerers;
use earshot::domain::{Author, Cursor, Member, Mention, MentionKey, Network, Status};
use earshot::outbox::Outbox;
use earshot::sources::{Fetched, Posted, Source, SourceError};
use earshot::store::{Effect, Store};
use fake::{Failure, FakeSlack};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};

const CHANNEL: &str = "C0123456789";

fn config(fake: &FakeSlack) -> SlackConfig {
    SlackConfig {
        channel: CHANNEL.into(),
        bot_token: "xoxb-test".into(),
        listen: Listen::Socket {
            app_token: "xapp-test".into(),
        },
        api_url: fake.api_url.clone(),
        answerers: vec![],
        // Pacing has its own test; here it would only slow the suite down.
        post_every: Duration::from_millis(1),
    }
}

fn mention(source: &str, id: &str, network: Network, text: &str) -> Mention {
    Mention {
        key: MentionKey::new(source, id),
        network,
        author: Author {
            handle: "jane".into(),
            name: Some("Jane Roe".into()),
            profile: Some("https://social.example/@jane".into()),
        },
        text: text.into(),
        link: Some(format!("https://social.example/@jane/{id}")),
        created_at: Utc::now() - chrono::Duration::hours(2),
        matched: vec!["acme".into()],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

/// A Mastodon-like source that takes answers and says where it posted them.
struct Answering {
    replies: Mutex<Vec<String>>,
}

#[async_trait]
impl Source for Answering {
    fn name(&self) -> &str {
        "masto"
    }
    fn network(&self) -> Network {
        earshot::sources::mastodon::TRAITS.network()
    }
    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        Ok(Fetched {
            mentions: vec![],
            cursor: cursor.clone(),
            ..Fetched::default()
        })
    }
    async fn reply(&self, _: &Mention, text: &str, _: &str) -> Result<Posted, SourceError> {
        self.replies.lock().unwrap().push(text.to_string());
        Ok(Posted {
            link: Some("https://social.example/@acme/99".into()),
            id: Some("99".into()),
        })
    }
}

struct Bot {
    store: Store,
    desk: Desk,
    outbox: Outbox,
    chat: Arc<SlackChat>,
    stop: watch::Sender<bool>,
}

impl Bot {
    fn new(config: SlackConfig, store: Store, sources: Vec<Arc<dyn Source>>) -> Bot {
        // As `App::build` does: the desk applies the section's `answerers`.
        let answerers = Answerers::new(config.answerers.clone());
        let chat = Arc::new(SlackChat::new(config).unwrap());
        let wake = Arc::new(Notify::new());
        let outbox = Outbox::new(
            store.clone(),
            vec![chat.clone() as Arc<dyn Chat>],
            sources,
            wake.clone(),
        );
        let desk =
            Desk::new(store.clone(), "/mentions".into(), wake).with_answerers("slack", answerers);
        let (stop, _) = watch::channel(false);
        Bot {
            store,
            desk,
            outbox,
            chat,
            stop,
        }
    }

    /// A bot on a temporary store with one card to post (#1, a Mastodon post naming Acme).
    fn with_one_card(fake: &FakeSlack) -> Bot {
        let bot = Bot::new(
            config(fake),
            Store::temporary(vec!["slack".into()]).unwrap(),
            vec![],
        );
        let network = earshot::sources::mastodon::TRAITS.network();
        bot.ingest(&[mention("masto", "1", network, "Acme")]);
        bot
    }

    /// Starts the chat's listener and the outbox worker, as `earshot run` does.
    fn run(&self) {
        let chat = self.chat.clone();
        let (desk, stopped) = (self.desk.clone(), self.stop.subscribe());
        tokio::spawn(async move { chat.listen(desk, stopped).await.unwrap() });
        tokio::spawn(self.outbox.clone().run(self.stop.subscribe()));
    }

    fn ingest(&self, mentions: &[Mention]) -> Vec<u64> {
        let source = &mentions[0].key.source;
        self.store
            .ingest(source, mentions, &Cursor::default(), Utc::now())
            .unwrap()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn button_click(action: &str, number: u64, message_ts: &str) -> Value {
    json!({
        "type": "block_actions",
        "team": { "id": "T1", "domain": "acme" },
        "user": { "id": "U1", "username": "jane", "name": "jane", "team_id": "T1" },
        "api_app_id": "A1",
        "container": { "type": "message", "message_ts": message_ts, "channel_id": CHANNEL, "is_ephemeral": false },
        "trigger_id": "111.222.trigger",
        "channel": { "id": CHANNEL, "name": "brand" },
        "response_url": "https://hooks.slack.com/actions/T1/1/x",
        "actions": [{
            "type": "button", "action_id": action, "block_id": format!("earshot-{number}"),
            "text": { "type": "plain_text", "text": action }, "value": number.to_string(),
            "action_ts": "1700000100.000001",
        }],
    })
}

fn slash_command(text: &str) -> Value {
    json!({
        "team_id": "T1", "team_domain": "acme", "channel_id": CHANNEL, "channel_name": "brand",
        "user_id": "U1", "user_name": "jane", "command": "/mentions", "text": text,
        "response_url": "https://hooks.slack.com/commands/T1/1/x", "trigger_id": "111.222.cmd",
        "api_app_id": "A1",
    })
}

fn modal_submit(number: u64, text: &str) -> Value {
    json!({
        "type": "view_submission",
        "team": { "id": "T1", "domain": "acme" },
        "user": { "id": "U1", "username": "jane", "name": "jane", "team_id": "T1" },
        "api_app_id": "A1",
        "trigger_id": "111.222.submit",
        "view": {
            "id": "V1", "team_id": "T1", "type": "modal", "hash": "h1",
            "title": { "type": "plain_text", "text": "Answer" },
            "blocks": [],
            "callback_id": "earshot_answer",
            "private_metadata": number.to_string(),
            "state": { "values": { "answer": { "text": { "type": "plain_text_input", "value": text } } } },
        },
    })
}

/// Every string in a JSON value, for checks that must hold for all relayed text.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn button_ids(card: &Value) -> Vec<(String, String)> {
    card["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .map(|e| {
            (
                e["action_id"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_mention_becomes_one_message_with_the_right_blocks() {
    let fake = FakeSlack::start().await;
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    let numbers = bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        "Acme lids leak again",
    )]);
    assert_eq!(numbers, vec![1]);

    let pass = bot.outbox.drain(Utc::now()).await.unwrap();
    assert_eq!(pass.delivered, 1);

    let card = fake.with(|slack| slack.cards()[0].request.clone());
    assert_eq!(card["channel"], CHANNEL);
    assert_eq!(card["metadata"]["event_type"], "earshot_mention");
    assert_eq!(card["metadata"]["event_payload"]["number"], "1");
    assert_ne!(card["link_names"], json!(true));
    let text = card.to_string();
    for expected in [
        "*#1* · Mastodon · masto",
        "<https://social.example/@jane|Jane Roe (@jane)>",
        "{ago}|2 h ago>",
        "Acme lids leak again",
        "<https://social.example/@jane/1|https://social.example/@jane/1>",
        "matched: acme",
        "*Open*",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in {text}");
    }
    assert_eq!(
        button_ids(&card),
        [
            ("claim", "1"),
            ("answer", "1"),
            ("done", "1"),
            ("ignore", "1")
        ]
        .map(|(a, v)| (a.to_string(), v.to_string()))
    );
    // The store remembers the card, so a second pass neither posts nor updates anything.
    assert_eq!(bot.outbox.drain(Utc::now()).await.unwrap().delivered, 0);
    assert_eq!(fake.with(|slack| slack.count("chat.postMessage")), 1);
}

#[tokio::test]
async fn a_hostile_post_does_not_ping() {
    let fake = FakeSlack::start().await;
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    let mut hostile = mention(
        "masto",
        "666",
        earshot::sources::mastodon::TRAITS.network(),
        "@channel @here @everyone <!channel> <!here|here> <!everyone> <@U024BE7LH> <!subteam^S1> \
         <https://evil.example/login|https://acme.example/refund> & acme",
    );
    hostile.author.name = Some("<!channel> Acme Support".into());
    hostile.author.profile = Some("https://social.example/@jane|<!channel>".into());
    hostile.link = Some("javascript:alert(1)".into());
    hostile.matched = vec!["<@U024BE7LH>".into()];
    bot.ingest(&[hostile]);
    bot.outbox.drain(Utc::now()).await.unwrap();

    let card = fake.with(|slack| slack.cards()[0].request.clone());
    assert_ne!(card["link_names"], json!(true));
    let mut texts = Vec::new();
    strings(&card, &mut texts);
    for text in &texts {
        for special in [
            "<!channel",
            "<!here",
            "<!everyone",
            "<!subteam",
            "<@",
            "<https://evil",
        ] {
            assert!(!text.contains(special), "{special:?} survives in {text:?}");
        }
        for word in ["@channel", "@here", "@everyone"] {
            assert!(!text.contains(word), "{word:?} survives in {text:?}");
        }
        assert!(
            !text.contains("<javascript"),
            "a non-web link became a link: {text:?}"
        );
    }
    let all = texts.join("\n");
    assert!(all.contains("&lt;!channel&gt;"), "shown as text: {all}");
    assert!(all.contains("&lt;@U024BE7LH&gt;"));
    assert!(all.contains("&amp; acme"));
    assert!(
        all.contains(
            "<https://social.example/@jane%7C%3C!channel%3E|&lt;!channel&gt; Acme Support (@jane)>"
        ),
        "{all}"
    );
}

#[tokio::test]
async fn a_claim_click_over_socket_mode_claims_and_updates_the_message() {
    let fake = FakeSlack::start().await;
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        "Acme lids leak",
    )]);
    bot.run();
    let ts = fake
        .until("the card", |slack| {
            slack.cards().first().map(|c| c.ts.clone())
        })
        .await;

    let envelope = fake.send("interactive", button_click("claim", 1, &ts));
    let ack = fake.ack(&envelope).await;
    assert_eq!(ack, json!({ "envelope_id": envelope }), "a bare ack");

    let tracked = bot.store.mention(1).unwrap();
    assert_eq!(tracked.state.status(), Status::Claimed);
    let holder = tracked.state.holder().unwrap();
    assert_eq!(
        (holder.id.as_str(), holder.name.as_str()),
        ("U1", "Jane Doe"),
        "named as Slack shows them"
    );

    let update = fake
        .until("chat.update", |slack| slack.updates.first().cloned())
        .await;
    assert_eq!(update["ts"], ts.as_str(), "the same message is edited");
    assert_eq!(update["channel"], CHANNEL);
    assert!(
        update.to_string().contains("*Claimed* by @Jane Doe"),
        "{update}"
    );
    let notes = fake
        .until("the thread note", |slack| {
            Some(slack.notes(&ts)).filter(|n| !n.is_empty())
        })
        .await;
    assert_eq!(notes, vec!["claimed by @Jane Doe"]);
    let ephemeral = fake
        .until("the ephemeral reply", |slack| {
            slack.ephemerals.first().cloned()
        })
        .await;
    assert_eq!(ephemeral["user"], "U1");
    assert!(ephemeral["text"]
        .as_str()
        .unwrap()
        .starts_with("#1 is yours."));

    // A second click by someone else is refused, only to them.
    fake.with(|slack| slack.users.insert("U2".into(), "Bob".into()));
    let mut click = button_click("claim", 1, &ts);
    click["user"]["id"] = json!("U2");
    let envelope = fake.send("interactive", click);
    fake.ack(&envelope).await;
    let refusal = fake
        .until("the refusal", |slack| slack.ephemerals.get(1).cloned())
        .await;
    assert_eq!(refusal["user"], "U2");
    assert!(refusal["text"]
        .as_str()
        .unwrap()
        .starts_with("#1 is claimed by @Jane Doe"));
    assert_eq!(
        bot.store.mention(1).unwrap().state.holder().unwrap().id,
        "U1"
    );
}

#[tokio::test]
async fn the_slash_command_answers_ephemerally() {
    let fake = FakeSlack::start().await;
    fake.with(|slack| slack.users.insert("U2".into(), "Bob Smith".into()));
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        "Acme <3 & co",
    )]);
    bot.run();

    let reply = |ack: Value| -> (String, String) {
        let payload = &ack["payload"];
        (
            payload["response_type"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            payload["text"].as_str().unwrap_or_default().to_string(),
        )
    };
    let ack = fake
        .ack(&fake.send("slash_commands", slash_command("list")))
        .await;
    let (kind, text) = reply(ack);
    assert_eq!(kind, "ephemeral");
    assert!(
        text.starts_with("1 mention(s), open:\n#1 · open · Mastodon"),
        "{text}"
    );
    assert!(
        text.contains("Acme &lt;3 &amp; co"),
        "relayed text is escaped: {text}"
    );

    let ack = fake
        .ack(&fake.send("slash_commands", slash_command("assign 1 <@U2|bob>")))
        .await;
    assert_eq!(
        reply(ack),
        ("ephemeral".into(), "#1 is now with @Bob Smith.".into())
    );
    assert_eq!(
        bot.store.mention(1).unwrap().state.holder().unwrap().id,
        "U2"
    );

    let ack = fake
        .ack(&fake.send("slash_commands", slash_command("claim one")))
        .await;
    let (kind, text) = reply(ack);
    assert_eq!(kind, "ephemeral");
    assert_eq!(
        text,
        "`one` is not a mention number; use the number on the card, like `12` or `#12`."
    );

    let ack = fake
        .ack(&fake.send("slash_commands", slash_command("assign 1 bob")))
        .await;
    assert!(reply(ack).1.starts_with("Pick the member with @"));
}

#[tokio::test]
async fn a_modal_submit_queues_the_reply_and_the_message_shows_the_link() {
    let fake = FakeSlack::start().await;
    let source = Arc::new(Answering {
        replies: Mutex::new(vec![]),
    });
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![source.clone() as Arc<dyn Source>],
    );
    bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        "Do Acme lids leak?",
    )]);
    bot.run();
    let ts = fake
        .until("the card", |slack| {
            slack.cards().first().map(|c| c.ts.clone())
        })
        .await;

    let envelope = fake.send("interactive", button_click("answer", 1, &ts));
    fake.ack(&envelope).await;
    let opened = fake
        .until("views.open", |slack| slack.views.first().cloned())
        .await;
    assert_eq!(opened["trigger_id"], "111.222.trigger");
    let input = &opened["view"]["blocks"][1]["element"];
    assert_eq!(
        input["initial_value"], "@jane ",
        "Mastodon replies name the author"
    );
    assert_eq!(input["max_length"], 500);
    assert!(opened.to_string().contains("Do Acme lids leak?"));

    // Too long for Mastodon: the modal stays open with the core's reason.
    let long = format!("@jane {}", "x".repeat(600));
    let ack = fake
        .ack(&fake.send("interactive", modal_submit(1, &long)))
        .await;
    assert_eq!(ack["payload"]["response_action"], "errors");
    let error = ack["payload"]["errors"]["answer"].as_str().unwrap();
    assert!(
        error.starts_with("Your answer is 606 characters; Mastodon takes at most 500."),
        "{error}"
    );
    assert_eq!(bot.store.mention(1).unwrap().state.status(), Status::Open);

    let ack = fake
        .ack(&fake.send(
            "interactive",
            modal_submit(1, "@jane They don't; here is why."),
        ))
        .await;
    assert!(
        ack.get("payload")
            .is_none_or(|p| p.get("response_action").is_none()),
        "closes: {ack}"
    );
    let update = fake
        .until("the card with the link", |slack| {
            slack
                .updates
                .iter()
                .find(|u| u.to_string().contains("*Answered* by @Jane Doe"))
                .cloned()
        })
        .await;
    assert!(
        update
            .to_string()
            .contains("<https://social.example/@acme/99|the reply>"),
        "{update}"
    );
    assert_eq!(
        *source.replies.lock().unwrap(),
        vec!["@jane They don't; here is why."]
    );
    assert_eq!(
        bot.store.mention(1).unwrap().state.status(),
        Status::Answered
    );
    let notes = fake
        .until("the history", |slack| {
            Some(slack.notes(&ts)).filter(|n| n.len() >= 2)
        })
        .await;
    assert_eq!(
        notes,
        vec![
            "answer queued by @Jane Doe",
            "answered by @Jane Doe: https://social.example/@acme/99"
        ]
    );
}

#[tokio::test]
async fn answerers_restrict_public_answers_but_not_claims() {
    let fake = FakeSlack::start().await;
    fake.with(|slack| {
        slack.users.insert("U7".into(), "Ann".into());
        slack.groups.insert("S1".into(), vec!["U7".into()]);
    });
    let mut config = config(&fake);
    config.answerers = vec!["S1".into()];
    let bot = Bot::new(
        config,
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        "Acme?",
    )]);
    bot.run();

    let ack = fake
        .ack(&fake.send("slash_commands", slash_command("answer 1 hello")))
        .await;
    assert!(ack["payload"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Only the team's answerers may post answers on the networks; ask one of them to answer #1 (the list is `answerers` under [chat.slack])."));
    let ack = fake
        .ack(&fake.send("interactive", modal_submit(1, "hello")))
        .await;
    assert_eq!(ack["payload"]["response_action"], "errors");
    let said = ack["payload"]["errors"].to_string();
    assert!(said.contains("Only the team's answerers"), "{said}");
    assert_eq!(bot.store.mention(1).unwrap().state.status(), Status::Open);

    let ack = fake
        .ack(&fake.send("slash_commands", slash_command("claim 1")))
        .await;
    assert!(ack["payload"]["text"]
        .as_str()
        .unwrap()
        .starts_with("#1 is yours."));

    let mut command = slash_command("release 1");
    fake.ack(&fake.send("slash_commands", command.clone()))
        .await;
    command["user_id"] = json!("U7");
    command["text"] = json!("answer 1 hello from the group");
    let ack = fake.ack(&fake.send("slash_commands", command)).await;
    assert!(
        ack["payload"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Your answer to #1 is queued"),
        "{ack}"
    );
}

#[tokio::test]
async fn a_rate_limited_post_is_retried_after_retry_after() {
    let fake = FakeSlack::start().await;
    fake.with(|slack| {
        slack.failures.push_back(Failure::Unavailable);
        slack.failures.push_back(Failure::RateLimited(7));
    });
    let bot = Bot::with_one_card(&fake);
    let at = |seconds| Utc::now() + chrono::Duration::seconds(seconds);
    let start = at(0);
    let after = |seconds| start + chrono::Duration::seconds(seconds);

    // A 503 is retried with the outbox's backoff (2 s for the first retry).
    let due = || bot.store.outbox().unwrap()[0].1.not_before;
    let pass = bot.outbox.drain(start).await.unwrap();
    assert_eq!((pass.delivered, pass.deferred), (0, 1));
    assert_eq!(due(), after(2));

    // A 429 waits as long as Retry-After says, longer than the backoff (4 s) would.
    let pass = bot.outbox.drain(after(2)).await.unwrap();
    assert_eq!((pass.delivered, pass.deferred), (0, 1));
    assert_eq!(due(), after(9), "Retry-After is honoured");
    let early = bot.outbox.drain(after(8)).await.unwrap();
    assert_eq!(early.delivered, 0);
    assert_eq!(
        fake.with(|slack| slack.count("chat.postMessage")),
        2,
        "not tried before it is due"
    );

    let pass = bot.outbox.drain(after(9)).await.unwrap();
    assert_eq!(pass.delivered, 1);
    assert_eq!(fake.with(|slack| slack.cards().len()), 1);
}

#[tokio::test]
async fn another_apps_metadata_in_the_channel_does_not_stall_a_retried_post() {
    let fake = FakeSlack::start().await;
    // A deploy bot shares the channel; Slack lets its metadata be any JSON.
    fake.with(|slack| {
        slack.foreign.push(json!({
            "type": "message", "ts": "1700000000.000001", "text": "deployed",
            "bot_id": "B9", "app_id": "A9",
            "metadata": {
                "event_type": "deploy_finished",
                "event_payload": { "build": 1432, "green": true, "stages": [{ "name": "test", "secs": 12.5 }] }
            }
        }));
        slack.foreign.push(json!({ "type": "message", "ts": "1700000000.000002", "text": "hi", "user": "U7" }));
        slack.failures.push_back(Failure::LoseAnswer);
    });
    let bot = Bot::with_one_card(&fake);
    let start = Utc::now();
    bot.outbox.drain(start).await.unwrap();
    assert_eq!(
        fake.with(|slack| slack.cards().len()),
        1,
        "posted, answer lost"
    );

    // The retry reads the history, skips the foreign message and finds its own card.
    let pass = bot
        .outbox
        .drain(start + chrono::Duration::seconds(3))
        .await
        .unwrap();
    assert_eq!(pass.delivered, 1, "{:?}", bot.store.outbox().unwrap());
    assert_eq!(
        fake.with(|slack| slack.cards().len()),
        1,
        "not posted twice"
    );
    assert_eq!(fake.with(|slack| slack.count("conversations.history")), 1);
    let ts = fake.with(|slack| slack.cards()[0].ts.clone());
    assert_eq!(
        bot.store.message_ref("slack", 1).unwrap(),
        Some(format!("{CHANNEL}/{ts}"))
    );
}

#[tokio::test]
async fn a_restart_during_an_outage_posts_each_pending_message_exactly_once() {
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let start;
    {
        let bot = Bot::new(
            config(&fake),
            Store::open(&path, vec!["slack".into()]).unwrap(),
            vec![],
        );
        let batch: Vec<Mention> = (1..=3)
            .map(|i| {
                mention(
                    "masto",
                    &i.to_string(),
                    earshot::sources::mastodon::TRAITS.network(),
                    &format!("Acme post {i}"),
                )
            })
            .collect();
        assert_eq!(bot.ingest(&batch), vec![1, 2, 3]);
        start = Utc::now();
        // Slack takes the first card but the answer never arrives; then it is down.
        fake.with(|slack| slack.failures.push_back(Failure::LoseAnswer));
        let pass = bot.outbox.drain(start).await.unwrap();
        assert_eq!(pass.delivered, 0);
        fake.with(|slack| slack.outage = true);
        for minutes in [1, 5, 20, 60] {
            bot.outbox
                .drain(start + chrono::Duration::minutes(minutes))
                .await
                .unwrap();
        }
        bot.store.flush().await.unwrap();
    }
    assert_eq!(
        fake.with(|slack| slack.cards().len()),
        1,
        "only the lost-answer card so far"
    );

    // earshot restarts; Slack is back.
    fake.with(|slack| slack.outage = false);
    let bot = Bot::new(
        config(&fake),
        Store::open(&path, vec!["slack".into()]).unwrap(),
        vec![],
    );
    let later = start + chrono::Duration::hours(2);
    let mut delivered = 0;
    for _ in 0..5 {
        delivered += bot.outbox.drain(later).await.unwrap().delivered;
    }
    assert_eq!(delivered, 3);
    let numbers = fake.with(|slack| slack.cards().iter().map(|c| c.number()).collect::<Vec<_>>());
    assert_eq!(
        numbers,
        vec![Some(1), Some(2), Some(3)],
        "each once, in order"
    );
    let first_ts = fake.with(|slack| slack.cards()[0].ts.clone());
    assert_eq!(
        bot.store.message_ref("slack", 1).unwrap(),
        Some(format!("{CHANNEL}/{first_ts}")),
        "the card found in the history is the one the store edits"
    );
    assert_eq!(bot.store.outbox_len(), 0);
}

#[tokio::test]
async fn http_mode_verifies_signatures() {
    let fake = FakeSlack::start().await;
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let bot = Bot::with_one_card(&fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(bot.chat.clone().serve_http(
        bot.desk.clone(),
        listener,
        secret.into(),
        bot.stop.subscribe(),
    ));

    let http = reqwest::Client::new();
    let body = serde_urlencoded::to_string([
        ("token", "x"),
        ("team_id", "T1"),
        ("team_domain", "acme"),
        ("channel_id", CHANNEL),
        ("channel_name", "brand"),
        ("user_id", "U1"),
        ("user_name", "jane"),
        ("command", "/mentions"),
        ("text", "claim 1"),
        ("response_url", "https://hooks.slack.com/commands/T1/1/x"),
        ("trigger_id", "1.2.3"),
    ])
    .unwrap();
    let send = |path: &str, timestamp: i64, signature: Option<String>, body: String| {
        let mut request = http
            .post(format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", timestamp.to_string())
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-slack-signature", signature);
        }
        request.send()
    };
    let now = Utc::now().timestamp();

    let forged = sign("not-the-secret", &now.to_string(), body.as_bytes());
    let response = send("/slack/commands", now, Some(forged), body.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let stale_at = now - 6 * 60;
    let stale = sign(secret, &stale_at.to_string(), body.as_bytes());
    let response = send("/slack/commands", stale_at, Some(stale), body.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = send("/slack/commands", now, None, body.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let tampered = sign(secret, &now.to_string(), body.as_bytes());
    let response = send(
        "/slack/commands",
        now,
        Some(tampered),
        body.replace("claim", "ignore"),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        bot.store.mention(1).unwrap().state.status(),
        Status::Open,
        "nothing changed"
    );

    let signed = sign(secret, &now.to_string(), body.as_bytes());
    let response = send("/slack/commands", now, Some(signed), body.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(answer["response_type"], "ephemeral");
    assert!(answer["text"].as_str().unwrap().starts_with("#1 is yours."));
    assert_eq!(
        bot.store.mention(1).unwrap().state.status(),
        Status::Claimed
    );

    let click = format!(
        "payload={}",
        url_encode(&button_click("done", 1, "1700000000.000001").to_string())
    );
    let signed = sign(secret, &now.to_string(), click.as_bytes());
    let response = send("/slack/interactivity", now, Some(signed), click)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(bot.store.mention(1).unwrap().state.status(), Status::Done);

    let check = r#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let signed = sign(secret, &now.to_string(), check.as_bytes());
    let response = send("/slack/events", now, Some(signed), check.into())
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(
        answer["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
}

fn url_encode(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_string()
}

/// Posts mention #1 through the outbox and returns its card's ts.
async fn shown(bot: &Bot, fake: &FakeSlack, text: &str) -> String {
    bot.ingest(&[mention(
        "masto",
        "1",
        earshot::sources::mastodon::TRAITS.network(),
        text,
    )]);
    bot.outbox.drain(Utc::now()).await.unwrap();
    fake.with(|s| s.cards()[0].ts.clone())
}

#[tokio::test]
async fn a_digest_notice_posts_once_to_the_channel() {
    let fake = FakeSlack::start().await;
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    let digest = Effect::Digest {
        chat: "slack".into(),
        text: "Owed: 1\n#1 · <!channel> @here by jane & co".into(),
        channel: None,
    };
    let date = Utc::now().date_naive();
    let now = Utc::now();
    assert!(bot
        .store
        .queue_once("digest", date, vec![digest.clone()], now)
        .await
        .unwrap());
    assert!(!bot
        .store
        .queue_once("digest", date, vec![digest], now)
        .await
        .unwrap());
    bot.outbox.drain(now).await.unwrap();
    bot.outbox.drain(now).await.unwrap();

    let posted = fake.with(|s| {
        s.posted_to(CHANNEL)
            .iter()
            .map(|m| m.request.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(posted.len(), 1, "one digest: {posted:?}");
    assert_eq!(
        posted[0]["text"],
        "Owed: 1\n#1 · &lt;!channel&gt; @\u{2060}here by jane &amp; co"
    );
    assert!(posted[0]["thread_ts"].is_null());
}

#[tokio::test]
async fn a_nudge_escalates_in_the_thread_and_a_hostile_post_still_cannot_ping() {
    let fake = FakeSlack::start().await;
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    let ts = shown(&bot, &fake, "<!channel> <@U999> free refunds @here").await;
    let tracked = bot.store.mention(1).unwrap();
    let message = format!("{CHANNEL}/{ts}");
    let ping = [
        "@channel".to_string(),
        "S0614TZR7".into(),
        "U024BE7LH".into(),
    ];
    // The relayed post's words reach the nudge as the core quotes them.
    let text = format!("#1 is still unclaimed: {}", tracked.mention.text);
    bot.chat
        .nudge(Some(&message), &tracked, &text, &ping, Utc::now())
        .await
        .unwrap();
    bot.chat
        .nudge(
            Some(&message),
            &tracked,
            "#1 first reminder",
            &[],
            Utc::now(),
        )
        .await
        .unwrap();

    let replies = fake.with(|s| {
        s.messages
            .iter()
            .filter(|m| m.thread_ts() == Some(ts.as_str()))
            .map(|m| m.request.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(replies.len(), 2);
    assert_eq!(
        replies[0]["text"],
        "<!channel> <!subteam^S0614TZR7> <@U024BE7LH> #1 is still unclaimed: \
         &lt;!channel&gt; &lt;@U999&gt; free refunds @\u{2060}here"
    );
    assert_eq!(replies[0]["channel"], CHANNEL);
    assert_eq!(
        replies[0]["reply_broadcast"], true,
        "escalations show in the channel"
    );
    assert_eq!(replies[1]["text"], "#1 first reminder");
    assert!(replies[1]["reply_broadcast"].is_null() || replies[1]["reply_broadcast"] == false);
    // Nothing else pings: the only mention syntax is the configured targets'.
    let mut all = Vec::new();
    strings(&json!(replies), &mut all);
    let pings: usize = all
        .iter()
        .map(|s| s.matches("<!").count() + s.matches("<@").count())
        .sum();
    assert_eq!(pings, 3);
}

#[tokio::test]
async fn a_reminder_to_a_member_is_a_direct_message() {
    let fake = FakeSlack::start().await;
    let bot = Bot::new(
        config(&fake),
        Store::temporary(vec!["slack".into()]).unwrap(),
        vec![],
    );
    let ts = shown(&bot, &fake, "where is my order").await;
    let tracked = bot.store.mention(1).unwrap();
    let message = format!("{CHANNEL}/{ts}");
    let jane = Member::new("U1", "Jane Doe");
    bot.chat
        .notify_member(
            &jane,
            Some(&message),
            &tracked,
            "you claimed #1 <!here>",
            Utc::now(),
        )
        .await
        .unwrap();

    let dm = fake.with(|s| {
        assert_eq!(s.dms, vec!["U1"]);
        let dm = s.posted_to("DU1");
        assert_eq!(dm.len(), 1);
        dm[0].request.clone()
    });
    assert_eq!(dm["text"], "you claimed #1 &lt;!here&gt;");
    assert!(fake.with(|s| s.notes(&ts).is_empty()), "not in the thread");

    // A member from another chat has no Slack DM: the thread names them instead.
    let other = Member::new("shell-ann", "ann");
    bot.chat
        .notify_member(
            &other,
            Some(&message),
            &tracked,
            "you claimed #1",
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(fake.with(|s| s.notes(&ts)), vec!["@ann: you claimed #1"]);
    assert_eq!(fake.with(|s| s.count("conversations.open")), 1);
}

#[tokio::test]
async fn the_report_chart_is_uploaded_in_three_steps_with_its_bytes_intact() {
    let fake = FakeSlack::start().await;
    let chat = SlackChat::new(config(&fake)).unwrap();
    // A PNG signature, then every byte value: nothing may be re-encoded on the way.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png.extend((0..=255u8).cycle().take(4096));
    chat.upload(
        "earshot-report-2026-11-23.png",
        &png,
        "Last week: 12 mentions <!channel>",
        Utc::now(),
    )
    .await
    .unwrap();

    let methods: Vec<String> = fake.with(|s| s.calls.iter().map(|(m, _)| m.clone()).collect());
    assert_eq!(
        methods,
        vec!["files.getUploadURLExternal", "files.completeUploadExternal"]
    );
    fake.with(|s| {
        let asked = &s.calls[0].1;
        assert_eq!(asked["filename"], "earshot-report-2026-11-23.png");
        assert_eq!(asked["length"], png.len().to_string());
        let (content_type, bytes) = &s.uploads["F1"];
        assert_eq!(content_type, "image/png");
        assert_eq!(bytes, &png);
        let shared = &s.shared[0];
        assert_eq!(shared["channel_id"], CHANNEL);
        assert_eq!(shared["files"][0]["id"], "F1");
        assert_eq!(
            shared["initial_comment"],
            "Last week: 12 mentions &lt;!channel&gt;"
        );
    });
}

#[tokio::test]
async fn notices_and_uploads_are_retried_when_slack_is_down() {
    let fake = FakeSlack::start().await;
    let chat = SlackChat::new(config(&fake)).unwrap();
    fake.with(|s| s.outage = true);
    let failed = chat
        .post_notice("digest", Utc::now())
        .await
        .expect_err("Slack is down");
    assert!(matches!(failed, ChatError::Retry { .. }), "{failed:?}");
    let failed = chat
        .upload("r.png", b"png", "report", Utc::now())
        .await
        .expect_err("Slack is down");
    assert!(matches!(failed, ChatError::Retry { .. }), "{failed:?}");
}

#[tokio::test]
async fn a_storm_summary_is_one_message_edited_in_place_that_cannot_ping() {
    let fake = FakeSlack::start().await;
    let chat = SlackChat::new(config(&fake)).unwrap();
    let id = chat
        .post_summary("Storm: 3 mentions <!channel> @here", Utc::now())
        .await
        .unwrap();
    let ts = fake.with(|s| s.posted_to(CHANNEL)[0].ts.clone());
    assert_eq!(id, format!("{CHANNEL}/{ts}"));
    chat.update_summary(
        &id,
        "Storm: 9 mentions <!everyone> <@U024BE7LH> <!subteam^S1> @channel & co",
        Utc::now(),
    )
    .await
    .unwrap();

    fake.with(|s| {
        assert_eq!(s.messages.len(), 1, "one message: {:?}", s.messages);
        assert_eq!(s.count("chat.postMessage"), 1);
        assert_eq!(s.updates.len(), 1, "edited in place: {:?}", s.updates);
        let update = &s.updates[0];
        assert_eq!(update["channel"], CHANNEL);
        assert_eq!(update["ts"], ts.as_str());
        let text = update["text"].as_str().unwrap();
        assert!(text.starts_with("Storm: 9 mentions"), "{text}");
        assert!(text.contains("&lt;!everyone&gt;") && text.contains("&amp; co"));
        let mut texts = Vec::new();
        strings(&s.messages[0].request, &mut texts);
        strings(update, &mut texts);
        for text in &texts {
            for special in ["<!channel", "<!here", "<!everyone", "<!subteam", "<@"] {
                assert!(!text.contains(special), "{special:?} survives in {text:?}");
            }
            for word in ["@channel", "@here", "@everyone"] {
                assert!(!text.contains(word), "{word:?} survives in {text:?}");
            }
        }
    });
}

#[tokio::test]
async fn a_retry_after_beyond_any_clock_delays_one_card_at_most_an_hour() {
    let fake = FakeSlack::start().await;
    fake.with(|slack| {
        slack
            .failures
            .push_back(Failure::RateLimited(99_999_999_999_999));
        slack.failures.push_back(Failure::RateLimited(u64::MAX));
    });
    let bot = Bot::with_one_card(&fake);
    let start = Utc::now();
    let due = || bot.store.outbox().unwrap()[0].1.not_before;
    for _ in 0..2 {
        // Once crashed the process (DateTime + TimeDelta overflowed); now one card waits.
        let at = due().max(start);
        let pass = bot.outbox.drain(at).await.unwrap();
        assert_eq!((pass.delivered, pass.deferred), (0, 1));
        assert!(due() <= at + chrono::Duration::hours(1), "{}", due());
    }
    let pass = bot.outbox.drain(due()).await.unwrap();
    assert_eq!(pass.delivered, 1, "retried within the cap, then delivered");
    assert_eq!(fake.with(|slack| slack.cards().len()), 1);
}
