//! Discord end to end against a fake Discord on 127.0.0.1 (REST + gateway), with earshot's
//! real store, desk, outbox and Discord chat; the HTTP interactions endpoint is signed with a
//! real Ed25519 key.

mod fake;
mod routes;
use crate::slack::fake as slack_fake;

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use earshot::app::{App, RunOptions};
use earshot::chat::discord::Discord;
use earshot::chat::shell::Shell;
use earshot::chat::slack::{Listen, SlackChat, SlackConfig};
use earshot::chat::Chat;
use earshot::config::{Config, DiscordConfig, DiscordEndpoint};
use earshot::desk::Desk;
use earshot::domain::lifecycle::Answerers;
use earshot::domain::{Actor, Author, Cursor, Member, Mention, MentionKey, Network, State};
use earshot::outbox::Outbox;
use earshot::sources::{Fetched, Posted, Source, SourceError};
use earshot::store::{Effect, Store};
use ed25519_dalek::{Signer, SigningKey};
use fake::{FakeDiscord, Person, CHANNEL, TOKEN};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};

/// A Mastodon-like source that takes answers and remembers them.
struct Replies {
    sent: Mutex<Vec<String>>,
}

#[async_trait]
impl Source for Replies {
    fn name(&self) -> &str {
        "masto"
    }
    fn network(&self) -> Network {
        earshot::sources::mastodon::TRAITS.network()
    }
    fn every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60)
    }
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        Ok(Fetched {
            mentions: vec![],
            cursor: cursor.clone(),
            ..Fetched::default()
        })
    }
    async fn reply(&self, _: &Mention, text: &str, _: &str) -> Result<Posted, SourceError> {
        self.sent.lock().unwrap().push(text.to_string());
        Ok(Posted {
            link: Some("https://example.social/@brand/2".into()),
            id: None,
        })
    }
}

/// What the terminal printed.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<u8>>>);

impl Write for Screen {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

struct Bot {
    fake: FakeDiscord,
    store: Store,
    desk: Desk,
    outbox: Outbox,
    discord: Arc<Discord>,
    replies: Arc<Replies>,
    screen: Screen,
    stop: watch::Sender<bool>,
    listening: tokio::task::JoinHandle<Result<(), earshot::chat::ChatError>>,
}

fn settings(fake: &FakeDiscord) -> DiscordConfig {
    DiscordConfig {
        channel_id: CHANNEL.parse().unwrap(),
        token: TOKEN.into(),
        guild_id: Some(fake::GUILD.parse().unwrap()),
        api_url: fake.url.clone(),
        answerers: vec![],
        endpoint: None,
    }
}

/// earshot with Discord (and the terminal too when `with_shell`), listening.
async fn bot(config: DiscordConfig, fake: FakeDiscord, with_shell: bool) -> Bot {
    let mut names = vec!["discord".to_string()];
    let screen = Screen::default();
    // As `App::build` does: the desk applies the section's `answerers`.
    let answerers = Answerers::new(config.answerers.iter().map(u64::to_string));
    let discord = Arc::new(Discord::new(config, reqwest::Client::new()));
    let mut chats: Vec<Arc<dyn Chat>> = vec![discord.clone()];
    if with_shell {
        names.insert(0, "shell".into());
        chats.insert(0, Arc::new(Shell::new(Box::new(screen.clone()))));
    }
    let store = Store::temporary(names).unwrap();
    let wake = Arc::new(Notify::new());
    let replies = Arc::new(Replies {
        sent: Mutex::new(vec![]),
    });
    let outbox = Outbox::new(store.clone(), chats, vec![replies.clone()], wake.clone());
    let desk =
        Desk::new(store.clone(), "/mentions".into(), wake).with_answerers("discord", answerers);
    let (stop, stopped) = watch::channel(false);
    let listening = tokio::spawn(discord.clone().listen(desk.clone(), stopped));
    Bot {
        fake,
        store,
        desk,
        outbox,
        discord,
        replies,
        screen,
        stop,
        listening,
    }
}

fn mention(id: &str, text: &str) -> Mention {
    Mention {
        key: MentionKey::new("masto", id),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: "jane@example.social".into(),
            name: Some("Jane".into()),
            profile: Some("https://example.social/@jane".into()),
        },
        text: text.into(),
        link: Some(format!("https://example.social/@jane/{id}")),
        created_at: Utc::now() - Duration::minutes(5),
        matched: vec!["acme".into()],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

impl Bot {
    /// Stores a new mention and delivers its cards; returns the Discord message.
    async fn relay(&self, mention: Mention) -> Value {
        let numbers = self
            .store
            .ingest("masto", &[mention], &Cursor::default(), Utc::now())
            .unwrap();
        self.outbox.drain(Utc::now()).await.unwrap();
        let id = self
            .store
            .message_ref("discord", numbers[0])
            .unwrap()
            .expect("the mention was posted to Discord");
        self.fake.message(&id).expect("the fake holds the message")
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), self.listening)
            .await
            .expect("the listener stops on shutdown");
        ended.unwrap().unwrap();
    }
}

