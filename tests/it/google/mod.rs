//! Google Business Profile and Google Play against a local look-alike of Google (`fake.rs`):
//! reviews relayed once with their stars, low ratings first, edits that reopen, replies that
//! are upserts, outside replies shown before they are replaced, tokens renewed, refusals that
//! reach the operator, and Play's one-week window.

mod fake;

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use earshot::app::poll;
use earshot::desk::{Caller, Desk};
use earshot::digest::Digester;
use earshot::domain::{ListFilter, Member, MemberRef, State};
use earshot::net::oauth::OAuth;
use earshot::net::Secret;
use earshot::outbox::Outbox;
use earshot::sources::google::ServiceAccount;
use earshot::sources::google_play::{self, GooglePlay};
use earshot::sources::google_reviews::{self, GoogleReviews};
use earshot::sources::Source;
use earshot::store::Store;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::review_rig::{rules, Cards};
use fake::{gbp_review, play_review, stamp, Fake};

const PRIVATE_KEY: &str = include_str!("../../fixtures/google/test-service-account.key.pem");
const PUBLIC_KEY: &str = include_str!("../../fixtures/google/test-service-account.pub.pem");
/// A key the fake does not know.
const OTHER_KEY: &str = include_str!("../../fixtures/google/other-key.pem");

/// The test's clock, starting now (the fake checks assertions' expiry against real time too).
fn clock() -> (earshot::net::Clock, fake::Clock) {
    let now = Arc::new(Mutex::new(
        DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap(),
    ));
    let reading = now.clone();
    (Arc::new(move || *reading.lock().unwrap()), now)
}

fn advance(now: &fake::Clock, by: Duration) -> DateTime<Utc> {
    let mut now = now.lock().unwrap();
    *now += by;
    *now
}

fn gbp_source(fake: &Fake, clock: &earshot::net::Clock) -> Arc<GoogleReviews> {
    let settings = google_reviews::Settings {
        account: fake::ACCOUNT.into(),
        location: fake::LOCATION.into(),
        oauth: OAuth {
            client_id: fake::CLIENT_ID.into(),
            client_secret: Secret::new(fake::CLIENT_SECRET),
            refresh_token: Secret::new(fake::REFRESH_TOKEN),
            token_url: fake.token_url(),
        },
        api_url: fake.url.clone(),
    };
    Arc::new(
        GoogleReviews::new(
            "google-reviews".into(),
            settings,
            StdDuration::from_secs(900),
            reqwest::Client::new(),
        )
        .with_clock(clock.clone()),
    )
}

/// A service-account key file of the documented shape, for the test key.
fn key_file(token_uri: &str) -> String {
    key_file_with(token_uri, PRIVATE_KEY)
}

fn key_file_with(token_uri: &str, private_key: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "acme-play",
        "private_key_id": fake::KEY_ID,
        "private_key": private_key,
        "client_email": fake::SERVICE_EMAIL,
        "client_id": "109876543210987654321",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/earshot%40acme-play.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"
    })
    .to_string()
}

fn play_source(fake: &Fake, clock: &earshot::net::Clock) -> Arc<GooglePlay> {
    let settings = google_play::Settings {
        package: fake::PACKAGE.into(),
        account: ServiceAccount::from_json(&key_file(&fake.token_url())).unwrap(),
        key_file: "play-service-account.json".into(),
        api_url: fake.url.clone(),
        token_url: None,
    };
    Arc::new(
        GooglePlay::new(
            "google-play".into(),
            settings,
            StdDuration::from_secs(1800),
            reqwest::Client::new(),
        )
        .with_clock(clock.clone()),
    )
}

struct Desk2 {
    store: Store,
    source: Arc<dyn Source>,
    cards: Arc<Cards>,
    outbox: Outbox,
    desk: Desk,
    now: fake::Clock,
}

