//! Facebook Pages (and, below, Instagram) against a local Graph API look-alike speaking the
//! documented shapes: posts with their comments (field expansion and `paging`), visitor posts,
//! tagged posts, Graph errors and usage headers; answers and answered-detection through the
//! outbox and the answer watch.

use crate::fake_net;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use earshot::answered::AnswerWatch;
use earshot::app::poll;
use earshot::domain::{Action, ListFilter, Member, State, Status};
use earshot::net::Secret;
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::facebook::{Facebook, Settings, Watch};
use earshot::sources::{Source, SourceError};
use earshot::store::Store;
use fake_net::{Fake, Reply};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};

const PAGE: &str = "1000";
const TOKEN: &str = "EAAPage";
const APP_SECRET: &str = "app-secret";

/// A Graph time `minutes` ago, as Facebook writes it.
fn ago(minutes: i64) -> String {
    (Utc::now() - chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%S+0000")
        .to_string()
}

fn hmac_hex(key: &str, data: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rules() -> Rules {
    Rules::new(&["acme".to_string()], &["vacature".to_string()], &[])
}

fn ids(store: &Store) -> Vec<String> {
    let all = store.list(ListFilter::All, Member::new("x", "x")).unwrap();
    let mut ids: Vec<String> = all.into_iter().map(|t| t.mention.key.id).collect();
    ids.sort();
    ids
}

fn comment(id: &str, from: Option<(&str, &str)>, message: &str, minutes_ago: i64) -> Value {
    let mut comment = json!({
        "id": id,
        "message": message,
        "created_time": ago(minutes_ago),
        "permalink_url": format!("https://www.facebook.com/{id}"),
    });
    if let Some((from_id, name)) = from {
        comment["from"] = json!({"id": from_id, "name": name});
    }
    comment
}

fn page_of(data: Vec<Value>, after: Option<&str>) -> String {
    let mut page = json!({"data": data});
    if let Some(after) = after {
        page["paging"] = json!({
            "cursors": {"before": "B", "after": after},
            "next": "https://graph.facebook.com/v23.0/next-page",
        });
    } else {
        page["paging"] = json!({"cursors": {"before": "B", "after": "END"}});
    }
    page.to_string()
}

mod facebook {
    use super::*;

    fn facebook(fake: &Fake, http: reqwest::Client) -> Facebook {
        Facebook::new(
            "facebook".into(),
            Settings {
                page_id: PAGE.into(),
                token: Secret::new(TOKEN),
                app_secret: Some(Secret::new(APP_SECRET)),
                watch: Watch::ALL.to_vec(),
                graph_url: fake.url.clone(),
            },
            Duration::from_secs(120),
            http,
        )
    }

    /// Posts with their newest comments: a customer's, the Page's own, a reply, and one page
    /// of comments more (paging), then visitor posts and tagged posts.
    fn first_poll(fake: &Fake) {
        let post = json!({
            "id": "1000_1",
            "comments": serde_json::from_str::<Value>(&page_of(
                vec![
                    {
                        let mut reply = comment("1000_1_c3", Some(("u2", "Bob")), "same here, no lid fits", 3);
                        reply["parent"] = json!({"id": "1000_1_c1"});
                        reply
                    },
                    comment("1000_1_c2", Some((PAGE, "Acme Coffee")), "Thanks for the feedback!", 4),
                    comment("1000_1_c1", Some(("u1", "Jane Doe")), "my lid leaks", 5),
                ],
                Some("AFTER1"),
            )).unwrap(),
        });
        fake.on(
            "GET",
            "/1000/posts",
            Reply::json(page_of(vec![post, json!({"id": "1000_2"})], None)),
        )
        .on(
            "GET",
            "/1000_1/comments",
            Reply::json(page_of(
                vec![
                    comment(
                        "1000_1_c0",
                        Some(("u3", "Ann")),
                        "where do I send it back?",
                        6,
                    ),
                    comment(
                        "1000_1_old",
                        Some(("u4", "Old")),
                        "from last year",
                        60 * 24 * 400,
                    ),
                ],
                Some("AFTER2"),
            )),
        )
        .on(
            "GET",
            "/1000/visitor_posts",
            Reply::json(page_of(
                vec![
                    comment("1000_v1", Some(("u5", "Carl")), "Open on Sunday?", 7),
                    comment(
                        "1000_v2",
                        Some(("u6", "Spam")),
                        "vacature: barista gezocht",
                        8,
                    ),
                ],
                None,
            )),
        )
        .on(
            "GET",
            "/1000/tagged",
            // `from` is hidden on tagged user posts.
            Reply::json(page_of(
                vec![comment("77_t1", None, "Lovely morning at the cafe", 9)],
                None,
            )),
        );
    }

    #[tokio::test]
    async fn comments_visitor_posts_and_tags_are_relayed_once_across_restarts() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        first_poll(&fake);
        let source = facebook(&fake, reqwest::Client::new());
        assert_eq!(poll(&store, &source, &rules()).await, 5);
        assert_eq!(
            ids(&store),
            ["1000_1_c0", "1000_1_c1", "1000_1_c3", "1000_v1", "77_t1"],
            "no keyword needed; the Page's own comment, an excluded post and last year's comment are not relayed"
        );
        let tracked = store.list(ListFilter::All, Member::new("x", "x")).unwrap();
        let reply = tracked
            .iter()
            .find(|t| t.mention.key.id == "1000_1_c3")
            .unwrap();
        assert_eq!(reply.mention.in_reply_to.as_deref(), Some("1000_1_c1"));
        assert_eq!(reply.mention.author.display(), "Bob");
        assert_eq!(reply.mention.matched, ["@mention"]);
        let tag = tracked
            .iter()
            .find(|t| t.mention.key.id == "77_t1")
            .unwrap();
        assert_eq!(tag.mention.author.display(), "someone");

        let posts = &fake.requests_to("/1000/posts")[0];
        assert_eq!(posts.header("authorization"), Some("Bearer EAAPage"));
        assert_eq!(
            posts.param("appsecret_proof"),
            Some(hmac_hex(APP_SECRET, TOKEN.as_bytes()).as_str()),
            "appsecret_proof is the token's HMAC-SHA256 under the app secret"
        );
        assert!(posts
            .param("fields")
            .unwrap()
            .starts_with("id,comments.filter(stream).order(reverse_chronological)"));
        let more = &fake.requests_to("/1000_1/comments")[0];
        assert_eq!(
            more.param("after"),
            Some("AFTER1"),
            "Graph's cursor, within the poll"
        );
        assert_eq!(more.param("order"), Some("reverse_chronological"));
        assert!(fake.unused().is_empty(), "{:?}", fake.unused());

        let cursor = store.cursor("facebook").unwrap();
        let position: Value = serde_json::from_str(cursor.position.as_deref().unwrap()).unwrap();
        assert!(position["comments"]["since"].as_i64().unwrap() > 0);
        assert!(position["comments"]["seen"]["1000_1_c3"].is_i64());
        assert!(
            !cursor.position.unwrap().contains("AFTER"),
            "Graph cursors are never kept"
        );

        // A restart: a new source on the same store. The same items come again, with one new.
        let source = facebook(&fake, reqwest::Client::new());
        first_poll(&fake);
        fake.on(
            "GET",
            "/1000/tagged",
            Reply::json(page_of(
                vec![comment("77_t2", None, "Tagged again", 1)],
                None,
            )),
        );
        // The first tagged reply queued above is for this poll; drop the new one to the next.
        assert_eq!(poll(&store, &source, &rules()).await, 0, "nothing twice");
        assert_eq!(poll_tagged_only(&fake, &store, &source).await, 1);
        assert_eq!(ids(&store).len(), 6);
        let visitor = fake.requests_to("/1000/visitor_posts");
        let since: i64 = visitor[1].param("since").unwrap().parse().unwrap();
        let newest = (Utc::now() - chrono::Duration::minutes(7)).timestamp();
        assert!(
            (newest - 10 * 60 - since).abs() < 5,
            "read again from ten minutes before the newest item seen"
        );
    }

    /// A poll where only the tagged listing has something new.
    async fn poll_tagged_only(fake: &Fake, store: &Store, source: &Facebook) -> usize {
        fake.on("GET", "/1000/posts", Reply::json(page_of(vec![], None)))
            .on(
                "GET",
                "/1000/visitor_posts",
                Reply::json(page_of(vec![], None)),
            );
        poll(store, source, &rules()).await
    }

    /// #1 is Jane's comment 1000_1_c1, claimed and answered by jane.
    async fn answered(fake: &Fake, http: reqwest::Client) -> (Store, Outbox, Arc<Facebook>) {
        let store = Store::temporary(vec![]).unwrap();
        let source = Arc::new(facebook(fake, http));
        fake.on("GET", "/1000/posts", Reply::json(page_of(vec![json!({"id": "1000_1", "comments": {"data": [comment("1000_1_c1", Some(("u1", "Jane Doe")), "my lid leaks", 5)]}})], None)))
            .on("GET", "/1000/visitor_posts", Reply::json(page_of(vec![], None)))
            .on("GET", "/1000/tagged", Reply::json(page_of(vec![], None)));
        assert_eq!(poll(&store, source.as_ref(), &rules()).await, 1);
        let jane = Member::new("jane", "jane");
        store
            .apply(1, &jane, &Action::Claim, Utc::now())
            .await
            .unwrap();
        let answer = Action::Answer {
            text: "So sorry! A new lid is on its way.".into(),
        };
        store.apply(1, &jane, &answer, Utc::now()).await.unwrap();
        let outbox = Outbox::new(
            store.clone(),
            vec![],
            vec![source.clone()],
            Arc::new(tokio::sync::Notify::new()),
        );
        (store, outbox, source)
    }

    const THREAD: &str = "/1000_1_c1/comments";

    #[tokio::test]
    async fn an_answer_whose_response_was_lost_is_found_and_never_posted_twice() {
        let fake = Fake::start().await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(400))
            .build()
            .unwrap();
        let (store, outbox, source) = answered(&fake, http).await;
        // The first try goes through, but its response never arrives.
        fake.on("GET", THREAD, Reply::json(page_of(vec![], None)))
            .on(
                "POST",
                THREAD,
                Reply::json(r#"{"id":"1000_1_r9"}"#).after(Duration::from_secs(2)),
            );
        let now = Utc::now();
        assert_eq!(outbox.drain(now).await.unwrap().delivered, 0);
        assert_eq!(fake.requests_to(THREAD).len(), 2);
        let post = fake.requests_to(THREAD).pop().unwrap();
        assert_eq!(post.method, "POST");
        assert_eq!(post.form()["message"], "So sorry! A new lid is on its way.");

        // The retry reads the comments back first, and finds the Page's answer there.
        fake.on(
            "GET",
            THREAD,
            Reply::json(page_of(
                vec![comment(
                    "1000_1_r9",
                    Some((PAGE, "Acme Coffee")),
                    "So sorry! A new lid is on its way.",
                    0,
                )],
                None,
            )),
        );
        assert_eq!(
            outbox
                .drain(now + chrono::Duration::minutes(30))
                .await
                .unwrap()
                .delivered,
            1
        );
        let posts = fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .count();
        assert_eq!(posts, 1, "posted once");
        assert!(matches!(
            store.mention(1).unwrap().state,
            State::Answered { link: Some(link), .. } if link == "https://www.facebook.com/1000_1_r9"
        ));
        assert_eq!(
            store.answered_with("facebook", "1000_1_r9").unwrap(),
            Some(1),
            "the reply id is recorded"
        );

        // The Page's answer shows up in the next poll without `from`: still never relayed.
        fake.on("GET", "/1000/posts", Reply::json(page_of(vec![json!({"id": "1000_1", "comments": {"data": [comment("1000_1_r9", None, "So sorry! A new lid is on its way.", 0)]}})], None)))
            .on("GET", "/1000/visitor_posts", Reply::json(page_of(vec![], None)))
            .on("GET", "/1000/tagged", Reply::json(page_of(vec![], None)));
        assert_eq!(poll(&store, source.as_ref(), &rules()).await, 0);
        let restarted = facebook(&fake, reqwest::Client::new());
        store.save_cursor("facebook", &Default::default()).unwrap();
        fake.on("GET", "/1000/posts", Reply::json(page_of(vec![json!({"id": "1000_1", "comments": {"data": [comment("1000_1_r9", None, "So sorry! A new lid is on its way.", 0)]}})], None)))
            .on("GET", "/1000/visitor_posts", Reply::json(page_of(vec![], None)))
            .on("GET", "/1000/tagged", Reply::json(page_of(vec![], None)));
        assert_eq!(
            poll(&store, &restarted, &rules()).await,
            0,
            "after a restart the store knows the answer's id"
        );
        assert_eq!(ids(&store), ["1000_1_c1"]);
    }

    #[tokio::test]
    async fn a_deleted_comment_returns_the_answer_and_a_dead_token_says_what_to_renew() {
        let fake = Fake::start().await;
        let (store, outbox, _) = answered(&fake, reqwest::Client::new()).await;
        fake.on("GET", THREAD, Reply::status(400, r#"{"error":{"message":"Unsupported get request. Object with ID '1000_1_c1' does not exist","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"AbC"}}"#));
        outbox.drain(Utc::now()).await.unwrap();
        assert!(
            matches!(
                store.mention(1).unwrap().state,
                State::Claimed {
                    answering: false,
                    ..
                }
            ),
            "back to the person"
        );
        let last = store.history(1).unwrap().pop().unwrap().summary();
        assert!(last.contains("is gone"), "{last}");
        assert!(store.outbox().unwrap().is_empty());

        let source = facebook(&fake, reqwest::Client::new());
        fake.on("GET", "/1000/posts", Reply::status(400, r#"{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"Xy"}}"#))
            .on("GET", "/1000/visitor_posts", Reply::status(400, r#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"fbtrace_id":"Xy"}}"#))
            .on("GET", "/1000/tagged", Reply::status(400, r#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"fbtrace_id":"Xy"}}"#));
        let error = source.fetch(&Default::default()).await.unwrap_err();
        assert!(
            matches!(&error, SourceError::Permanent(text) if text.contains("the `token` of source `facebook`") && text.contains("code 190, subcode 460")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn usage_near_the_limit_and_throttling_codes_hold_polls_back() {
        let fake = Fake::start().await;
        let source = facebook(&fake, reqwest::Client::new());
        let busy = r#"{"104857600000000":[{"type":"pages","call_count":95,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":7}]}"#;
        fake.on(
            "GET",
            "/1000/posts",
            Reply::json(page_of(vec![], None)).header("x-business-use-case-usage", busy),
        );
        // The first watch read at 95%: the others wait, and so does the next poll.
        let fetched = source.fetch(&Default::default()).await.unwrap();
        assert_eq!(fetched.problems.len(), 2, "{:?}", fetched.problems);
        let error = source.fetch(&Default::default()).await.unwrap_err();
        assert!(
            matches!(&error, SourceError::Retry { after: Some(after), .. } if after.as_secs() > 6 * 60 && after.as_secs() <= 7 * 60),
            "{error:?}"
        );
        assert_eq!(
            fake.requests().len(),
            1,
            "no request while the budget is spent"
        );

        let fake = Fake::start().await;
        let source = facebook(&fake, reqwest::Client::new());
        fake.on(
            "GET",
            "/1000/posts",
            Reply::status(403, r#"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"fbtrace_id":"A"}}"#),
        );
        let error = source.fetch(&Default::default()).await.unwrap_err();
        assert!(
            matches!(&error, SourceError::Retry { after: Some(after), .. } if after.as_secs() == 15 * 60),
            "{error:?}"
        );
        assert_eq!(
            fake.requests().len(),
            1,
            "a throttling code stops the other watches too"
        );
    }

    #[tokio::test]
    async fn a_comment_by_the_page_below_a_mention_closes_it() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let source = Arc::new(facebook(&fake, reqwest::Client::new()));
        first_poll(&fake);
        assert_eq!(poll(&store, source.as_ref(), &rules()).await, 5);
        let watch = AnswerWatch::new(store.clone(), vec![source.clone()]);
        let numbers: Vec<(u64, String)> = store
            .list(ListFilter::All, Member::new("x", "x"))
            .unwrap()
            .into_iter()
            .map(|t| (t.number, t.mention.key.id))
            .collect();
        for (_, id) in &numbers {
            let replies = match id.as_str() {
                "1000_1_c1" => page_of(
                    vec![
                        comment("1000_1_c5", Some(("u9", "Someone")), "+1", 1),
                        comment("1000_1_c6", Some((PAGE, "Acme Coffee")), "We are on it", 1),
                    ],
                    None,
                ),
                "77_t1" => r#"{"error":{"message":"gone","type":"GraphMethodException","code":100,"error_subcode":33}}"#.to_string(),
                _ => page_of(vec![comment("x", Some(("u9", "Someone")), "me too", 1)], None),
            };
            let reply = if id == "77_t1" {
                Reply::status(400, replies)
            } else {
                Reply::json(replies)
            };
            fake.on("GET", &format!("/{id}/comments"), reply);
        }
        assert_eq!(watch.tick(Utc::now()).await.unwrap(), 1);
        for (number, id) in numbers {
            let status = store.mention(number).unwrap().state.status();
            if id == "1000_1_c1" {
                assert_eq!(status, Status::Answered);
                assert!(store
                    .history(number)
                    .unwrap()
                    .pop()
                    .unwrap()
                    .summary()
                    .ends_with(
                        "reply by the Page on Facebook: https://www.facebook.com/1000_1_c6"
                    ));
            } else {
                assert_eq!(
                    status,
                    Status::Open,
                    "{id}: a deleted post is left as it is"
                );
            }
        }
    }
}

mod instagram {
    use super::*;
    use earshot::sources::instagram::{Instagram, Settings, Watch};

    const USER: &str = "1784";

    fn instagram(fake: &Fake) -> Instagram {
        Instagram::new(
            "instagram".into(),
            Settings {
                user_id: USER.into(),
                token: Secret::new("IGQ"),
                app_secret: None,
                watch: Watch::ALL.to_vec(),
                graph_url: fake.url.clone(),
            },
            Duration::from_secs(120),
            reqwest::Client::new(),
        )
    }

    fn ig_comment(id: &str, user: (&str, &str), text: &str, minutes_ago: i64) -> Value {
        json!({
            "id": id,
            "text": text,
            "timestamp": ago(minutes_ago),
            "username": user.1,
            "from": {"id": user.0, "username": user.1},
        })
    }

    fn media_script(fake: &Fake) {
        let mut top = ig_comment("501", ("u1", "jane"), "does it come in green?", 5);
        top["replies"] = json!({"data": [
            ig_comment("502", ("u2", "bob"), "I want to know too", 3),
            ig_comment("503", (USER, "acmecoffee"), "Soon!", 2),
        ]});
        let media = json!({"data": [{
            "id": "900",
            "permalink": "https://www.instagram.com/p/ABC/",
            "comments": {"data": [top]},
        }]});
        fake.on("GET", "/1784/media", Reply::json(media.to_string())).on(
            "GET",
            "/1784/tags",
            Reply::json(
                json!({"data": [{"id": "950", "caption": "Morning with @acmecoffee", "timestamp": ago(9), "username": "carl", "permalink": "https://www.instagram.com/p/TAG/"}]})
                    .to_string(),
            ),
        );
    }

    #[tokio::test]
    async fn comments_replies_and_tags_once_and_an_answer_to_a_reply_lands_under_the_top_level() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let source = Arc::new(instagram(&fake));
        media_script(&fake);
        assert_eq!(poll(&store, source.as_ref(), &rules()).await, 3);
        assert_eq!(
            ids(&store),
            ["501", "502", "950"],
            "the account's own reply is not relayed"
        );
        media_script(&fake);
        assert_eq!(
            poll(&store, source.as_ref(), &rules()).await,
            0,
            "nothing twice"
        );

        // #2 is bob's reply 502: the answer goes under 501 and names him.
        let number = store
            .list(ListFilter::All, Member::new("x", "x"))
            .unwrap()
            .into_iter()
            .find(|t| t.mention.key.id == "502")
            .unwrap()
            .number;
        let jane = Member::new("jane", "jane");
        store
            .apply(number, &jane, &Action::Claim, Utc::now())
            .await
            .unwrap();
        let many: Vec<String> = (0..21).map(|i| format!("@friend{i}")).collect();
        for text in [many.join(" "), "x".repeat(2_201)] {
            let refused = store
                .apply(number, &jane, &Action::Answer { text }, Utc::now())
                .await;
            assert!(
                refused.is_err(),
                "over Instagram's limits: refused before queueing"
            );
        }
        assert!(store.outbox().unwrap().is_empty());
        let answer = Action::Answer {
            text: "Green lids arrive in May.".into(),
        };
        store
            .apply(number, &jane, &answer, Utc::now())
            .await
            .unwrap();
        let outbox = Outbox::new(
            store.clone(),
            vec![],
            vec![source.clone()],
            Arc::new(tokio::sync::Notify::new()),
        );
        fake.on(
            "GET",
            "/502",
            Reply::json(r#"{"id":"502","parent_id":"501","username":"bob"}"#),
        )
        .on("GET", "/501/replies", Reply::json(r#"{"data":[]}"#))
        .on("POST", "/501/replies", Reply::json(r#"{"id":"504"}"#));
        assert_eq!(outbox.drain(Utc::now()).await.unwrap().delivered, 1);
        let posted = fake.requests_to("/501/replies").pop().unwrap();
        assert_eq!(posted.method, "POST");
        assert_eq!(posted.form()["message"], "@bob Green lids arrive in May.");
        assert!(fake.requests_to("/502/replies").is_empty());
        assert_eq!(
            store.answered_with("instagram", "504").unwrap(),
            Some(number)
        );
        assert_eq!(
            store.mention(number).unwrap().state.status(),
            Status::Answered
        );
    }

    #[test]
    fn answers_over_instagrams_limits_are_refused_before_queueing() {
        assert_eq!(
            earshot::sources::instagram::TRAITS.network().reply_path(),
            earshot::domain::ReplyPath::Direct { max_chars: 2_200 }
        );
        assert_eq!(
            earshot::sources::instagram::TRAITS.network().max_mentions(),
            Some(20)
        );
        assert_eq!(
            earshot::sources::facebook::TRAITS.network().max_mentions(),
            None
        );
    }
}
