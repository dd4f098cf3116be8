//! YouTube (and LinkedIn) against local look-alikes of their APIs on 127.0.0.1: the shapes and
//! error bodies are those the official references document.

mod youtube {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use earshot::app::poll;
    use earshot::domain::{Author, ListFilter, Member, Mention, MentionKey};
    use earshot::net::{Clock, Secret};
    use earshot::rules::Rules;
    use earshot::sources::youtube::{OAuth, Settings, Watch, YouTube};
    use earshot::sources::{Source, SourceError};
    use earshot::store::Store;
    use serde_json::{json, Value};

    use crate::fake_net::{Fake, Reply};

    const CHANNEL: &str = "UCbrandbrandbrandbrand00";
    const THREADS: &str = "/commentThreads";
    const COMMENTS: &str = "/comments";
    const SEARCH: &str = "/search";
    const TOKEN: &str = "/token";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn clock(start: &str) -> (Clock, Arc<Mutex<DateTime<Utc>>>) {
        let now = Arc::new(Mutex::new(at(start)));
        let reading = now.clone();
        (Arc::new(move || *reading.lock().unwrap()), now)
    }

    fn settings(fake: &Fake, watch: Vec<Watch>) -> Settings {
        Settings {
            channel_id: CHANNEL.into(),
            api_key: Secret::new("api-key"),
            oauth: Some(OAuth {
                client_id: "cid".into(),
                client_secret: Secret::new("csecret"),
                refresh_token: Secret::new("refresh"),
                token_url: format!("{}{TOKEN}", fake.url),
            }),
            watch,
            api_url: fake.url.clone(),
            daily_units: 10_000,
            daily_searches: 100,
        }
    }

    fn youtube(fake: &Fake, clock: &Clock) -> YouTube {
        youtube_with(fake, clock, vec![Watch::Comments], reqwest::Client::new())
    }

    fn youtube_with(
        fake: &Fake,
        clock: &Clock,
        watch: Vec<Watch>,
        http: reqwest::Client,
    ) -> YouTube {
        YouTube::new(
            "youtube".into(),
            settings(fake, watch),
            Duration::from_secs(300),
            http,
        )
        .with_clock(clock.clone())
    }

    fn rules() -> Rules {
        Rules::new(&["acme".to_string()], &[], &[])
    }

    fn ids(store: &Store) -> Vec<String> {
        let all = store.list(ListFilter::All, Member::new("x", "x")).unwrap();
        let mut ids: Vec<String> = all.into_iter().map(|t| t.mention.key.id).collect();
        ids.sort();
        ids
    }

    fn comment(id: &str, author: &str, text: &str, published: &str) -> Value {
        json!({
            "kind": "youtube#comment",
            "id": id,
            "snippet": {
                "channelId": CHANNEL,
                "videoId": "vid1",
                "textDisplay": text,
                "textOriginal": text,
                "authorDisplayName": format!("@{author}"),
                "authorChannelUrl": format!("http://www.youtube.com/@{author}"),
                "authorChannelId": {"value": if author == "brand" { CHANNEL.to_string() } else { format!("UC{author}") }},
                "canRate": true,
                "likeCount": 0,
                "publishedAt": published,
                "updatedAt": published,
            }
        })
    }

    fn thread(top: Value, total: u32, replies: Vec<Value>) -> Value {
        let id = top["id"].clone();
        let mut thread = json!({
            "kind": "youtube#commentThread",
            "id": id,
            "snippet": {
                "channelId": CHANNEL,
                "videoId": "vid1",
                "topLevelComment": top,
                "canReply": true,
                "totalReplyCount": total,
                "isPublic": true,
            }
        });
        if !replies.is_empty() {
            thread["replies"] = json!({ "comments": replies });
        }
        thread
    }

    fn page(items: Vec<Value>, next: Option<&str>) -> Reply {
        let mut body = json!({
            "kind": "youtube#commentThreadListResponse",
            "pageInfo": {"totalResults": items.len(), "resultsPerPage": 100},
            "items": items,
        });
        if let Some(next) = next {
            body["nextPageToken"] = json!(next);
        }
        Reply::json(body.to_string())
    }

    fn youtube_error(code: u16, reason: &str, message: &str) -> Reply {
        Reply::status(
            code,
            json!({"error": {"code": code, "message": message,
                "errors": [{"message": message, "domain": "youtube.quota", "reason": reason}]}})
            .to_string(),
        )
        .header("content-type", "application/json")
    }

    fn token() -> Reply {
        Reply::json(
            json!({"access_token": "ya29.token", "expires_in": 3599, "scope": "https://www.googleapis.com/auth/youtube.force-ssl", "token_type": "Bearer"})
                .to_string(),
        )
    }

    /// Thread t1 by a viewer with one reply each from a viewer and the channel; thread t2
    /// started by the channel itself, with a viewer's reply.
    fn first_page(t1_total: u32) -> Vec<Value> {
        vec![
            thread(
                comment("t1", "jane", "Do the lids leak?", "2026-12-02T09:00:00Z"),
                t1_total,
                vec![
                    comment("t1.r1", "bob", "Mine do", "2026-12-02T09:05:00Z"),
                    comment("t1.r2", "brand", "Sorry! DM us", "2026-12-02T09:10:00Z"),
                ],
            ),
            thread(
                comment("t2", "brand", "New video out", "2026-12-01T09:00:00Z"),
                1,
                vec![comment("t2.r1", "kim", "Love it", "2026-12-01T10:00:00Z")],
            ),
        ]
    }