fn jane() -> Person {
    Person {
        id: "4001",
        name: "Jane",
        roles: vec!["555"],
    }
}

fn ephemeral_text(callback: &Value) -> &str {
    assert_eq!(callback["type"], json!(4), "a message response: {callback}");
    assert_eq!(
        callback["data"]["flags"],
        json!(64),
        "ephemeral: {callback}"
    );
    assert_eq!(callback["data"]["allowed_mentions"]["parse"], json!([]));
    callback["data"]["content"].as_str().unwrap()
}

#[tokio::test]
async fn a_mention_becomes_one_message_with_embed_buttons_and_no_pings() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    let message = bot
        .relay(mention("1", "Acme lids leak <@&42> @everyone **now**"))
        .await;

    let posts = fake.requests_to("POST", &format!("/channels/{CHANNEL}/messages"));
    assert_eq!(posts.len(), 1);
    let sent = &posts[0].body;
    assert_eq!(posts[0].authorization.as_deref(), Some("Bot test-token"));
    assert_eq!(sent["allowed_mentions"]["parse"], json!([]));
    assert_eq!(sent["enforce_nonce"], json!(true));
    let embed = &sent["embeds"][0];
    assert_eq!(embed["title"], json!("#1 · Mastodon · open"));
    assert_eq!(
        embed["author"]["url"],
        json!("https://example.social/@jane")
    );
    assert_eq!(
        embed["description"],
        json!(r"Acme lids leak \<\@&42\> \@everyone \*\*now\*\*")
    );
    assert_eq!(embed["url"], json!("https://example.social/@jane/1"));
    let buttons: Vec<&str> = sent["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["label"].as_str().unwrap())
        .collect();
    assert_eq!(buttons, ["Claim", "Answer…", "Done", "Ignore"]);

    // A retry after a crash between sending and recording sends the same nonce, and Discord
    // hands back the first message instead of posting a second.
    let tracked = bot.store.mention(1).unwrap();
    let again = bot.discord.post(&tracked, Utc::now()).await.unwrap();
    assert_eq!(json!(again), message["id"]);
    let retried = fake.requests_to("POST", &format!("/channels/{CHANNEL}/messages"));
    assert_eq!(retried.len(), 2);
    assert_eq!(retried[0].body["nonce"], retried[1].body["nonce"]);

    // The command is registered once, in the guild, mirroring the core's subcommands.
    let put = fake.requests_to("PUT", "/applications/2000/guilds/7000/commands");
    assert_eq!(put.len(), 1);
    assert_eq!(put[0].body[0]["name"], json!("mentions"));
    let subcommands: Vec<&str> = put[0].body[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(subcommands.contains(&"claim") && subcommands.contains(&"answer"));
    bot.stop().await;
}

#[tokio::test]
async fn a_claim_click_claims_edits_the_message_and_notes_it_in_a_thread() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    fake.wait_identified().await;
    let message = bot.relay(mention("1", "Acme lids leak")).await;
    let id = message["id"].as_str().unwrap().to_string();

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::click("5001", &jane(), "earshot:claim:1", &message),
    );
    let callback = fake.callback("5001").await;
    assert!(ephemeral_text(&callback).starts_with("#1 is yours."));
    assert!(matches!(
        bot.store.mention(1).unwrap().state,
        State::Claimed { by, .. } if by.id == "discord:4001" && by.name == "Jane"
    ));

    bot.outbox.drain(Utc::now()).await.unwrap();
    let edits = fake.requests_to("PATCH", &format!("/channels/{CHANNEL}/messages/{id}"));
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0].body["embeds"][0]["title"],
        json!("#1 · Mastodon · claimed by @Jane")
    );
    assert_eq!(
        edits[0].body["components"][0]["components"][0]["label"],
        json!("Release")
    );
    // First note: the thread does not exist yet, so it is started, then the note goes in.
    assert_eq!(
        fake.requests_to(
            "POST",
            &format!("/channels/{CHANNEL}/messages/{id}/threads")
        )
        .len(),
        1
    );
    let notes = fake.requests_to("POST", &format!("/channels/{id}/messages"));
    assert_eq!(
        notes.len(),
        2,
        "one refused before the thread existed, one delivered"
    );
    assert_eq!(notes[1].body["content"], json!(r"\#1 claimed by \@Jane"));
    assert_eq!(notes[1].body["allowed_mentions"]["parse"], json!([]));

    // serenity kept the session alive: the fake saw heartbeats and acknowledged them.
    fake.until("a heartbeat", |fake| (fake.heartbeats() > 0).then_some(()))
        .await;
    bot.stop().await;
}