impl Desk2 {
    fn new(store: Store, source: Arc<dyn Source>, now: &fake::Clock) -> Desk2 {
        let cards = Arc::new(Cards::default());
        let outbox = Outbox::new(
            store.clone(),
            vec![cards.clone()],
            vec![source.clone()],
            Arc::new(Notify::new()),
        );
        let desk = Desk::new(store.clone(), "/mentions".into(), Arc::new(Notify::new()));
        Desk2 {
            store,
            source,
            cards,
            outbox,
            desk,
            now: now.clone(),
        }
    }

    async fn poll(&self) -> usize {
        poll(&self.store, self.source.as_ref(), &rules()).await
    }

    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap()
    }

    /// Delivers what is due, retries included (their backoff passed).
    async fn drain(&self) {
        let later = self.now() + Duration::hours(2);
        while self.outbox.drain(later).await.unwrap().delivered > 0 {}
    }

    async fn say(&self, text: &str) -> String {
        let member = Member::new("jane", "jane");
        let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
        self.desk
            .handle(&Caller::new(member, "shell"), text, &resolve, self.now())
            .await
            .text
    }

    fn cards(&self) -> Vec<String> {
        self.cards.log()
    }

    fn problem(&self) -> Option<String> {
        self.store
            .source_health(self.source.name())
            .unwrap()
            .problem(self.source.name(), self.now())
    }

    fn digest(&self) -> String {
        Digester::text(&self.store, chrono_tz::UTC, self.now()).unwrap()
    }
}

fn list_lines(listing: &str) -> Vec<String> {
    listing.lines().skip(1).map(str::to_string).collect()
}

mod business_profile {
    use super::*;

    fn lists(fake: &Fake) -> Vec<std::collections::HashMap<String, String>> {
        let path = format!("/v4/{}/{}/reviews", fake::ACCOUNT, fake::LOCATION);
        fake.with(|google| {
            google
                .requests
                .iter()
                .filter(|(method, p, _)| method == "GET" && *p == path)
                .map(|(_, _, query)| query.clone())
                .collect()
        })
    }