    #[tokio::test]
    async fn comments_are_relayed_once_across_restarts_and_the_channels_own_never() {
        let fake = Fake::start().await;
        let (clock, now) = clock("2026-12-02T12:00:00Z");
        let store = Store::temporary(vec![]).unwrap();

        fake.on("GET", THREADS, page(first_page(2), Some("p2")));
        let source = youtube(&fake, &clock);
        assert_eq!(poll(&store, &source, &rules()).await, 3);
        assert_eq!(
            ids(&store),
            vec!["t1", "t1.r1", "t2.r1"],
            "no keyword needed; the channel's own comments are never relayed"
        );
        let first = &fake.requests_to(THREADS)[0];
        assert_eq!(first.param("allThreadsRelatedToChannelId"), Some(CHANNEL));
        assert_eq!(first.param("order"), Some("time"));
        assert_eq!(first.param("key"), Some("api-key"));
        assert_eq!(first.param("pageToken"), None);
        assert_eq!(
            fake.requests_to(THREADS).len(),
            1,
            "the first poll starts from the newest page"
        );

        // A restart: a new source on the same store. t1 got a reply beyond the inlined ones,
        // and a new thread t3 came; page 2 holds an older thread.
        *now.lock().unwrap() += chrono::Duration::minutes(5);
        let mut busy = vec![thread(
            comment("t3", "lee", "Where to buy?", "2026-12-02T12:01:00Z"),
            0,
            vec![],
        )];
        busy.extend(first_page(3));
        fake.on("GET", THREADS, page(busy, Some("p2")))
            .on(
                "GET",
                THREADS,
                page(
                    vec![thread(
                        comment("t0", "old", "First!", "2026-11-20T09:00:00Z"),
                        0,
                        vec![],
                    )],
                    None,
                ),
            )
            .on(
                "GET",
                COMMENTS,
                Reply::json(
                    json!({"items": [
                        comment("t1.r1", "bob", "Mine do", "2026-12-02T09:05:00Z"),
                        comment("t1.r2", "brand", "Sorry! DM us", "2026-12-02T09:10:00Z"),
                        comment("t1.r3", "ann", "Still leaking", "2026-12-02T12:02:00Z"),
                    ]})
                    .to_string(),
                ),
            )
            // The sweep reads page 2 again: nothing changed there.
            .on(
                "GET",
                THREADS,
                page(
                    vec![thread(
                        comment("t0", "old", "First!", "2026-11-20T09:00:00Z"),
                        0,
                        vec![],
                    )],
                    None,
                ),
            );
        let restarted = youtube(&fake, &clock);
        assert_eq!(poll(&store, &restarted, &rules()).await, 3);
        assert_eq!(
            ids(&store),
            vec!["t0", "t1", "t1.r1", "t1.r3", "t2.r1", "t3"]
        );
        let reads = fake.requests_to(THREADS);
        assert_eq!(reads[2].param("pageToken"), Some("p2"));
        let replies = &fake.requests_to(COMMENTS)[0];
        assert_eq!(replies.param("parentId"), Some("t1"));

        // Again after another restart: the same pages bring nothing new, and nothing repeats.
        let mut same = vec![thread(
            comment("t3", "lee", "Where to buy?", "2026-12-02T12:01:00Z"),
            0,
            vec![],
        )];
        same.extend(first_page(3));
        fake.on("GET", THREADS, page(same, None));
        let again = youtube(&fake, &clock);
        assert_eq!(poll(&store, &again, &rules()).await, 0);
        assert_eq!(ids(&store).len(), 6);
        assert!(fake.unused().is_empty(), "{:?}", fake.unused());
        let relayed = store
            .list(ListFilter::All, Member::new("x", "x"))
            .unwrap()
            .into_iter()
            .find(|t| t.mention.key.id == "t1.r3")
            .unwrap();
        assert_eq!(relayed.mention.in_reply_to.as_deref(), Some("t1"));
        assert_eq!(
            relayed.mention.link.as_deref(),
            Some("https://www.youtube.com/watch?v=vid1&lc=t1.r3")
        );
        assert!(relayed.mention.direct);
    }

    #[tokio::test]
    async fn the_daily_budget_stops_polls_before_youtube_must_and_resumes_after_pacific_midnight() {
        let fake = Fake::start().await;
        // 12:00 in California: the day resets at 08:00 UTC tomorrow.
        let (clock, now) = clock("2026-12-02T20:00:00Z");
        let store = Store::temporary(vec![]).unwrap();
        // 120 units a day: polls may spend 60, one a poll here.
        let source = youtube(&fake, &clock).with_quota(120, 5);
        for _ in 0..60 {
            fake.on("GET", THREADS, page(first_page(2), None));
            poll(&store, &source, &rules()).await;
        }
        assert_eq!(fake.requests_to(THREADS).len(), 60);
        let error = source
            .fetch(&store.cursor("youtube").unwrap())
            .await
            .unwrap_err();
        let SourceError::Retry { reason, after } = &error else {
            panic!("{error:?}");
        };
        assert!(reason.contains("polling has used its share"), "{reason}");
        assert!(reason.contains("2026-12-03 08:00 UTC"), "{reason}");
        assert!(after.is_some());
        assert_eq!(
            fake.requests_to(THREADS).len(),
            60,
            "no request once the share is spent"
        );

        // The source's health says so, for the digest.
        poll(&store, &source, &rules()).await;
        let health = store.source_health("youtube").unwrap();
        let problem = health.problem("youtube", Utc::now()).unwrap();
        assert!(problem.contains("quota"), "{problem}");

        // Answers still have the rest of the day's units.
        fake.on("POST", TOKEN, token())
            .on("GET", THREADS, page(first_page(2), None))
            .on(
                "POST",
                COMMENTS,
                Reply::json(
                    comment("t1.r9", "brand", "We are on it", "2026-12-02T20:00:00Z").to_string(),
                ),
            );
        let posted = source
            .reply(&mention("t1", None), "We are on it", "k1")
            .await
            .unwrap();
        assert_eq!(posted.id.as_deref(), Some("t1.r9"));

        // Midnight in California: polling resumes.
        *now.lock().unwrap() = at("2026-12-03T08:00:01Z");
        fake.on("GET", THREADS, page(first_page(2), None));
        assert!(source
            .fetch(&store.cursor("youtube").unwrap())
            .await
            .is_ok());
    }

    /// The day's spending is kept with the cursor: a restart does not hand the same units out
    /// twice, and the next Pacific day starts afresh.
    #[tokio::test]
    async fn a_restart_remembers_what_the_day_has_spent() {
        let fake = Fake::start().await;
        let (clock, now) = clock("2026-12-02T20:00:00Z");
        let store = Store::temporary(vec![]).unwrap();
        let mut settings = settings(&fake, vec![Watch::Comments]);
        // 40 units a day: polls may spend 20, one a poll here.
        settings.daily_units = 40;
        let build = || {
            YouTube::new(
                "youtube".into(),
                settings.clone(),
                Duration::from_secs(300),
                reqwest::Client::new(),
            )
            .with_clock(clock.clone())
        };
        let first = build();
        for _ in 0..15 {
            fake.on("GET", THREADS, page(first_page(2), None));
            poll(&store, &first, &rules()).await;
        }
        assert_eq!(first.quota_used().0, 15);
        drop(first);

        let restarted = build();
        for _ in 0..5 {
            fake.on("GET", THREADS, page(first_page(2), None));
            poll(&store, &restarted, &rules()).await;
        }
        assert_eq!(fake.requests_to(THREADS).len(), 20);
        let error = restarted
            .fetch(&store.cursor("youtube").unwrap())
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("polling has used its share"),
            "the restart spent only what was left of the day: {error}"
        );
        assert_eq!(fake.requests_to(THREADS).len(), 20);