#[tokio::test]
async fn slash_commands_answer_ephemerally_and_autocomplete_offers_open_mentions() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    fake.wait_identified().await;
    bot.relay(mention("1", "Acme lids leak")).await;
    bot.relay(mention("2", "Love the new Acme roast")).await;
    bot.relay(mention("3", "Acme closed early today")).await;
    let jane = jane();
    bot.desk
        .execute(
            &earshot::desk::Caller::new(
                earshot::domain::Member::new("discord:4001", "Jane"),
                "discord",
            ),
            earshot::domain::Command::Done(3, None),
            &|who| earshot::domain::Member::new(who.0.clone(), who.0.clone()),
            Utc::now(),
        )
        .await;

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::slash("5101", &jane, "list", json!([])),
    );
    let listed = fake.callback("5101").await;
    let text = ephemeral_text(&listed);
    assert!(text.starts_with("2 mention(s), open:"), "{text}");
    assert!(text.contains("#1 · open") && text.contains("#2 · open") && !text.contains("#3"));

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::slash(
            "5102",
            &jane,
            "claim",
            json!([{ "name": "number", "type": 4, "value": 2 }]),
        ),
    );
    assert!(ephemeral_text(&fake.callback("5102").await).starts_with("#2 is yours."));

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::autocomplete("5103", &jane, "show", ""),
    );
    let choices = fake.callback("5103").await;
    assert_eq!(choices["type"], json!(8));
    assert_eq!(
        choices["data"]["choices"],
        json!([
            { "name": "#2 · Jane (@jane@example.social) · Love the new Acme roast", "value": 2 },
            { "name": "#1 · Jane (@jane@example.social) · Acme lids leak", "value": 1 }
        ])
    );
    fake.dispatch(
        "INTERACTION_CREATE",
        fake::autocomplete("5104", &jane, "show", "lid"),
    );
    let narrowed = fake.callback("5104").await;
    assert_eq!(narrowed["data"]["choices"][0]["value"], json!(1));
    assert_eq!(narrowed["data"]["choices"].as_array().unwrap().len(), 1);
    bot.stop().await;
}