    #[tokio::test]
    async fn reviews_are_relayed_once_across_restarts_with_their_stars_low_ones_first() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            google.gbp = vec![
                gbp_review("r3", "FIVE", "Lovely flat white", t0 - Duration::hours(1)),
                gbp_review(
                    "r2",
                    "ONE",
                    "Cold coffee and a rude barista",
                    t0 - Duration::hours(2),
                ),
                gbp_review("r1", "THREE", "", t0 - Duration::hours(3)),
                gbp_review("r0", "FOUR", "Old news", t0 - Duration::days(30)),
            ]
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        {
            let desk = Desk2::new(
                Store::open(&path, vec!["fake".into()]).unwrap(),
                gbp_source(&fake, &clock),
                &now,
            );
            assert_eq!(
                desk.poll().await,
                3,
                "the last week's reviews, no keyword needed"
            );
            let queries = lists(&fake);
            assert_eq!(
                queries.len(),
                2,
                "two pages of two, down to a review older than the week"
            );
            assert_eq!(
                queries[0].get("orderBy").map(String::as_str),
                Some("updateTime desc")
            );
            assert_eq!(queries[0].get("pageSize").map(String::as_str), Some("50"));
            assert_eq!(
                queries[1].get("pageToken").map(String::as_str),
                Some("at-2")
            );
            assert_eq!(desk.poll().await, 0, "a re-read is no news");
            desk.drain().await;
            let cards = desk.cards();
            assert_eq!(cards.len(), 3, "{cards:#?}");
            let one = cards
                .iter()
                .find(|card| card.contains("Cold coffee"))
                .unwrap();
            assert!(one.contains("★☆☆☆☆ 1/5"), "{one}");
            assert!(one.contains("Reviewer r2"), "{one}");
            assert!(one.contains("likely complaint: 1★ review"), "{one}");
            let bare = cards
                .iter()
                .find(|card| card.contains("★★★☆☆ 3/5"))
                .unwrap();
            assert!(bare.contains("(no text)"), "{bare}");

            let list = list_lines(&desk.say("list").await);
            assert!(list[0].contains("★☆☆☆☆ 1/5 · Cold coffee"), "{list:#?}");
        }
        // A restart, and a new review since.
        let t1 = advance(&now, Duration::minutes(15));
        fake.with(|google| {
            google.gbp.insert(
                0,
                gbp_review("r4", "TWO", "Slow service", t1 - Duration::minutes(5)),
            );
            google.requests.clear();
        });
        let desk = Desk2::new(
            Store::open(&path, vec!["fake".into()]).unwrap(),
            gbp_source(&fake, &clock),
            &now,
        );
        assert_eq!(desk.poll().await, 1, "only the new review after a restart");
        assert_eq!(
            lists(&fake).len(),
            2,
            "the walk stops at the first page older than the last poll's newest change (less the overlap), not at the end"
        );
        assert_eq!(desk.store.count().unwrap(), 4);
        let tokens = fake.with(|google| google.token_requests.clone());
        assert_eq!(
            tokens.len(),
            2,
            "one token per process, cached between polls"
        );
        assert_eq!(
            tokens[0].get("grant_type").map(String::as_str),
            Some("refresh_token")
        );
    }

    #[tokio::test]
    async fn answers_are_upserts_and_an_edit_reopens_the_answered_review() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            google.gbp = vec![gbp_review(
                "r1",
                "TWO",
                "Lids leak",
                t0 - Duration::hours(1),
            )]
        });
        let desk = Desk2::new(
            Store::temporary(vec!["fake".into()]).unwrap(),
            gbp_source(&fake, &clock),
            &now,
        );
        assert_eq!(desk.poll().await, 1);
        desk.say("claim 1").await;
        let queued = desk.say("answer 1 Sorry! New lids ship next week.").await;
        assert!(
            queued.contains("queued for Google Business Profile"),
            "{queued}"
        );
        // The reply lands, but its response is lost: the outbox sends it again.
        fake.with(|google| google.lose_next_reply = true);
        desk.drain().await;
        advance(&now, Duration::minutes(2));
        desk.drain().await;
        let calls = fake.with(|google| google.reply_calls.clone());
        assert_eq!(
            calls,
            vec![
                (
                    "r1".to_string(),
                    "Sorry! New lids ship next week.".to_string()
                );
                2
            ],
            "the same reply sent twice to the upsert"
        );
        let shown = fake.with(|google| google.gbp[0]["reviewReply"].clone());
        assert_eq!(
            shown["comment"], "Sorry! New lids ship next week.",
            "one reply under the review"
        );
        assert!(matches!(
            desk.store.mention(1).unwrap().state,
            State::Answered { .. }
        ));
        assert_eq!(desk.poll().await, 0, "its own reply read back is no news");

        // The reviewer edits: new stars, new text, a newer updateTime.
        let t1 = advance(&now, Duration::hours(1));
        fake.with(|google| {
            google.gbp[0]["starRating"] = json!("FOUR");
            google.gbp[0]["comment"] = json!("New lids are fine now");
            google.gbp[0]["updateTime"] = json!(stamp(t1 - Duration::minutes(1)));
        });
        assert_eq!(desk.poll().await, 1);
        let tracked = desk.store.mention(1).unwrap();
        assert_eq!(tracked.state, State::Open, "reopened for the new text");
        assert_eq!(tracked.mention.text, "New lids are fine now");
        assert_eq!(
            desk.store.history(1).unwrap().last().unwrap().summary(),
            "reopened by earshot: edited: 2★ → 4★, new text"
        );
        desk.drain().await;
        let update = desk.cards().last().cloned().unwrap();
        assert!(
            update.starts_with("update #1: reopened by earshot: edited: 2★ → 4★"),
            "{update}"
        );
        assert!(update.contains("★★★★☆ 4/5"), "{update}");
        let reopened = desk.say("answer 1 Glad to hear it!").await;
        assert!(
            reopened.contains("“Sorry! New lids ship next week.”"),
            "the answer says which reply it replaces: {reopened}"
        );
        desk.drain().await;
        let shown = fake.with(|google| google.gbp[0]["reviewReply"]["comment"].clone());
        assert_eq!(shown, "Glad to hear it!");
    }

    #[tokio::test]
    async fn an_outside_reply_answers_the_review_and_is_shown_before_replacing() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            let mut replied = gbp_review("r1", "ONE", "Broken cup", t0 - Duration::hours(2));
            replied["reviewReply"] = json!({"comment": "Call us, we will replace it", "updateTime": stamp(t0 - Duration::hours(1))});
            google.gbp = vec![
                gbp_review("r2", "TWO", "Slow", t0 - Duration::minutes(30)),
                replied,
            ];
        });
        let source = gbp_source(&fake, &clock);
        let desk = Desk2::new(
            Store::temporary(vec!["fake".into()]).unwrap(),
            source.clone(),
            &now,
        );
        desk.poll().await;
        let number = |id: &str| {
            desk.store
                .list(ListFilter::All, Member::new("x", "x"))
                .unwrap()
                .into_iter()
                .find(|tracked| tracked.mention.key.id == id)
                .unwrap()
                .number
        };
        let (broken, slow) = (number("r1"), number("r2"));
        assert!(matches!(
            desk.store.mention(broken).unwrap().state,
            State::Answered { .. }
        ));
        let note = desk
            .store
            .history(broken)
            .unwrap()
            .last()
            .unwrap()
            .summary();
        assert!(
            note.contains("answered outside earshot: reply on Google Business Profile: “Call us, we will replace it”"),
            "{note}"
        );
        let refused = desk
            .say(&format!("answer {broken} New cup on its way"))
            .await;
        assert!(refused.contains(&format!("reopen {broken}")), "{refused}");
        let reopened = desk.say(&format!("reopen {broken}")).await;
        assert!(
            reopened.contains("It replaces the reply on Google Business Profile now: “Call us, we will replace it”"),
            "{reopened}"
        );
        desk.say(&format!("answer {broken} New cup on its way"))
            .await;
        desk.drain().await;
        let shown = fake.with(|google| google.gbp[1]["reviewReply"]["comment"].clone());
        assert_eq!(shown, "New cup on its way");

        // A reply made in the Google app to a review still owed is found by reviews.get.
        fake.with(|google| {
            google.gbp[0]["reviewReply"] =
                json!({"comment": "Sorry for the wait", "updateTime": stamp(t0)})
        });
        let mention = desk.store.mention(slow).unwrap().mention;
        assert_eq!(
            source.answered_by_brand(&mention).await.unwrap().as_deref(),
            Some("reply on Google Business Profile: “Sorry for the wait”")
        );
    }

    #[tokio::test]
    async fn expired_tokens_are_renewed_and_invalid_grant_tells_the_operator_what_to_renew() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            google.gbp = vec![gbp_review("r1", "FIVE", "Great", t0 - Duration::hours(1))]
        });
        let desk = Desk2::new(
            Store::temporary(vec!["fake".into()]).unwrap(),
            gbp_source(&fake, &clock),
            &now,
        );
        desk.poll().await;
        // Two hours on, the cached token has lapsed: a new one is fetched before the request.
        advance(&now, Duration::hours(2));
        desk.poll().await;
        assert_eq!(
            fake.with(|google| (google.token_requests.len(), google.refused_tokens)),
            (2, 0)
        );
        // Google revokes the access token early: the 401 renews it once and the poll goes on.
        fake.with(|google| google.tokens.clear());
        desk.poll().await;
        assert_eq!(
            fake.with(|google| (google.token_requests.len(), google.refused_tokens)),
            (3, 1)
        );
        assert_eq!(desk.problem(), None);

        // The refresh token dies (a consent screen in "Testing" after 7 days).
        fake.with(|google| {
            google.tokens.clear();
            google.refresh_revoked = true;
        });
        assert_eq!(desk.poll().await, 0);
        let problem = desk
            .problem()
            .expect("the failure is in the source's health");
        for words in [
            "invalid_grant: Token has been expired or revoked.",
            "renew `refresh_token`",
            "https://www.googleapis.com/auth/business.manage",
            "\"Testing\"",
            "7 days",
        ] {
            assert!(problem.contains(words), "{words}: {problem}");
        }
        assert!(
            desk.digest().contains("renew `refresh_token`"),
            "{}",
            desk.digest()
        );
    }
}