        *now.lock().unwrap() = at("2026-12-03T08:00:01Z");
        let next_day = build();
        fake.on("GET", THREADS, page(first_page(2), None));
        assert!(next_day
            .fetch(&store.cursor("youtube").unwrap())
            .await
            .is_ok());
        assert_eq!(next_day.quota_used().0, 1, "a new day starts afresh");
    }

    #[tokio::test]
    async fn quota_exceeded_from_youtube_holds_polls_and_answers_until_the_reset() {
        let fake = Fake::start().await;
        let (clock, now) = clock("2026-12-02T20:00:00Z");
        let store = Store::temporary(vec![]).unwrap();
        let source = youtube(&fake, &clock);
        fake.on(
            "GET",
            THREADS,
            youtube_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
            ),
        );
        poll(&store, &source, &rules()).await;
        let problem = store
            .source_health("youtube")
            .unwrap()
            .problem("youtube", Utc::now())
            .unwrap();
        assert!(problem.contains("quotaExceeded"), "{problem}");
        assert!(problem.contains("stops YouTube polling until"), "{problem}");
        assert!(
            problem.contains("queued answers wait in the outbox"),
            "{problem}"
        );

        poll(&store, &source, &rules()).await;
        let error = source
            .reply(&mention("t1", None), "hello", "k1")
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SourceError::Retry { after: Some(_), .. }),
            "an answer waits in the outbox: {error:?}"
        );
        assert_eq!(
            fake.requests().len(),
            1,
            "nothing more sent before the reset"
        );

        *now.lock().unwrap() = at("2026-12-03T08:00:00Z");
        fake.on("GET", THREADS, page(first_page(2), None));
        assert_eq!(poll(&store, &source, &rules()).await, 3);
    }

    fn mention(id: &str, thread: Option<&str>) -> Mention {
        Mention {
            key: MentionKey::new("youtube", id),
            network: earshot::sources::youtube::TRAITS.network(),
            author: Author {
                handle: "jane".into(),
                name: None,
                profile: None,
            },
            text: "Do the lids leak?".into(),
            link: None,
            created_at: at("2026-12-02T09:00:00Z"),
            matched: vec![],
            language: None,
            in_reply_to: thread.map(str::to_string),
            direct: true,
            review: None,
        }
    }

    #[tokio::test]
    async fn an_answer_is_posted_once_after_its_response_was_lost() {
        let fake = Fake::start().await;
        let (clock, _) = clock("2026-12-02T12:00:00Z");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let source = youtube_with(&fake, &clock, vec![Watch::Comments], http);
        let answer = "Sorry about that, a new lid is on its way";
        fake.on("POST", TOKEN, token())
            .on("GET", THREADS, page(first_page(2), None))
            .on(
                "POST",
                COMMENTS,
                Reply::json(comment("t1.r9", "brand", answer, "2026-12-02T12:00:00Z").to_string())
                    .after(Duration::from_secs(2)),
            );
        // A reply to a reply goes to its thread (YouTube threads are one level deep).
        let error = source
            .reply(&mention("t1.r1", Some("t1")), answer, "outbox-7")
            .await
            .unwrap_err();
        assert!(matches!(error, SourceError::Retry { .. }), "{error:?}");

        // The retry finds the answer in the thread and does not post it again.
        let mut landed = first_page(2);
        landed[0]["snippet"]["totalReplyCount"] = json!(3);
        landed[0]["replies"]["comments"]
            .as_array_mut()
            .unwrap()
            .push(comment("t1.r9", "brand", answer, "2026-12-02T12:00:00Z"));
        fake.on("GET", THREADS, page(landed, None));
        let posted = source
            .reply(&mention("t1.r1", Some("t1")), answer, "outbox-7")
            .await
            .unwrap();
        assert_eq!(posted.id.as_deref(), Some("t1.r9"));
        assert_eq!(
            posted.link.as_deref(),
            Some("https://www.youtube.com/watch?v=vid1&lc=t1.r9")
        );
        let inserts = fake.requests_to(COMMENTS);
        assert_eq!(inserts.len(), 1, "posted once");
        let body = inserts[0].json();
        assert_eq!(body["snippet"]["parentId"], "t1");
        assert_eq!(body["snippet"]["textOriginal"], answer);
        assert_eq!(inserts[0].param("part"), Some("snippet"));
        assert_eq!(
            inserts[0].header("authorization"),
            Some("Bearer ya29.token")
        );
        let grant = fake.requests_to(TOKEN)[0].form();
        assert_eq!(grant["grant_type"], "refresh_token");
        assert_eq!(grant["refresh_token"], "refresh");
        let check = &fake.requests_to(THREADS)[0];
        assert_eq!(check.param("id"), Some("t1"));
    }

    #[tokio::test]
    async fn refusals_return_the_answer_with_the_reason() {
        let fake = Fake::start().await;
        let (clock, _) = clock("2026-12-02T12:00:00Z");
        let source = youtube(&fake, &clock);
        let mut closed = first_page(2);
        closed[0]["snippet"]["canReply"] = json!(false);
        fake.on("POST", TOKEN, token())
            .on("GET", THREADS, page(closed, None));
        let error = source
            .reply(&mention("t1", None), "hi", "k1")
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SourceError::Permanent(why) if why.contains("canReply=false")),
            "{error:?}"
        );

        for (reason, words) in [
            ("parentCommentIsPrivate", "private"),
            ("operationNotSupported", "operationNotSupported"),
        ] {
            fake.on("GET", THREADS, page(first_page(2), None)).on(
                "POST",
                COMMENTS,
                youtube_error(403, reason, "The API user is not able to insert a comment"),
            );
            let error = source
                .reply(&mention("t1", None), "hi", reason)
                .await
                .unwrap_err();
            assert!(
                matches!(&error, SourceError::Permanent(why) if why.contains(words) && why.contains("not posted")),
                "{reason}: {error:?}"
            );
        }
        assert_eq!(fake.requests_to(TOKEN).len(), 1, "the token is cached");
    }

    /// A consent screen in "Testing": Google's token endpoint names the refresh token's 7 days.
    #[tokio::test]
    async fn a_refresh_token_that_google_says_will_lapse_is_warned_about_in_the_health() {
        let (clock, _) = clock("2026-12-02T12:00:00Z");
        let testing = json!({"access_token": "ya29.token", "expires_in": 3599,
            "refresh_token_expires_in": 604799, "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
            "token_type": "Bearer"});
        // An answer renews the token (polls read with the API key); then a poll reports.
        let health_after = |issued: Reply| {
            let clock = clock.clone();
            async move {
                let fake = Fake::start().await;
                let store = Store::temporary(vec![]).unwrap();
                let source = youtube(&fake, &clock);
                fake.on("POST", TOKEN, issued)
                    .on("GET", THREADS, page(first_page(2), None))
                    .on(
                        "POST",
                        COMMENTS,
                        Reply::json(
                            comment("t1.r9", "brand", "hi", "2026-12-02T12:00:00Z").to_string(),
                        ),
                    )
                    .on("GET", THREADS, page(first_page(2), None));
                source
                    .reply(&mention("t1", None), "hi", "k1")
                    .await
                    .unwrap();
                assert_eq!(fake.requests_to(TOKEN).len(), 1);
                assert_eq!(
                    poll(&store, &source, &rules()).await,
                    3,
                    "the poll itself works"
                );
                store.source_health("youtube").unwrap()
            }
        };
        let health = health_after(Reply::json(testing.to_string())).await;
        let problem = health.problem("youtube", Utc::now()).unwrap_or_default();
        assert!(
            problem.contains(
                "the YouTube refresh token of source `youtube` expires on 2026-12-09 11:59 UTC"
            ) && problem.contains("\"Testing\"")
                && problem.contains("publish the app")
                && problem.contains("renew `refresh_token`"),
            "{problem}"
        );

        // A published app's token names no end: nothing to warn about.
        let health = health_after(token()).await;
        assert_eq!(health.failures, 0);
        assert_eq!(health.problem("youtube", Utc::now()), None);
    }

    #[tokio::test]
    async fn an_invalid_grant_says_what_to_renew_and_names_the_testing_trap() {
        let fake = Fake::start().await;
        let (clock, _) = clock("2026-12-02T12:00:00Z");
        let source = youtube(&fake, &clock);
        fake.on("GET", THREADS, page(first_page(2), None));
        fake.on(
            "POST",
            TOKEN,
            Reply::status(
                400,
                r#"{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}"#,
            ),
        );
        let error = source
            .reply(&mention("t1", None), "hi", "k1")
            .await
            .unwrap_err();
        let SourceError::Permanent(why) = &error else {
            panic!("{error:?}");
        };
        assert!(why.contains("renew `refresh_token`"), "{why}");
        assert!(why.contains("Token has been expired or revoked."), "{why}");
        assert!(why.contains("\"Testing\""), "{why}");
        assert!(why.contains("7 days"), "{why}");
        assert!(fake.requests_to(COMMENTS).is_empty());
    }

    fn video(id: &str, channel: &str, title: &str, published: &str) -> Value {
        json!({
            "kind": "youtube#searchResult",
            "id": {"kind": "youtube#video", "videoId": id},
            "snippet": {
                "publishedAt": published,
                "channelId": channel,
                "title": title,
                "description": "A review",
                "channelTitle": "Some Channel",
                "liveBroadcastContent": "none",
            }
        })
    }

    #[tokio::test]
    async fn search_finds_new_videos_paced_to_its_bucket_and_answers_with_a_comment() {
        let fake = Fake::start().await;
        let (clock, now) = clock("2026-12-02T12:00:00Z");
        let store = Store::temporary(vec![]).unwrap();
        let source = youtube_with(
            &fake,
            &clock,
            vec![Watch::Search("acme".into())],
            reqwest::Client::new(),
        );
        fake.on(
            "GET",
            SEARCH,
            Reply::json(
                json!({"items": [
                    video("v1", "UCother", "Acme coffee review", "2026-12-02T11:00:00Z"),
                    video("v2", CHANNEL, "Acme's own upload", "2026-12-02T10:00:00Z"),
                    video("v3", "UCother", "Unrelated cats", "2026-12-02T09:00:00Z"),
                ]})
                .to_string(),
            ),
        );
        assert_eq!(poll(&store, &source, &rules()).await, 1);
        assert_eq!(ids(&store), vec!["video:v1"]);
        let search = &fake.requests_to(SEARCH)[0];
        assert_eq!(search.param("order"), Some("date"));
        assert_eq!(search.param("type"), Some("video"));
        assert_eq!(search.param("q"), Some("acme"));

        // Five minutes on: too soon for the search bucket, so no search.
        *now.lock().unwrap() += chrono::Duration::minutes(5);
        assert_eq!(poll(&store, &source, &rules()).await, 0);
        assert_eq!(fake.requests_to(SEARCH).len(), 1);

        // Sixteen minutes after the first: it searches again, from the newest video less an hour.
        *now.lock().unwrap() += chrono::Duration::minutes(11);
        fake.on("GET", SEARCH, Reply::json(r#"{"items": []}"#));
        poll(&store, &source, &rules()).await;
        let again = &fake.requests_to(SEARCH)[1];
        assert_eq!(again.param("publishedAfter"), Some("2026-12-02T10:00:00Z"));

        // The answer is a top-level comment on the video.
        fake.on("POST", TOKEN, token())
            .on("GET", THREADS, page(vec![], None))
            .on(
                "POST",
                THREADS,
                Reply::json(
                    thread(
                        comment("new1", "brand", "Thanks!", "2026-12-02T12:20:00Z"),
                        0,
                        vec![],
                    )
                    .to_string(),
                ),
            );
        let mut found = mention("video:v1", None);
        found.link = Some("https://www.youtube.com/watch?v=v1".into());
        let posted = source.reply(&found, "Thanks!", "k1").await.unwrap();
        assert_eq!(posted.id.as_deref(), Some("new1"));
        let insert = fake
            .requests_to(THREADS)
            .into_iter()
            .find(|r| r.method == "POST")
            .unwrap();
        assert_eq!(insert.json()["snippet"]["videoId"], "v1");
        assert_eq!(
            insert.json()["snippet"]["topLevelComment"]["snippet"]["textOriginal"],
            "Thanks!"
        );
    }

    #[tokio::test]
    async fn a_reply_by_the_channel_closes_the_mention_with_batched_reads() {
        let fake = Fake::start().await;
        let (clock, now) = clock("2026-12-02T12:00:00Z");
        let source = youtube(&fake, &clock);
        // t1 has the channel's reply (after the mention); t2 has none.
        let t2 = thread(
            comment("t2", "kim", "Hello?", "2026-12-02T08:00:00Z"),
            0,
            vec![],
        );
        let mut both = first_page(2);
        both[1] = t2.clone();
        fake.on("GET", THREADS, page(vec![t2.clone()], None));
        assert_eq!(
            source
                .answered_by_brand(&mention("t2", None))
                .await
                .unwrap(),
            None
        );
        *now.lock().unwrap() += chrono::Duration::minutes(15);
        fake.on("GET", THREADS, page(both, None));
        let how = source
            .answered_by_brand(&mention("t1", None))
            .await
            .unwrap()
            .unwrap();
        assert!(how.contains("lc=t1.r2"), "{how}");
        // t2 was read in the same request: no new read for it now.
        assert_eq!(
            source
                .answered_by_brand(&mention("t2", None))
                .await
                .unwrap(),
            None
        );
        let reads = fake.requests_to(THREADS);
        assert_eq!(reads.len(), 2);
        let ids = reads[1].param("id").unwrap();
        assert!(ids.contains("t1") && ids.contains("t2"), "{ids}");
    }
}

mod linkedin {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use earshot::app::poll;
    use earshot::domain::{Author, ListFilter, Member, Mention, MentionKey};
    use earshot::net::oauth::OAuth;
    use earshot::net::{Clock, Secret};
    use earshot::rules::Rules;
    use earshot::sources::linkedin::{LinkedIn, Settings, Watch};
    use earshot::sources::Source;
    use earshot::store::Store;
    use serde_json::json;

    use crate::fake_net::{Fake, Reply};

    const ORG: &str = "urn:li:organization:1234567";
    const NOTES: &str = "/organizationalEntityNotifications";
    const POSTS: &str = "/posts";
    const POST_COMMENTS: &str = "/socialActions/urn%3Ali%3Ashare%3A1/comments";
    const C1: &str = "urn:li:comment:(urn:li:activity:1,11)";
    const C1_REPLIES: &str =
        "/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A1%2C11%29/comments";
    const TOKEN: &str = "/oauth/v2/accessToken";
    /// LinkedIn's documented lifetimes: 60 days for an access token, a year for a refresh token.
    const SIXTY_DAYS: i64 = 60 * 24 * 3600;
    const A_YEAR: i64 = 365 * 24 * 3600;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn linkedin(fake: &Fake, watch: Vec<Watch>, expires: Option<&str>) -> LinkedIn {
        let now = Arc::new(Mutex::new(at("2026-12-02T12:00:00Z")));
        let clock: Clock = Arc::new(move || *now.lock().unwrap());
        LinkedIn::new(
            "linkedin".into(),
            Settings {
                organization: ORG.into(),
                token: Some(Secret::new("li-token")),
                token_expires: expires.map(at),
                refresh: None,
                watch,
                api_url: fake.url.clone(),
                version: "202611".into(),
            },
            Duration::from_secs(300),
            reqwest::Client::new(),
        )
        .with_clock(clock)
    }

    fn rules() -> Rules {
        Rules::new(&["acme".to_string()], &[], &[])
    }

    fn comment(urn: &str, actor: &str, text: &str, ms: i64, replies: u32) -> serde_json::Value {
        json!({
            "$URN": urn, "commentUrn": urn, "actor": actor, "object": "urn:li:activity:1",
            "message": {"text": text, "attributes": []},
            "created": {"actor": actor, "time": ms},
            "commentsSummary": {"aggregatedTotalComments": replies, "totalFirstLevelComments": replies},
        })
    }

    #[tokio::test]
    async fn a_retired_version_names_the_version_key() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        fake.on(
            "GET",
            NOTES,
            Reply::status(426, r#"{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 20231101 is not active"}"#),
        );
        let source = linkedin(&fake, vec![Watch::Mentions], None);
        poll(&store, &source, &rules()).await;
        let problem = store
            .source_health("linkedin")
            .unwrap()
            .problem("linkedin", Utc::now())
            .unwrap();
        assert!(
            problem.contains("set `version` in source `linkedin`"),
            "{problem}"
        );
        assert!(problem.contains("202611"), "{problem}");
        let request = &fake.requests_to(NOTES)[0];
        assert_eq!(request.header("linkedin-version"), Some("202611"));
        assert_eq!(request.header("x-restli-protocol-version"), Some("2.0.0"));
        assert_eq!(request.header("authorization"), Some("Bearer li-token"));
    }

    #[tokio::test]
    async fn comments_and_replies_are_relayed_once_never_the_organizations_own() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let ms = at("2026-12-02T11:00:00Z").timestamp_millis();
        let script = |fake: &Fake| {
            fake.on("GET", POSTS, Reply::json(json!({"elements": [{"id": "urn:li:share:1"}]}).to_string()))
                .on("GET", POST_COMMENTS, Reply::json(json!({
                    "elements": [comment(C1, "urn:li:person:jane", "Is this shipping?", ms, 2)],
                    "paging": {"start": 0, "count": 1, "total": 2}}).to_string()))
                .on("GET", POST_COMMENTS, Reply::json(json!({
                    "elements": [comment("urn:li:comment:(urn:li:activity:1,12)", ORG, "Launch day!", ms, 0)],
                    "paging": {"start": 1, "count": 1, "total": 2}}).to_string()))
                .on("GET", C1_REPLIES, Reply::json(json!({
                    "elements": [
                        comment("urn:li:comment:(urn:li:activity:1,13)", ORG, "Yes, next week", ms + 1000, 0),
                        comment("urn:li:comment:(urn:li:activity:1,14)", "urn:li:person:bob", "Me too?", ms + 2000, 0),
                    ],
                    "paging": {"start": 0, "count": 2, "total": 2}}).to_string()));
        };
        script(&fake);
        let source = linkedin(&fake, vec![Watch::Comments], None);
        assert_eq!(poll(&store, &source, &rules()).await, 2);
        script(&fake);
        let restarted = linkedin(&fake, vec![Watch::Comments], None);
        assert_eq!(poll(&store, &restarted, &rules()).await, 0, "relayed once");
        let all = store.list(ListFilter::All, Member::new("x", "x")).unwrap();
        let mut ids: Vec<String> = all.iter().map(|t| t.mention.key.id.clone()).collect();
        ids.sort();
        assert_eq!(
            ids,
            vec![
                C1.to_string(),
                "urn:li:comment:(urn:li:activity:1,14)".to_string()
            ]
        );
        assert_eq!(fake.requests_to(POST_COMMENTS)[1].param("start"), Some("1"));
        assert_eq!(fake.requests_to(POSTS)[0].param("author"), Some(ORG));
        assert!(fake.unused().is_empty(), "{:?}", fake.unused());
    }

    #[tokio::test]
    async fn an_answer_is_posted_once_as_the_organization() {
        let fake = Fake::start().await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let source = LinkedIn::new(
            "linkedin".into(),
            Settings {
                organization: ORG.into(),
                token: Some(Secret::new("li-token")),
                token_expires: None,
                refresh: None,
                watch: vec![Watch::Comments],
                api_url: fake.url.clone(),
                version: "202611".into(),
            },
            Duration::from_secs(300),
            http,
        );
        let mention = Mention {
            key: MentionKey::new("linkedin", C1),
            network: earshot::sources::linkedin::TRAITS.network(),
            author: Author::default(),
            text: "Is this shipping?".into(),
            link: None,
            created_at: at("2026-12-02T11:00:00Z"),
            matched: vec![],
            language: None,
            in_reply_to: Some("urn:li:share:1".into()),
            direct: true,
            review: None,
        };
        let created = comment(
            "urn:li:comment:(urn:li:activity:1,20)",
            ORG,
            "Next week!",
            1,
            0,
        );
        fake.on(
            "GET",
            C1_REPLIES,
            Reply::json(r#"{"elements": [], "paging": {"total": 0}}"#),
        )
        .on(
            "POST",
            C1_REPLIES,
            Reply::json(created.to_string()).after(Duration::from_secs(2)),
        );
        assert!(source.reply(&mention, "Next week!", "k1").await.is_err());
        fake.on(
            "GET",
            C1_REPLIES,
            Reply::json(json!({"elements": [created], "paging": {"total": 1}}).to_string()),
        );
        let posted = source.reply(&mention, "Next week!", "k1").await.unwrap();
        assert_eq!(
            posted.id.as_deref(),
            Some("urn:li:comment:(urn:li:activity:1,20)")
        );
        let posts: Vec<_> = fake
            .requests_to(C1_REPLIES)
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect();
        assert_eq!(posts.len(), 1, "posted once");
        let body = posts[0].json();
        assert_eq!(body["actor"], ORG);
        assert_eq!(body["object"], "urn:li:activity:1");
        assert_eq!(body["parentComment"], C1);
        assert_eq!(posts[0].header("linkedin-version"), Some("202611"));
    }

    #[tokio::test]
    async fn mentions_are_read_and_the_token_is_warned_about_a_week_before() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let ms = at("2026-12-02T10:00:00Z").timestamp_millis();
        fake.on(
            "GET",
            NOTES,
            Reply::json(
                json!({"elements": [{
            "action": "SHARE_MENTION", "organizationalEntity": ORG,
            "sourcePost": "urn:li:share:99", "lastModifiedAt": ms}]})
                .to_string(),
            ),
        );
        let source = linkedin(&fake, vec![Watch::Mentions], Some("2026-12-06T00:00:00Z"));
        assert_eq!(poll(&store, &source, &rules()).await, 1);
        let request = &fake.requests_to(NOTES)[0];
        assert_eq!(request.param("q"), Some("criteria"));
        assert_eq!(request.param("organizationalEntity"), Some(ORG));
        let problem = store
            .source_health("linkedin")
            .unwrap()
            .problem("linkedin", Utc::now())
            .unwrap();
        assert!(problem.contains("expires on 2026-12-06"), "{problem}");
    }

    /// LinkedIn's terms let a member's comment be kept 48 hours: an hourly look (its clock
    /// injected) reads an owed comment again, drops a closed one and one LinkedIn no longer
    /// has (404), and drops an owed one it cannot read again in the limit's last hour; each
    /// change queues the card's update.
    #[tokio::test]
    async fn copied_comments_are_read_again_while_owed_and_dropped_within_linkedins_48_hours() {
        use earshot::domain::{Action, TextCopy};
        use earshot::retention::Retention;

        let fake = Fake::start().await;
        let store = Store::temporary(vec!["shell".into()]).unwrap();
        let ms = at("2026-12-02T11:00:00Z").timestamp_millis();
        let (owed, closed, deleted) = (
            C1,
            "urn:li:comment:(urn:li:activity:1,14)",
            "urn:li:comment:(urn:li:activity:1,15)",
        );
        fake.on(
            "GET",
            POSTS,
            Reply::json(json!({"elements": [{"id": "urn:li:share:1"}]}).to_string()),
        )
        .on(
            "GET",
            POST_COMMENTS,
            Reply::json(
                json!({
                "elements": [
                    comment(owed, "urn:li:person:jane", "Is this shipping?", ms, 0),
                    comment(closed, "urn:li:person:bob", "Love it", ms + 1000, 0),
                    comment(deleted, "urn:li:person:ann", "Broken again", ms + 2000, 0),
                ],
                "paging": {"start": 0, "count": 3, "total": 3}})
                .to_string(),
            ),
        );
        let source = linkedin(&fake, vec![Watch::Comments], None);
        assert_eq!(poll(&store, &source, &rules()).await, 3);
        let found = Utc::now();
        let everyone = Member::new("x", "x");
        let number = |id: &str| {
            store
                .list(ListFilter::All, &everyone)
                .unwrap()
                .into_iter()
                .find(|t| t.mention.key.id == id)
                .unwrap()
                .number
        };
        let (owed, closed, deleted) = (number(owed), number(closed), number(deleted));
        store
            .apply(
                closed,
                &Member::new("U1", "jane"),
                &Action::Done { note: None },
                found,
            )
            .await
            .unwrap();
        let updates = |number: u64| -> Vec<String> {
            crate::store::updates(&store, number)
                .into_iter()
                .map(|(chat, note)| format!("{chat}: {note}"))
                .collect()
        };
        let before = updates(closed).len();
        let retention = Retention::new(store.clone(), vec![Arc::new(source)]);

        // Not yet: 41 hours is more than six before the limit.
        assert_eq!(
            retention
                .tick(found + chrono::Duration::hours(41))
                .await
                .unwrap(),
            0
        );
        assert!(fake
            .requests_to("/socialActions/urn%3Ali%3Aactivity%3A1/comments/11")
            .is_empty());

        const READ_OWED: &str = "/socialActions/urn%3Ali%3Aactivity%3A1/comments/11";
        const READ_DELETED: &str = "/socialActions/urn%3Ali%3Aactivity%3A1/comments/15";
        fake.on(
            "GET",
            READ_OWED,
            Reply::json(
                comment(
                    C1,
                    "urn:li:person:jane",
                    "Is this shipping? Asking for my team",
                    ms,
                    0,
                )
                .to_string(),
            ),
        )
        .on(
            "GET",
            READ_DELETED,
            Reply::status(404, r#"{"status":404,"message":"Not Found"}"#),
        );
        let first = found + chrono::Duration::hours(42);
        assert_eq!(retention.tick(first).await.unwrap(), 3);
        assert!(fake.unused().is_empty(), "{:?}", fake.unused());
        let read = &fake.requests_to(READ_OWED)[0];
        assert_eq!(read.header("linkedin-version"), Some("202611"));
        assert_eq!(read.header("x-restli-protocol-version"), Some("2.0.0"));

        let refreshed = store.mention(owed).unwrap();
        assert_eq!(
            refreshed.mention.text,
            "Is this shipping? Asking for my team"
        );
        assert_eq!(refreshed.copy, TextCopy::ReadAgain { at: first });
        assert_eq!(
            updates(owed),
            vec!["shell: text read again by earshot: the text changed on the network"]
        );
        for (number, why) in [(closed, "closed"), (deleted, "no longer on LinkedIn")] {
            let dropped = store.mention(number).unwrap();
            assert_eq!(dropped.copy, TextCopy::Dropped { at: first });
            assert!(
                dropped.mention.text.starts_with("(text removed: LinkedIn's API Data Storage Requirements let earshot keep a copy for 48 hours, see https://learn.microsoft.com/en-us/linkedin/marketing/data-storage-requirements"),
                "{}",
                dropped.mention.text
            );
            assert!(
                dropped
                    .mention
                    .link
                    .as_deref()
                    .unwrap()
                    .contains("commentUrn="),
                "the card still opens it"
            );
            let last = store.history(number).unwrap().pop().unwrap();
            assert_eq!(
                last.summary(),
                format!("text dropped by earshot: {why}; as LinkedIn's API Data Storage Requirements require")
            );
            assert!(updates(number)
                .last()
                .unwrap()
                .starts_with("shell: text dropped"));
        }
        assert_eq!(updates(closed).len(), before + 1);
        assert_eq!(
            store.mention(deleted).unwrap().state.status().label(),
            "open",
            "still owed: only the text went"
        );
        assert_eq!(store.expiring_copies().unwrap(), vec![owed]);

        // The refreshed copy counts from its read. LinkedIn then refuses the read: it is
        // tried hourly, and dropped in the limit's last hour.
        for _ in 0..2 {
            fake.on(
                "GET",
                READ_OWED,
                Reply::status(403, r#"{"status":403,"message":"Not enough permissions"}"#),
            );
        }
        assert_eq!(
            retention
                .tick(first + chrono::Duration::hours(41))
                .await
                .unwrap(),
            0
        );
        assert_eq!(fake.requests_to(READ_OWED).len(), 1, "not due yet");
        assert_eq!(
            retention
                .tick(first + chrono::Duration::hours(46))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store.mention(owed).unwrap().copy,
            TextCopy::ReadAgain { at: first }
        );
        let last_hour = first + chrono::Duration::hours(47);
        assert_eq!(retention.tick(last_hour).await.unwrap(), 1);
        assert_eq!(fake.requests_to(READ_OWED).len(), 3);
        let dropped = store.mention(owed).unwrap();
        assert_eq!(dropped.copy, TextCopy::Dropped { at: last_hour });
        let note = store.history(owed).unwrap().pop().unwrap().summary();
        assert!(
            note.starts_with("text dropped by earshot: could not be read again:"),
            "{note}"
        );
        assert!(note.contains("403"), "{note}");
        assert!(store.expiring_copies().unwrap().is_empty());
        assert_eq!(
            retention
                .tick(last_hour + chrono::Duration::hours(100))
                .await
                .unwrap(),
            0
        );
    }

    fn clock() -> (Clock, Arc<Mutex<DateTime<Utc>>>) {
        let now = Arc::new(Mutex::new(at("2026-12-02T12:00:00Z")));
        let reading = now.clone();
        (Arc::new(move || *reading.lock().unwrap()), now)
    }

    /// A source that renews its token with `refresh_token` (and starts from `token`, if any).
    fn renewing(fake: &Fake, token: Option<&str>, refresh_token: &str, clock: &Clock) -> LinkedIn {
        LinkedIn::new(
            "linkedin".into(),
            Settings {
                organization: ORG.into(),
                token: token.map(Secret::new),
                token_expires: None,
                refresh: Some(OAuth {
                    client_id: "li-client".into(),
                    client_secret: Secret::new("li-secret"),
                    refresh_token: Secret::new(refresh_token),
                    token_url: format!("{}{TOKEN}", fake.url),
                }),
                watch: vec![Watch::Mentions],
                api_url: fake.url.clone(),
                version: "202611".into(),
            },
            Duration::from_secs(300),
            reqwest::Client::new(),
        )
        .with_clock(clock.clone())
    }

    /// LinkedIn's answer to a refresh: the same refresh token, with what is left of its year.
    fn issued(access: &str, refresh_left: i64) -> Reply {
        Reply::json(
            json!({"access_token": access, "expires_in": SIXTY_DAYS,
                "refresh_token": "li-refresh", "refresh_token_expires_in": refresh_left,
                "scope": "r_organization_social,w_organization_social,rw_organization_admin"})
            .to_string(),
        )
    }

    fn no_notes() -> Reply {
        Reply::json(r#"{"elements": [], "paging": {"start": 0, "count": 0}}"#)
    }

    fn bearers(fake: &Fake) -> Vec<String> {
        fake.requests_to(NOTES)
            .iter()
            .map(|r| r.header("authorization").unwrap_or_default().to_string())
            .collect()
    }

    fn health(store: &Store) -> Option<String> {
        store
            .source_health("linkedin")
            .unwrap()
            .problem("linkedin", Utc::now())
    }

    #[tokio::test]
    async fn the_token_is_renewed_a_day_before_it_expires_and_not_sooner() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let (clock, now) = clock();
        let source = renewing(&fake, None, "li-refresh", &clock);
        fake.on("POST", TOKEN, issued("li-access-1", A_YEAR)).on(
            "POST",
            TOKEN,
            issued("li-access-2", A_YEAR - 59 * 24 * 3600),
        );
        for _ in 0..3 {
            fake.on("GET", NOTES, no_notes());
        }
        poll(&store, &source, &rules()).await;
        *now.lock().unwrap() += chrono::Duration::days(30);
        poll(&store, &source, &rules()).await;
        assert_eq!(
            fake.requests_to(TOKEN).len(),
            1,
            "a fresh token is not renewed"
        );
        // 59 days and an hour on: less than a day left of the first token.
        *now.lock().unwrap() += chrono::Duration::days(29) + chrono::Duration::hours(1);
        poll(&store, &source, &rules()).await;
        assert_eq!(
            bearers(&fake),
            vec![
                "Bearer li-access-1",
                "Bearer li-access-1",
                "Bearer li-access-2"
            ]
        );
        let renewals = fake.requests_to(TOKEN);
        assert_eq!(renewals.len(), 2);
        let form = renewals[1].form();
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["refresh_token"], "li-refresh");
        assert_eq!(form["client_id"], "li-client");
        assert_eq!(form["client_secret"], "li-secret");
        assert_eq!(health(&store), None);
    }

    #[tokio::test]
    async fn a_refused_token_is_renewed_once_and_the_call_goes_through() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let (clock, _) = clock();
        let ms = at("2026-12-02T10:00:00Z").timestamp_millis();
        fake.on(
            "GET",
            NOTES,
            Reply::status(401, r#"{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}"#),
        )
        .on(
            "GET",
            NOTES,
            Reply::json(
                json!({"elements": [{"action": "SHARE_MENTION", "sourcePost": "urn:li:share:99", "lastModifiedAt": ms}]})
                    .to_string(),
            ),
        )
        .on("POST", TOKEN, issued("li-access-new", A_YEAR));
        let source = renewing(&fake, Some("li-access-old"), "li-refresh", &clock);
        assert_eq!(poll(&store, &source, &rules()).await, 1);
        assert_eq!(
            bearers(&fake),
            vec!["Bearer li-access-old", "Bearer li-access-new"]
        );
        assert_eq!(fake.requests_to(TOKEN).len(), 1);
        assert_eq!(health(&store), None);
    }

    #[tokio::test]
    async fn a_refused_refresh_token_names_the_key_to_renew() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let (clock, _) = clock();
        fake.on(
            "POST",
            TOKEN,
            Reply::status(
                400,
                r#"{"error":"invalid_grant","error_description":"The provided authorization grant or refresh token is invalid, expired or revoked"}"#,
            ),
        );
        let source = renewing(&fake, None, "li-refresh", &clock);
        assert_eq!(poll(&store, &source, &rules()).await, 0);
        let problem = health(&store).expect("reported");
        assert!(
            problem.contains(
                "linkedin source `linkedin`: the refresh token was refused (invalid_grant"
            ),
            "{problem}"
        );
        assert!(
            problem.contains("renew `refresh_token` in the config"),
            "{problem}"
        );
        assert!(
            fake.requests_to(NOTES).is_empty(),
            "no call without a token"
        );
    }

    #[tokio::test]
    async fn the_renewed_grant_survives_a_restart_without_a_new_exchange() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let (clock, now) = clock();
        fake.on("POST", TOKEN, issued("li-access-1", A_YEAR));
        for _ in 0..3 {
            fake.on("GET", NOTES, no_notes());
        }
        let source = renewing(&fake, None, "li-refresh", &clock)
            .with_credentials(store.credentials("linkedin"));
        poll(&store, &source, &rules()).await;
        drop(source);
        *now.lock().unwrap() += chrono::Duration::days(10);
        let restarted = renewing(&fake, None, "li-refresh", &clock)
            .with_credentials(store.credentials("linkedin"));
        poll(&store, &restarted, &rules()).await;
        assert_eq!(fake.requests_to(TOKEN).len(), 1, "the stored grant serves");
        assert_eq!(
            bearers(&fake),
            vec!["Bearer li-access-1", "Bearer li-access-1"]
        );
        // A new refresh token in the config was made on purpose: it wins over the stored grant.
        fake.on("POST", TOKEN, issued("li-access-2", A_YEAR));
        let reconfigured = renewing(&fake, None, "li-refresh-new", &clock)
            .with_credentials(store.credentials("linkedin"));
        poll(&store, &reconfigured, &rules()).await;
        let renewals = fake.requests_to(TOKEN);
        assert_eq!(renewals.len(), 2);
        assert_eq!(renewals[1].form()["refresh_token"], "li-refresh-new");
        assert_eq!(bearers(&fake)[2], "Bearer li-access-2");
        assert!(fake.unused().is_empty(), "{:?}", fake.unused());
    }

    #[tokio::test]
    async fn the_digest_warns_a_week_before_the_refresh_token_expires() {
        let fake = Fake::start().await;
        let store = Store::temporary(vec![]).unwrap();
        let (clock, now) = clock();
        // Ten days left of the refresh token's year: no warning yet.
        fake.on("POST", TOKEN, issued("li-access-1", 10 * 24 * 3600));
        fake.on("GET", NOTES, no_notes())
            .on("GET", NOTES, no_notes());
        let source = renewing(&fake, None, "li-refresh", &clock);
        poll(&store, &source, &rules()).await;
        assert_eq!(health(&store), None);
        *now.lock().unwrap() += chrono::Duration::days(4);
        poll(&store, &source, &rules()).await;
        let digest =
            earshot::digest::Digester::text(&store, chrono_tz::UTC, *now.lock().unwrap()).unwrap();
        assert!(digest.contains("Sources that need a look:"), "{digest}");
        assert!(
            digest.contains("the LinkedIn refresh token of source `linkedin` expires on 2026-12-12: renew `refresh_token`"),
            "{digest}"
        );
        assert_eq!(fake.requests_to(TOKEN).len(), 1);
    }
}