#[tokio::test]
async fn the_answer_form_is_limited_to_answerers_and_its_submission_queues_the_reply() {
    let fake = FakeDiscord::start().await;
    let mut config = settings(&fake);
    config.answerers = vec![555];
    let bot = bot(config, fake.clone(), false).await;
    fake.wait_identified().await;
    let message = bot.relay(mention("1", "Acme lids leak")).await;

    let outsider = Person {
        id: "4002",
        name: "Bob",
        roles: vec![],
    };
    fake.dispatch(
        "INTERACTION_CREATE",
        fake::click("5201", &outsider, "earshot:answer:1", &message),
    );
    assert!(ephemeral_text(&fake.callback("5201").await)
        .starts_with("Only the team's answerers may post answers on the networks; ask one of them to answer #1 (the list is `answerers` under [chat.discord])."));

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::click("5202", &jane(), "earshot:answer:1", &message),
    );
    let form = fake.callback("5202").await;
    assert_eq!(form["type"], json!(9), "a modal: {form}");
    assert_eq!(form["data"]["custom_id"], json!("earshot:answer:1"));
    let input = &form["data"]["components"][0]["components"][0];
    assert_eq!(input["custom_id"], json!("text"));
    assert_eq!(
        input["value"],
        json!("@jane@example.social "),
        "Mastodon replies name the author"
    );
    assert_eq!(input["max_length"], json!(500), "Mastodon's limit");

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::submit(
            "5203",
            &jane(),
            "earshot:answer:1",
            "@jane@example.social Fixed, sorry!",
        ),
    );
    let queued = fake.callback("5203").await;
    assert!(ephemeral_text(&queued).starts_with("Your answer to #1 is queued for Mastodon"));

    bot.outbox.drain(Utc::now()).await.unwrap();
    bot.outbox.drain(Utc::now()).await.unwrap();
    assert_eq!(
        *bot.replies.sent.lock().unwrap(),
        vec!["@jane@example.social Fixed, sorry!".to_string()]
    );
    assert!(matches!(
        bot.store.mention(1).unwrap().state,
        State::Answered { by: Actor::Member(ref by), .. } if by.id == "discord:4001"
    ));
    let id = message["id"].as_str().unwrap();
    let last_edit = fake
        .requests_to("PATCH", &format!("/channels/{CHANNEL}/messages/{id}"))
        .pop()
        .unwrap();
    assert_eq!(
        last_edit.body["embeds"][0]["title"],
        json!("#1 · Mastodon · answered by @Jane: https://example.social/@brand/2")
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_rate_limited_post_is_retried_after_retry_after_and_auth_failures_are_not_retried() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    let post_path = format!("/channels/{CHANNEL}/messages");
    fake.fail_next(
        "POST",
        &post_path,
        429,
        json!({ "message": "You are being rate limited.", "retry_after": 7.5, "global": false }),
    );
    let start: DateTime<Utc> = Utc::now();
    bot.store
        .ingest(
            "masto",
            &[mention("1", "Acme lids leak")],
            &Cursor::default(),
            start,
        )
        .unwrap();
    let pass = bot.outbox.drain(start).await.unwrap();
    assert_eq!(pass.delivered, 0);
    let waiting = bot.store.outbox().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        waiting[0].1.not_before,
        start + Duration::milliseconds(7500)
    );

    // Not before Discord said so, then delivered.
    bot.outbox
        .drain(start + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(fake.requests_to("POST", &post_path).len(), 1);
    bot.outbox
        .drain(start + Duration::seconds(8))
        .await
        .unwrap();
    assert_eq!(fake.requests_to("POST", &post_path).len(), 2);
    assert!(bot.store.message_ref("discord", 1).unwrap().is_some());

    // A 401, 403 or 404 is kept, tried again only at a long interval (hammering would earn a
    // ban), and delivered once the cause is fixed.
    for status in [401, 403, 404] {
        fake.fail_next(
            "POST",
            &post_path,
            status,
            json!({ "code": 50001, "message": "Missing Access" }),
        );
        let before = fake.requests_to("POST", &post_path).len();
        let numbers = bot
            .store
            .ingest(
                "masto",
                &[mention(&format!("x{status}"), "Acme again")],
                &Cursor::default(),
                start,
            )
            .unwrap();
        bot.outbox
            .drain(start + Duration::seconds(10))
            .await
            .unwrap();
        bot.outbox
            .drain(start + Duration::minutes(20))
            .await
            .unwrap();
        assert_eq!(
            fake.requests_to("POST", &post_path).len(),
            before + 1,
            "{status}"
        );
        let kept = bot.store.outbox().unwrap();
        assert_eq!(kept.len(), 1, "{status}: kept, not dropped");
        assert!(
            kept[0].1.held.as_deref().unwrap_or_default().contains(" ("),
            "{status}: the reason names the fix: {:?}",
            kept[0].1.held
        );
        bot.outbox.drain(start + Duration::hours(1)).await.unwrap();
        assert_eq!(bot.store.outbox_len(), 0, "{status}");
        assert!(bot
            .store
            .message_ref("discord", numbers[0])
            .unwrap()
            .is_some());
    }
    bot.stop().await;
}

/// Every failure class Discord, or a proxy in front of it, answers with keeps the card and
/// retries it within the cap (an hour at most, whatever the server asks); none stops the bot,
/// none drops the card, and the card is posted once in the end.
#[tokio::test]
async fn every_failure_class_is_retried_within_the_cap_and_the_card_arrives_once() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    let post_path = format!("/channels/{CHANNEL}/messages");
    let limited = |wait: Value| json!({ "message": "You are being rate limited.", "retry_after": wait, "global": true });
    let hostile = [
        (
            500,
            json!({ "message": "500: Internal Server Error", "code": 0 }),
        ),
        (502, json!("<html><body>502 Bad Gateway</body></html>")),
        (503, json!({})),
        (504, Value::Null),
        (429, limited(json!(99_999_999_999_999.0_f64))),
        (429, limited(json!(1e300))),
        (429, limited(json!(-5))),
        (429, limited(json!("soon"))),
        (408, json!({ "message": "timeout" })),
    ];
    for (status, body) in &hostile {
        fake.fail_next("POST", &post_path, *status, body.clone());
    }
    let start: DateTime<Utc> = Utc::now();
    bot.store
        .ingest(
            "masto",
            &[mention("1", "Acme lids leak")],
            &Cursor::default(),
            start,
        )
        .unwrap();
    let mut at = start;
    for (status, _) in &hostile {
        let pass = bot.outbox.drain(at).await.unwrap();
        assert_eq!(pass.delivered, 0, "{status}");
        let waiting = bot.store.outbox().unwrap();
        assert_eq!(waiting.len(), 1, "{status}: kept, not dropped");
        let due = waiting[0].1.not_before;
        assert!(due >= at, "{status}: {due} before {at}");
        assert!(
            due <= at + Duration::hours(1),
            "{status}: retried within the cap, not at {due}"
        );
        at = due;
    }
    let pass = bot.outbox.drain(at).await.unwrap();
    assert_eq!(pass.delivered, 1);
    assert_eq!(
        fake.requests_to("POST", &post_path).len(),
        hostile.len() + 1,
        "one try per failure, then the card"
    );
    assert!(bot.store.message_ref("discord", 1).unwrap().is_some());
    assert_eq!(bot.store.outbox_len(), 0);
    bot.stop().await;
}