mod play {
    use super::*;

    fn lists(fake: &Fake) -> usize {
        let path = format!(
            "/androidpublisher/v3/applications/{}/reviews",
            fake::PACKAGE
        );
        fake.with(|google| {
            google
                .requests
                .iter()
                .filter(|(method, p, _)| method == "GET" && *p == path)
                .count()
        })
    }

    fn with_developer_reply(mut review: Value, text: &str, at: DateTime<Utc>) -> Value {
        review["comments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"developerComment": {
            "text": text, "lastModified": {"seconds": at.timestamp().to_string(), "nanos": 0}}}));
        review
    }

    #[tokio::test]
    async fn reviews_are_relayed_once_across_restarts_with_a_verified_service_account_jwt() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            google.play = vec![
                play_review("p3", 5, "Love it", t0 - Duration::hours(1)),
                play_review("p2", 1, "Crashes on start", t0 - Duration::hours(2)),
                play_review("p1", 3, "Okay I guess", t0 - Duration::hours(3)),
            ]
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        {
            let source = play_source(&fake, &clock);
            let desk = Desk2::new(
                Store::open(&path, vec!["fake".into()]).unwrap(),
                source.clone(),
                &now,
            );
            assert_eq!(desk.poll().await, 3);
            assert_eq!(lists(&fake), 2, "the week, a page at a time");
            assert_eq!(
                source.reads_this_hour(),
                2,
                "pages count against the read quota"
            );
            let tokens = fake.with(|google| google.token_requests.clone());
            assert_eq!(tokens.len(), 1);
            assert_eq!(
                tokens[0].get("grant_type").map(String::as_str),
                Some("urn:ietf:params:oauth:grant-type:jwt-bearer"),
                "the fake verified the RS256 assertion with the key's public half"
            );
            assert_eq!(fake.with(|google| google.refused_tokens), 0);
            assert_eq!(desk.poll().await, 0, "a re-read is no news");
            desk.drain().await;
            let cards = desk.cards();
            let one = cards
                .iter()
                .find(|card| card.contains("Crashes on start"))
                .unwrap();
            assert!(one.contains("★☆☆☆☆ 1/5 · com.acme.app · v2.3.1"), "{one}");
            assert!(one.contains("Player p2"), "{one}");
            assert!(
                one.contains(
                    "https://play.google.com/store/apps/details?id=com.acme.app&reviewId=p2"
                ),
                "{one}"
            );
            let list = list_lines(&desk.say("list").await);
            assert!(
                list[0].contains("★☆☆☆☆ 1/5 · Crashes on start"),
                "{list:#?}"
            );
        }
        let t1 = advance(&now, Duration::minutes(30));
        fake.with(|google| {
            google.play.insert(
                0,
                play_review("p4", 2, "Too many ads", t1 - Duration::minutes(10)),
            )
        });
        let desk = Desk2::new(
            Store::open(&path, vec!["fake".into()]).unwrap(),
            play_source(&fake, &clock),
            &now,
        );
        assert_eq!(desk.poll().await, 1, "only the new review after a restart");
        assert_eq!(desk.store.count().unwrap(), 4);
    }

    #[tokio::test]
    async fn an_outside_reply_is_shown_then_replaced_once_and_an_edit_reopens() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            google.play = vec![with_developer_reply(
                play_review("p1", 1, "Crashes on start", t0 - Duration::hours(3)),
                "Fixed in 2.3.2, sorry!",
                t0 - Duration::hours(2),
            )]
        });
        let desk = Desk2::new(
            Store::temporary(vec!["fake".into()]).unwrap(),
            play_source(&fake, &clock),
            &now,
        );
        assert_eq!(
            desk.poll().await,
            2,
            "new, and answered by the reply already there"
        );
        assert!(matches!(
            desk.store.mention(1).unwrap().state,
            State::Answered { .. }
        ));
        let show = desk.say("show 1").await;
        assert!(
            show.contains("Reply on Google Play now: Fixed in 2.3.2, sorry!"),
            "{show}"
        );
        let reopened = desk.say("reopen 1").await;
        assert!(
            reopened.contains("It replaces the reply on Google Play now: “Fixed in 2.3.2, sorry!”"),
            "{reopened}"
        );
        let too_long = desk.say(&format!("answer 1 {}", "a".repeat(351))).await;
        assert!(too_long.contains("350"), "{too_long}");
        desk.say("answer 1 Fixed for good in 2.4").await;
        fake.with(|google| google.lose_next_reply = true);
        desk.drain().await;
        advance(&now, Duration::minutes(2));
        desk.drain().await;
        let (calls, comments) = fake.with(|google| {
            (
                google.reply_calls.clone(),
                google.play[0]["comments"].clone(),
            )
        });
        assert_eq!(calls.len(), 2, "sent again after the lost response");
        let replies: Vec<&Value> = comments
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|comment| comment.get("developerComment"))
            .collect();
        assert_eq!(replies.len(), 1, "one reply under the review: {comments}");
        assert_eq!(replies[0]["text"], "Fixed for good in 2.4");
        assert!(matches!(
            desk.store.mention(1).unwrap().state,
            State::Answered { .. }
        ));
        assert_eq!(desk.poll().await, 0, "its own reply read back is no news");

        let t1 = advance(&now, Duration::hours(1));
        fake.with(|google| {
            let user = &mut google.play[0]["comments"][0]["userComment"];
            user["starRating"] = json!(4);
            user["text"] = json!("\tWorks now");
            user["lastModified"] = json!({"seconds": t1.timestamp().to_string(), "nanos": 0});
        });
        assert_eq!(desk.poll().await, 1);
        assert_eq!(desk.store.mention(1).unwrap().state, State::Open);
        assert_eq!(
            desk.store.history(1).unwrap().last().unwrap().summary(),
            "reopened by earshot: edited: 1★ → 4★, new text"
        );
    }

    #[tokio::test]
    async fn a_source_that_could_not_read_for_over_a_week_says_reviews_may_have_been_missed() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            google.play = vec![play_review("p1", 4, "Nice", t0 - Duration::hours(1))]
        });
        let desk = Desk2::new(
            Store::temporary(vec!["fake".into()]).unwrap(),
            play_source(&fake, &clock),
            &now,
        );
        desk.poll().await;
        assert_eq!(desk.problem(), None);

        // Six days of failing polls are failures, not yet a gap.
        advance(&now, Duration::days(6));
        fake.with(|google| google.next_list_error = Some((500, json!({"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}))));
        assert_eq!(desk.poll().await, 0);
        assert!(
            desk.problem().unwrap().contains("INTERNAL"),
            "{:?}",
            desk.problem()
        );

        // Nine days after the last read, Play lists only the last week.
        let t9 = advance(&now, Duration::days(3));
        fake.with(|google| {
            google.play = vec![play_review(
                "p9",
                1,
                "Still broken",
                t9 - Duration::hours(2),
            )]
        });
        assert_eq!(desk.poll().await, 1, "what the week still holds is relayed");
        let problem = desk.problem().expect("flagged in the source's health");
        assert!(
            problem.contains("reviews may have been missed"),
            "{problem}"
        );
        assert!(problem.contains("(9 days 0 h)"), "{problem}");
        assert!(
            problem.contains("longer than the 7 days 0 h Google Play keeps them"),
            "{problem}"
        );
        advance(&now, Duration::minutes(30));
        desk.poll().await;
        assert!(
            desk.digest().contains("reviews may have been missed"),
            "still in the next digest: {}",
            desk.digest()
        );
        advance(&now, Duration::hours(49));
        desk.poll().await;
        assert_eq!(desk.problem(), None, "reported for two days, then gone");
        let tokens = fake.with(|google| google.token_requests.len());
        assert!(
            tokens >= 3,
            "the assertion is signed again when the token lapses: {tokens}"
        );
    }

    #[tokio::test]
    async fn expired_tokens_are_renewed_and_a_refused_key_reaches_the_operator() {
        let (clock, now) = clock();
        let fake = Fake::start(now.clone(), PUBLIC_KEY.as_bytes()).await;
        let t0 = *now.lock().unwrap();
        fake.with(|google| {
            google.play = vec![play_review("p1", 4, "Nice", t0 - Duration::hours(1))]
        });
        let desk = Desk2::new(
            Store::temporary(vec!["fake".into()]).unwrap(),
            play_source(&fake, &clock),
            &now,
        );
        desk.poll().await;
        advance(&now, Duration::minutes(59) + Duration::seconds(30));
        desk.poll().await;
        assert_eq!(
            fake.with(|google| (google.token_requests.len(), google.refused_tokens)),
            (2, 0),
            "renewed before it lapses"
        );
        fake.with(|google| google.tokens.clear());
        desk.poll().await;
        assert_eq!(
            fake.with(|google| (google.token_requests.len(), google.refused_tokens)),
            (3, 1)
        );
        assert_eq!(desk.problem(), None);

        // An assertion signed with another key fails the fake's signature check.
        let mut settings = google_play::Settings {
            package: fake::PACKAGE.into(),
            account: ServiceAccount::from_json(&key_file_with(&fake.token_url(), OTHER_KEY))
                .unwrap(),
            key_file: "other.json".into(),
            api_url: fake.url.clone(),
            token_url: None,
        };
        let forged = GooglePlay::new(
            "forged".into(),
            settings.clone(),
            StdDuration::from_secs(1800),
            reqwest::Client::new(),
        )
        .with_clock(clock.clone());
        let error = forged.fetch(&Default::default()).await.unwrap_err();
        assert!(
            error.to_string().contains("Invalid JWT Signature ("),
            "{error}"
        );
        // `token_url` overrides the file's `token_uri`; the audience stays the file's.
        settings.account = ServiceAccount::from_json(&key_file(&fake.token_url())).unwrap();
        settings.token_url = Some(format!("{}/proxy/token", fake.url));
        let proxied = GooglePlay::new(
            "proxied".into(),
            settings,
            StdDuration::from_secs(1800),
            reqwest::Client::new(),
        )
        .with_clock(clock.clone());
        proxied.fetch(&Default::default()).await.unwrap();
        assert_eq!(
            fake.with(|google| google.token_paths.last().cloned())
                .as_deref(),
            Some("/proxy/token")
        );

        fake.with(|google| {
            google.tokens.clear();
            google.key_revoked = true;
        });
        assert_eq!(desk.poll().await, 0);
        let problem = desk.problem().unwrap();
        assert!(
            problem.contains("invalid_grant: Invalid JWT Signature."),
            "{problem}"
        );
        assert!(problem.contains(fake::SERVICE_EMAIL), "{problem}");
        assert!(problem.contains("create a new JSON key"), "{problem}");
    }
}

mod config {
    use super::*;
    use earshot::config::Config;

    const BASE: &str = "[store]\npath = \"data\"\n\n[chat.shell]\nuser = \"you\"\n\n[rules]\nkeywords = [\"acme\"]\n";

    #[test]
    fn both_sections_are_read_with_the_key_file_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        std::fs::write(
            dir.path().join("keys/play.json"),
            key_file("https://oauth2.googleapis.com/token"),
        )
        .unwrap();
        let text = format!(
            "{BASE}\n[[sources]]\nkind = \"google-reviews\"\naccount = \"accounts/1234567890\"\nlocation = \"9876543210\"\nclient_id = \"cid\"\nclient_secret = \"cs\"\nrefresh_token = \"rt\"\n\n[[sources]]\nkind = \"google-play\"\npackage = \"com.acme.app\"\nservice_account = \"keys/play.json\"\ntoken_url = \"http://127.0.0.1:9/token\"\n"
        );
        let config = Config::parse(&dir.path().join("earshot.toml"), &text).unwrap();
        let gbp = config.sources[0]
            .spec
            .settings::<google_reviews::Settings>()
            .unwrap();
        assert_eq!(config.sources[0].name, "google-reviews");
        assert_eq!(config.sources[0].every, StdDuration::from_secs(15 * 60));
        assert_eq!(gbp.location, "locations/9876543210");
        assert_eq!(gbp.api_url, google_reviews::DEFAULT_API_URL);
        assert_eq!(gbp.oauth.token_url, "https://oauth2.googleapis.com/token");
        let play = config.sources[1]
            .spec
            .settings::<google_play::Settings>()
            .unwrap();
        assert_eq!(config.sources[1].every, StdDuration::from_secs(30 * 60));
        assert_eq!(play.account.client_email, fake::SERVICE_EMAIL);
        assert_eq!(
            play.account.token_uri,
            "https://oauth2.googleapis.com/token"
        );
        assert_eq!(play.token_url.as_deref(), Some("http://127.0.0.1:9/token"));
        assert!(
            !format!("{play:?}").contains("PRIVATE KEY"),
            "the key never reaches Debug"
        );
    }

    #[test]
    fn mistakes_name_the_key_and_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("oauth.json"),
            r#"{"installed": {"client_id": "x"}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("user.json"),
            r#"{"type": "authorized_user"}"#,
        )
        .unwrap();
        let parse = |section: &str| {
            Config::parse(
                &dir.path().join("earshot.toml"),
                &format!("{BASE}\n[[sources]]\n{section}"),
            )
            .unwrap_err()
            .to_string()
        };
        let play = |file: &str| {
            parse(&format!("kind = \"google-play\"\npackage = \"com.acme.app\"\nservice_account = \"{file}\"\n"))
        };
        let missing = play("nope.json");
        assert!(
            missing.contains("service_account")
                && missing.contains("cannot read the service account's key file"),
            "{missing}"
        );
        assert!(
            play("oauth.json").contains("has no \"type\""),
            "{}",
            play("oauth.json")
        );
        assert!(
            play("user.json").contains("is a `authorized_user` credential"),
            "{}",
            play("user.json")
        );
        let package =
            parse("kind = \"google-play\"\npackage = \"acme\"\nservice_account = \"x.json\"\n");
        assert!(package.contains("not an Android package name"), "{package}");
        let account = parse("kind = \"google-reviews\"\naccount = \"acme\"\nlocation = \"locations/1\"\nclient_id = \"c\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n");
        assert!(
            account.contains("`account`") || account.contains("account"),
            "{account}"
        );
        assert!(
            account.contains("expected \"accounts/\" and digits"),
            "{account}"
        );
        let token = parse("kind = \"google-reviews\"\naccount = \"accounts/1\"\nlocation = \"locations/1\"\nclient_id = \"c\"\nclient_secret = \"s\"\n");
        assert!(token.contains("needs `refresh_token`"), "{token}");
    }
}