#[tokio::test]
async fn http_mode_answers_pings_and_signed_clicks_and_rejects_forged_or_stale_requests() {
    let fake = FakeDiscord::start().await;
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let mut config = settings(&fake);
    config.endpoint = Some(DiscordEndpoint {
        public_key: hex(key.verifying_key().as_bytes()),
        listen: "127.0.0.1:0".parse().unwrap(),
    });
    let bot = bot(config, fake.clone(), false).await;
    let mut bound = bot.discord.endpoint_address();
    let address = bound.wait_for(Option::is_some).await.unwrap().unwrap();
    let url = format!("http://{address}/discord/interactions");
    let client = reqwest::Client::new();
    let send = |body: Value, signer: &SigningKey, timestamp: i64| {
        let body = body.to_string();
        let timestamp = timestamp.to_string();
        let signature = signer.sign(format!("{timestamp}{body}").as_bytes());
        client
            .post(&url)
            .header("X-Signature-Ed25519", hex(&signature.to_bytes()))
            .header("X-Signature-Timestamp", timestamp)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let now = Utc::now().timestamp();

    let pong = send(fake::ping("6001"), &key, now).await.unwrap();
    assert_eq!(pong.status(), 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&pong.bytes().await.unwrap()).unwrap()["type"],
        json!(1)
    );

    let message = bot.relay(mention("1", "Acme lids leak")).await;
    let claim = fake::click("6002", &jane(), "earshot:claim:1", &message);
    let forger = SigningKey::from_bytes(&[8u8; 32]);
    let forged = send(claim.clone(), &forger, now).await.unwrap();
    assert_eq!(forged.status(), 401);
    let stale = send(claim.clone(), &key, now - 3600).await.unwrap();
    assert_eq!(stale.status(), 401);
    let unsigned = client
        .post(&url)
        .body(claim.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(
        bot.store.mention(1).unwrap().state,
        State::Open,
        "nothing changed"
    );

    let signed = send(claim, &key, now).await.unwrap();
    assert_eq!(signed.status(), 200);
    let answer: Value = serde_json::from_slice(&signed.bytes().await.unwrap()).unwrap();
    assert!(ephemeral_text(&answer).starts_with("#1 is yours."));
    assert!(matches!(
        bot.store.mention(1).unwrap().state,
        State::Claimed { .. }
    ));
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.path.starts_with("/interactions/")),
        "in HTTP mode the answer is the response body"
    );
    bot.stop().await;
}

#[tokio::test]
async fn with_discord_and_the_terminal_a_claim_in_discord_updates_both() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), true).await;
    fake.wait_identified().await;
    let message = bot.relay(mention("1", "Acme lids leak")).await;
    assert!(bot
        .screen
        .text()
        .contains("┌─ #1 · Mastodon · masto · open"));

    fake.dispatch(
        "INTERACTION_CREATE",
        fake::click("7001", &jane(), "earshot:claim:1", &message),
    );
    fake.callback("7001").await;
    bot.outbox.drain(Utc::now()).await.unwrap();
    assert!(
        bot.screen.text().contains("── #1 claimed by @Jane"),
        "{}",
        bot.screen.text()
    );
    let id = message["id"].as_str().unwrap();
    assert_eq!(
        fake.requests_to("PATCH", &format!("/channels/{CHANNEL}/messages/{id}"))
            .len(),
        1
    );
    bot.stop().await;
}

#[tokio::test]
async fn the_config_section_alone_relays_to_discord() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("EARSHOT_TEST_DISCORD_TOKEN", TOKEN);
    let text = format!(
        "[store]\npath = \"data\"\n\n[chat.discord]\nchannel_id = \"{CHANNEL}\"\ntoken = \"${{EARSHOT_TEST_DISCORD_TOKEN}}\"\napi_url = \"{}\"\n\n[rules]\nkeywords = [\"acme\"]\n",
        fake.url
    );
    let config = Config::parse(&dir.path().join("earshot.toml"), &text).unwrap();
    assert_eq!(config.chat_names(), vec!["discord"]);
    let app = App::build(&config, &RunOptions::default()).unwrap();
    app.store
        .ingest(
            "masto",
            &[mention("1", "Acme lids leak")],
            &Cursor::default(),
            Utc::now(),
        )
        .unwrap();
    app.drain().await.unwrap();
    let posts = fake.requests_to("POST", &format!("/channels/{CHANNEL}/messages"));
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].authorization.as_deref(), Some("Bot test-token"));
    assert!(app.store.message_ref("discord", 1).unwrap().is_some());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_digest_notice_posts_once_to_the_channel_and_pings_nobody() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    let digest = Effect::Digest {
        chat: "discord".into(),
        text: "Owed: 1\n#1 · @everyone <@4001> **bold**".into(),
        channel: None,
    };
    let (date, now) = (Utc::now().date_naive(), Utc::now());
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

    let posted = fake.requests_to("POST", &format!("/channels/{CHANNEL}/messages"));
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert_eq!(
        posted[0].body["content"],
        json!("Owed\\: 1\n\\#1 · \\@everyone \\<\\@4001\\> \\*\\*bold\\*\\*")
    );
    assert_eq!(posted[0].body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(posted[0].body["allowed_mentions"]["users"], json!([]));
    assert_eq!(posted[0].body["allowed_mentions"]["roles"], json!([]));
    bot.stop().await;
}

#[tokio::test]
async fn a_nudge_escalates_in_the_thread_and_a_hostile_post_still_cannot_ping() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    let message = bot
        .relay(mention("1", "@everyone <@4002> <@&556> refund now"))
        .await;
    let id = message["id"].as_str().unwrap().to_string();
    let tracked = bot.store.mention(1).unwrap();
    let ping = ["@here".to_string(), "<@&555>".into(), "4001".into()];
    let text = format!("#1 is still unclaimed: {}", tracked.mention.text);
    bot.discord
        .nudge(Some(&id), &tracked, &text, &ping, Utc::now())
        .await
        .unwrap();

    // The thread is started on the message, then the nudge goes in.
    let sent = fake.requests_to("POST", &format!("/channels/{id}/messages"));
    let nudge = &sent.last().unwrap().body;
    assert_eq!(
        nudge["content"],
        json!(
            r"@here <@&555> <@4001> \#1 is still unclaimed\: \@everyone \<\@4002\> \<\@&556\> refund now"
        )
    );
    assert_eq!(nudge["allowed_mentions"]["parse"], json!(["everyone"]));
    assert_eq!(nudge["allowed_mentions"]["roles"], json!(["555"]));
    assert_eq!(nudge["allowed_mentions"]["users"], json!(["4001"]));
    assert_eq!(nudge["enforce_nonce"], json!(true));

    // The first round alerts nobody.
    bot.discord
        .nudge(Some(&id), &tracked, "#1 first reminder", &[], Utc::now())
        .await
        .unwrap();
    let sent = fake.requests_to("POST", &format!("/channels/{id}/messages"));
    let quiet = &sent.last().unwrap().body;
    assert_eq!(quiet["content"], json!(r"\#1 first reminder"));
    assert_eq!(quiet["allowed_mentions"]["parse"], json!([]));
    assert_eq!(quiet["allowed_mentions"]["users"], json!([]));
    assert_eq!(quiet["allowed_mentions"]["roles"], json!([]));
    bot.stop().await;
}

#[tokio::test]
async fn a_reminder_to_a_member_is_a_direct_message_or_else_a_thread_note() {
    let fake = FakeDiscord::start().await;
    let bot = bot(settings(&fake), fake.clone(), false).await;
    let message = bot.relay(mention("1", "where is my order")).await;
    let id = message["id"].as_str().unwrap().to_string();
    let tracked = bot.store.mention(1).unwrap();
    let jane = Member::new("discord:4001", "Jane");
    bot.discord
        .notify_member(
            &jane,
            Some(&id),
            &tracked,
            "you claimed #1 @here",
            Utc::now(),
        )
        .await
        .unwrap();

    let opened = fake.requests_to("POST", "/users/@me/channels");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].body, json!({ "recipient_id": "4001" }));
    let dm = fake.dm("4001").expect("a DM channel was opened");
    let sent = fake.requests_to("POST", &format!("/channels/{dm}/messages"));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["content"], json!(r"you claimed \#1 \@here"));
    assert_eq!(sent[0].body["allowed_mentions"]["parse"], json!([]));
    assert!(fake
        .requests_to("POST", &format!("/channels/{id}/messages"))
        .is_empty());

    // Jane accepts no DMs from the server: the reminder goes to the thread, naming her.
    fake.fail_next(
        "POST",
        &format!("/channels/{dm}/messages"),
        403,
        json!({ "code": 50007, "message": "Cannot send messages to this user" }),
    );
    bot.discord
        .notify_member(&jane, Some(&id), &tracked, "you claimed #1", Utc::now())
        .await
        .unwrap();
    let notes = fake.requests_to("POST", &format!("/channels/{id}/messages"));
    assert_eq!(
        notes.last().unwrap().body["content"],
        json!(r"\@Jane\: you claimed \#1")
    );
    bot.stop().await;
}

#[tokio::test]
async fn the_report_chart_is_uploaded_as_an_attachment_with_its_bytes_intact() {
    let fake = FakeDiscord::start().await;
    let discord = Discord::new(settings(&fake), reqwest::Client::new());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png.extend((0..=255u8).cycle().take(4096));
    // A boundary-like line inside the file must not cut it.
    png.extend(b"\r\n--not-the-boundary\r\n");
    discord
        .upload(
            "earshot-report-2026-11-23.png",
            &png,
            "Last week: 12 mentions @everyone",
            Utc::now(),
        )
        .await
        .unwrap();

    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].channel, CHANNEL);
    assert_eq!(uploads[0].file_name, "earshot-report-2026-11-23.png");
    assert_eq!(uploads[0].content_type, "image/png");
    assert_eq!(uploads[0].bytes, png);
    let sent = fake.requests_to("POST", &format!("/channels/{CHANNEL}/messages"));
    assert_eq!(
        sent[0].body["content"],
        json!(r"Last week\: 12 mentions \@everyone")
    );
    assert_eq!(sent[0].body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(
        sent[0].body["attachments"],
        json!([{ "id": 0, "filename": "earshot-report-2026-11-23.png" }])
    );

    // Rate limited: retried later, after what Discord asked.
    fake.fail_next(
        "POST",
        &format!("/channels/{CHANNEL}/messages"),
        429,
        json!({ "message": "You are being rate limited.", "retry_after": 2.5, "global": false }),
    );
    let failed = discord
        .upload("r.png", &png, "report", Utc::now())
        .await
        .expect_err("rate limited");
    assert_eq!(
        failed,
        earshot::chat::ChatError::Retry {
            reason: "Discord answered 429 Too Many Requests: You are being rate limited.".into(),
            after: Some(std::time::Duration::from_millis(2500)),
        }
    );
}

#[tokio::test]
async fn with_slack_and_discord_every_mention_shows_in_both_and_a_claim_in_one_edits_the_other() {
    let discord_fake = FakeDiscord::start().await;
    let slack_fake = slack_fake::FakeSlack::start().await;
    let slack = Arc::new(
        SlackChat::new(SlackConfig {
            channel: "C0123456789".into(),
            bot_token: "xoxb-test".into(),
            listen: Listen::Socket {
                app_token: "xapp-test".into(),
            },
            api_url: slack_fake.api_url.clone(),
            answerers: vec![],
            post_every: std::time::Duration::from_millis(1),
        })
        .unwrap(),
    );
    let discord = Arc::new(Discord::new(
        settings(&discord_fake),
        reqwest::Client::new(),
    ));
    let store = Store::temporary(vec!["slack".into(), "discord".into()]).unwrap();
    let wake = Arc::new(Notify::new());
    let chats: Vec<Arc<dyn Chat>> = vec![slack.clone(), discord.clone()];
    let outbox = Outbox::new(store.clone(), chats, vec![], wake.clone());
    let desk = Desk::new(store.clone(), "/mentions".into(), wake);
    let (stop, stopped) = watch::channel(false);
    let slack_listening = tokio::spawn(slack.clone().listen(desk.clone(), stopped.clone()));
    let discord_listening = tokio::spawn(discord.clone().listen(desk.clone(), stopped));
    discord_fake.wait_identified().await;

    store
        .ingest(
            "masto",
            &[
                mention("1", "Acme lids leak"),
                mention("2", "Acme is great"),
            ],
            &Cursor::default(),
            Utc::now(),
        )
        .unwrap();
    outbox.drain(Utc::now()).await.unwrap();
    let cards = slack_fake.with(|s| {
        s.cards()
            .iter()
            .map(|c| (c.number(), c.ts.clone()))
            .collect::<Vec<_>>()
    });
    assert_eq!(
        cards.iter().map(|c| c.0).collect::<Vec<_>>(),
        [Some(1), Some(2)]
    );
    let on_discord = |number| {
        let id = store.message_ref("discord", number).unwrap().unwrap();
        discord_fake.message(&id).unwrap()
    };
    let (first, second) = (on_discord(1), on_discord(2));

    // Claimed in Discord: the Slack card is edited.
    discord_fake.dispatch(
        "INTERACTION_CREATE",
        fake::click("8001", &jane(), "earshot:claim:1", &first),
    );
    discord_fake.callback("8001").await;
    outbox.drain(Utc::now()).await.unwrap();
    let updates = slack_fake.with(|s| s.updates.clone());
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert_eq!(updates[0]["ts"], json!(cards[0].1));
    assert!(updates[0]["text"].as_str().unwrap().starts_with("#1 "));
    let mut texts = Vec::new();
    slack_strings(&updates[0]["blocks"], &mut texts);
    assert!(
        texts.iter().any(|t| t.contains("*Claimed* by @Jane")),
        "{texts:?}"
    );

    // Claimed in Slack: the Discord message is edited.
    let click = json!({
        "type": "block_actions",
        "team": { "id": "T1", "domain": "acme" },
        "user": { "id": "U1", "username": "jane", "name": "jane", "team_id": "T1" },
        "api_app_id": "A1",
        "container": { "type": "message", "message_ts": cards[1].1, "channel_id": "C0123456789", "is_ephemeral": false },
        "trigger_id": "111.222.trigger",
        "channel": { "id": "C0123456789", "name": "brand" },
        "response_url": "https://hooks.slack.com/actions/T1/1/x",
        "actions": [{
            "type": "button", "action_id": "claim", "block_id": "earshot-2",
            "text": { "type": "plain_text", "text": "Claim" }, "value": "2",
            "action_ts": "1700000100.000001",
        }],
    });
    let envelope = slack_fake.send("interactive", click);
    slack_fake.ack(&envelope).await;
    outbox.drain(Utc::now()).await.unwrap();
    let id = second["id"].as_str().unwrap();
    let edits = discord_fake.requests_to("PATCH", &format!("/channels/{CHANNEL}/messages/{id}"));
    assert_eq!(edits.len(), 1, "{edits:#?}");
    assert_eq!(
        edits[0].body["embeds"][0]["title"],
        json!("#2 · Mastodon · claimed by @Jane Doe")
    );

    stop.send(true).unwrap();
    for listening in [slack_listening, discord_listening] {
        tokio::time::timeout(std::time::Duration::from_secs(10), listening)
            .await
            .expect("the listener stops on shutdown")
            .unwrap()
            .unwrap();
    }
}

/// Every string in a JSON value.
fn slack_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| slack_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| slack_strings(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn a_storm_summary_is_one_message_edited_in_place_that_cannot_ping() {
    let fake = FakeDiscord::start().await;
    let discord = Discord::new(settings(&fake), reqwest::Client::new());
    // Longer than one message takes: still one message, cut to Discord's limit.
    let long = format!("Storm: 3 mentions @everyone\n{}", "x".repeat(2500));
    let id = discord.post_summary(&long, Utc::now()).await.unwrap();
    discord
        .update_summary(
            &id,
            "Storm: 9 mentions @everyone @here <@4001> <@&5001> **bold**",
            Utc::now(),
        )
        .await
        .unwrap();

    let posted = fake.requests_to("POST", &format!("/channels/{CHANNEL}/messages"));
    assert_eq!(posted.len(), 1, "one message: {posted:#?}");
    let first = posted[0].body["content"].as_str().unwrap();
    assert!(first.chars().count() <= 2000, "{}", first.chars().count());
    assert!(
        first.starts_with("Storm\\: 3 mentions \\@everyone"),
        "{first}"
    );
    let edits = fake.requests_to("PATCH", &format!("/channels/{CHANNEL}/messages/{id}"));
    assert_eq!(edits.len(), 1, "edited in place: {edits:#?}");
    assert_eq!(
        edits[0].body["content"],
        json!(
            "Storm\\: 9 mentions \\@everyone \\@here \\<\\@4001\\> \\<\\@&5001\\> \\*\\*bold\\*\\*"
        )
    );
    for body in [&posted[0].body, &edits[0].body] {
        assert_eq!(body["allowed_mentions"]["parse"], json!([]), "{body}");
        assert_eq!(body["allowed_mentions"]["users"], json!([]), "{body}");
        assert_eq!(body["allowed_mentions"]["roles"], json!([]), "{body}");
    }
    let shown = fake.message(&id).expect("the summary is there");
    assert_eq!(shown["content"], edits[0].body["content"]);
}
