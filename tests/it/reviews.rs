//! Reviews through the whole core, with a fake review network that serves its latest page on
//! every poll (as the review APIs do: newest first, re-read each time): relayed once with their
//! stars, low ratings first, edits and outside replies revised in place, answers that replace.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use earshot::app::poll;
use earshot::desk::{Caller, Desk};
use earshot::digest::Digester;
use earshot::domain::{
    Action, Author, BusinessReply, Cursor, Member, MemberRef, Mention, MentionKey, Network, Rating,
    Refusal, Review, State, Status, Tracked,
};
use earshot::outbox::Outbox;
use earshot::sources::{Fetched, Posted, Source, SourceError};
use earshot::store::{Store, StoreError};
use tokio::sync::Notify;

use crate::review_rig::{rules, Cards};

/// Google Play as the tests script it: the reviews it shows now, and the replies posted to it.
struct FakePlay {
    network: Network,
    page: Mutex<Vec<Mention>>,
    replies: Mutex<Vec<(String, String)>>,
}

impl FakePlay {
    fn new(network: Network) -> Arc<FakePlay> {
        Arc::new(FakePlay {
            network,
            page: Mutex::new(Vec::new()),
            replies: Mutex::new(Vec::new()),
        })
    }

    fn show(&self, reviews: Vec<Mention>) {
        *self.page.lock().unwrap() = reviews;
    }

    fn replies(&self) -> Vec<(String, String)> {
        self.replies.lock().unwrap().clone()
    }
}

#[async_trait]
impl Source for FakePlay {
    fn name(&self) -> &str {
        "play"
    }

    fn network(&self) -> Network {
        self.network
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn addressed_to_brand(&self) -> bool {
        true
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        Ok(Fetched {
            problems: Vec::new(),
            mentions: self.page.lock().unwrap().clone(),
            cursor: cursor.clone(),
        })
    }

    /// An upsert, as Play's `reviews/{id}:reply` is: a second reply replaces the first.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        _key: &str,
    ) -> Result<Posted, SourceError> {
        let mut replies = self.replies.lock().unwrap();
        replies.retain(|(id, _)| id != &mention.key.id);
        replies.push((mention.key.id.clone(), text.to_string()));
        Ok(Posted {
            link: Some(format!("https://play.example/reviews/{}", mention.key.id)),
            id: None,
        })
    }
}

fn review(id: &str, stars: u8, text: &str) -> Mention {
    let mut found = Review::new(Rating::new(stars).unwrap());
    found.place = Some("Acme Coffee".into());
    found.version = Some("2.3.1".into());
    Mention {
        key: MentionKey::new("play", id),
        network: earshot::sources::google_play::TRAITS.network(),
        author: Author {
            handle: String::new(),
            name: Some(format!("Reviewer {id}")),
            profile: None,
        },
        text: text.into(),
        link: None,
        created_at: DateTime::UNIX_EPOCH,
        matched: vec![],
        language: Some("en".into()),
        in_reply_to: None,
        direct: false,
        review: Some(found),
    }
}

fn with_reply(mut mention: Mention, text: &str) -> Mention {
    if let Some(found) = mention.review.as_mut() {
        found.reply = Some(BusinessReply {
            text: text.into(),
            at: None,
        });
    }
    mention
}

struct Rig {
    store: Store,
    play: Arc<FakePlay>,
    chat: Arc<Cards>,
    outbox: Outbox,
    desk: Desk,
}

fn rig(store: Store, network: Network) -> Rig {
    let play = FakePlay::new(network);
    let chat = Arc::new(Cards::default());
    let outbox = Outbox::new(
        store.clone(),
        vec![chat.clone()],
        vec![play.clone()],
        Arc::new(Notify::new()),
    );
    let desk = Desk::new(store.clone(), "/mentions".into(), Arc::new(Notify::new()));
    Rig {
        store,
        play,
        chat,
        outbox,
        desk,
    }
}

impl Rig {
    async fn poll(&self) -> usize {
        poll(&self.store, self.play.as_ref(), &rules()).await
    }

    async fn drain(&self) {
        while self.outbox.drain(Utc::now()).await.unwrap().delivered > 0 {}
    }

    async fn say(&self, who: &str, text: &str) -> String {
        let member = Member::new(who, who);
        let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
        self.desk
            .handle(&Caller::new(member, "shell"), text, &resolve, Utc::now())
            .await
            .text
    }

    fn log(&self) -> Vec<String> {
        self.chat.log()
    }
}

#[tokio::test]
async fn reviews_are_relayed_once_across_restarts_with_their_stars() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let rig = rig(
            Store::open(&path, vec!["fake".into()]).unwrap(),
            earshot::sources::google_play::TRAITS.network(),
        );
        rig.play.show(vec![
            review("r1", 1, "Crashes on start"),
            review("r2", 5, ""),
            review("r3", 4, "vacature: we're hiring"),
        ]);
        assert_eq!(
            rig.poll().await,
            2,
            "no keyword needed; exclude still applies"
        );
        assert_eq!(rig.poll().await, 0, "a re-read is no news");
        rig.drain().await;
        let cards = rig.log();
        assert_eq!(cards.len(), 2, "{cards:#?}");
        assert!(
            cards[0].contains("★☆☆☆☆ 1/5 · Acme Coffee · v2.3.1"),
            "{}",
            cards[0]
        );
        assert!(cards[0].contains("Reviewer r1"), "{}", cards[0]);
        assert!(cards[0].contains("Crashes on start"), "{}", cards[0]);
        assert!(cards[0].contains("matched: review"), "{}", cards[0]);
        assert!(
            cards[0].contains("likely complaint: 1★ review"),
            "{}",
            cards[0]
        );
        assert!(cards[1].contains("★★★★★ 5/5"), "{}", cards[1]);
        assert!(cards[1].contains("(no text)"), "{}", cards[1]);
        assert!(!cards[1].contains("likely complaint"), "{}", cards[1]);
    }
    let rig = rig(
        Store::open(&path, vec!["fake".into()]).unwrap(),
        earshot::sources::google_play::TRAITS.network(),
    );
    rig.play.show(vec![
        review("r4", 3, "Fine"),
        review("r1", 1, "Crashes on start"),
        review("r2", 5, ""),
    ]);
    assert_eq!(rig.poll().await, 1, "only the new review after a restart");
    assert_eq!(rig.store.count().unwrap(), 3);
    let stored = rig.store.mention(1).unwrap();
    assert_eq!(stored.mention.review.unwrap().rating.stars(), 1);
    let show = rig.say("jane", "show 2").await;
    assert!(show.contains("★★★★★ 5/5 · Acme Coffee · v2.3.1"), "{show}");
    assert!(show.contains("(no text)"), "{show}");
}

#[tokio::test]
async fn a_one_star_review_sorts_first_in_list_and_digest() {
    let rig = rig(
        Store::temporary(vec!["fake".into()]).unwrap(),
        earshot::sources::google_play::TRAITS.network(),
    );
    // A complaint by words alone, found first, so "oldest first" would put it on top.
    let words = Mention {
        network: earshot::sources::mastodon::TRAITS.network(),
        key: MentionKey::new("masto", "m1"),
        text: "acme I want a refund, the lid is broken".into(),
        review: None,
        ..review("m1", 5, "")
    };
    rig.store
        .ingest("masto", &[words], &Cursor::default(), Utc::now())
        .unwrap();
    rig.play
        .show(vec![review("r1", 5, "Lovely"), review("r2", 1, "Meh")]);
    rig.poll().await;

    let list = rig.say("jane", "list").await;
    let lines: Vec<&str> = list.lines().skip(1).collect();
    assert!(lines[0].starts_with("⚠ #3 "), "{list}");
    assert!(lines[0].contains("★☆☆☆☆ 1/5 · Meh"), "{list}");
    assert!(lines[1].starts_with("⚠ #1 "), "{list}");
    assert!(
        lines[2].contains("#2 ") && lines[2].contains("★★★★★ 5/5"),
        "{list}"
    );

    let digest = Digester::text(&rig.store, chrono_tz::UTC, Utc::now()).unwrap();
    let unclaimed: Vec<&str> = digest
        .lines()
        .skip_while(|line| !line.starts_with("Unclaimed"))
        .skip(1)
        .collect();
    assert!(unclaimed[0].contains("#3 · Google Play"), "{digest}");
    assert!(unclaimed[0].contains("1★ review"), "{digest}");
}

#[tokio::test]
async fn an_edited_review_updates_its_card_and_reopens_an_answered_mention() {
    let rig = rig(
        Store::temporary(vec!["fake".into()]).unwrap(),
        earshot::sources::google_play::TRAITS.network(),
    );
    rig.play.show(vec![review("r1", 2, "Lids leak")]);
    rig.poll().await;
    rig.say("jane", "claim 1").await;
    rig.say("jane", "answer 1 Sorry! New lids ship next week.")
        .await;
    rig.drain().await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    // The re-read shows earshot's own reply under the review: no news.
    rig.play.show(vec![with_reply(
        review("r1", 2, "Lids leak"),
        "Sorry! New lids ship next week.",
    )]);
    assert_eq!(rig.poll().await, 0);
    let before = rig.store.history(1).unwrap().len();

    rig.play.show(vec![with_reply(
        review("r1", 4, "New lids are fine now"),
        "Sorry! New lids ship next week.",
    )]);
    assert_eq!(rig.poll().await, 1);
    let tracked = rig.store.mention(1).unwrap();
    assert_eq!(
        tracked.state,
        State::Open,
        "reopened so the new text gets an answer"
    );
    assert_eq!(tracked.mention.text, "New lids are fine now");
    assert!(!tracked.priority.complaint, "4 stars are no complaint");
    let history = rig.store.history(1).unwrap();
    assert_eq!(history.len(), before + 1);
    assert_eq!(
        history.last().unwrap().summary(),
        "reopened by earshot: edited: 2★ → 4★, new text"
    );
    rig.drain().await;
    let update = rig.log().last().cloned().unwrap();
    assert!(
        update.starts_with("update #1: reopened by earshot: edited: 2★ → 4★"),
        "{update}"
    );
    assert!(update.contains("★★★★☆ 4/5"), "{update}");
    assert!(update.contains("New lids are fine now"), "{update}");
    assert!(
        update.contains("reply on Google Play: “Sorry! New lids ship next week.”"),
        "{update}"
    );
    let listed = rig
        .store
        .list_page(
            earshot::domain::ListFilter::Open,
            &Member::new("x", "x"),
            1,
            15,
        )
        .unwrap();
    assert_eq!(listed.total, 1, "the status index moved with the state");

    // An edit to a mention still owed keeps it with its holder.
    rig.say("bob", "claim 1").await;
    rig.play.show(vec![review("r1", 5, "Great now")]);
    assert_eq!(rig.poll().await, 1);
    let tracked = rig.store.mention(1).unwrap();
    assert_eq!(tracked.state.status(), Status::Claimed);
    assert_eq!(
        rig.store.history(1).unwrap().last().unwrap().summary(),
        "edited by earshot: 4★ → 5★, new text"
    );
    assert_eq!(
        tracked.mention.review.unwrap().reply.unwrap().text,
        "Sorry! New lids ship next week.",
        "a read that shows no reply keeps the known one"
    );
}

#[tokio::test]
async fn unchanged_rereads_change_nothing() {
    let rig = rig(
        Store::temporary(vec!["fake".into()]).unwrap(),
        earshot::sources::google_play::TRAITS.network(),
    );
    let page = vec![
        review("r1", 2, "Meh"),
        with_reply(review("r2", 3, "Okay"), "Thanks!"),
    ];
    rig.play.show(page);
    assert_eq!(
        rig.poll().await,
        3,
        "two new, one of them answered by its reply"
    );
    rig.drain().await;
    let stored: Vec<Tracked> = (1..=2).map(|n| rig.store.mention(n).unwrap()).collect();
    let histories: Vec<usize> = (1..=2)
        .map(|n| rig.store.history(n).unwrap().len())
        .collect();
    let cards = rig.log().len();
    for _ in 0..3 {
        assert_eq!(rig.poll().await, 0);
    }
    assert_eq!(rig.store.outbox_len(), 0, "nothing queued");
    rig.drain().await;
    assert_eq!(rig.log().len(), cards);
    for n in 1..=2u64 {
        assert_eq!(rig.store.mention(n).unwrap(), stored[n as usize - 1]);
        assert_eq!(
            rig.store.history(n).unwrap().len(),
            histories[n as usize - 1]
        );
    }
    // A stale read (older than the stored copy by the network's update time) is ignored too.
    let mut fresh = review("r1", 4, "Better");
    fresh.review.as_mut().unwrap().updated_at = DateTime::from_timestamp(2_000, 0);
    rig.play.show(vec![fresh]);
    assert_eq!(rig.poll().await, 1);
    let mut stale = review("r1", 2, "Meh");
    stale.review.as_mut().unwrap().updated_at = DateTime::from_timestamp(1_000, 0);
    rig.play.show(vec![stale]);
    assert_eq!(rig.poll().await, 0);
    assert_eq!(rig.store.mention(1).unwrap().mention.text, "Better");
}

#[tokio::test]
async fn an_outside_reply_answers_the_review_and_is_shown_before_replacing() {
    let rig = rig(
        Store::temporary(vec!["fake".into()]).unwrap(),
        earshot::sources::google_play::TRAITS.network(),
    );
    rig.play.show(vec![
        with_reply(review("r1", 1, "Broken"), "Fixed in 2.4, sorry!"),
        review("r2", 2, "Slow"),
    ]);
    rig.poll().await;
    let tracked = rig.store.mention(1).unwrap();
    assert!(
        matches!(tracked.state, State::Answered { .. }),
        "{tracked:?}"
    );
    let note = rig.store.history(1).unwrap().last().unwrap().summary();
    assert!(
        note.contains("answered outside earshot: reply on Google Play: “Fixed in 2.4, sorry!”"),
        "{note}"
    );
    assert_eq!(rig.store.mention(2).unwrap().state, State::Open);

    let refused = rig.say("jane", "answer 1 Try 2.5").await;
    assert!(refused.contains("reopen 1"), "{refused}");
    let show = rig.say("jane", "show 1").await;
    assert!(
        show.contains("Reply on Google Play now: Fixed in 2.4, sorry!"),
        "{show}"
    );
    let reopened = rig.say("jane", "reopen 1").await;
    assert!(
        reopened.contains("It replaces the reply on Google Play now: “Fixed in 2.4, sorry!”"),
        "{reopened}"
    );
    let answered = rig.say("jane", "answer 1 Fixed for good in 2.5").await;
    assert!(answered.contains("is queued for Google Play"), "{answered}");
    assert!(answered.contains("“Fixed in 2.4, sorry!”"), "{answered}");
    rig.drain().await;
    assert_eq!(
        rig.play.replies(),
        vec![("r1".to_string(), "Fixed for good in 2.5".to_string())]
    );
    let known = rig.store.mention(1).unwrap().mention.review.unwrap().reply;
    assert_eq!(known.unwrap().text, "Fixed for good in 2.5");

    // A reply made on the site to a mention someone holds closes it too.
    rig.say("bob", "claim 2").await;
    rig.play
        .show(vec![with_reply(review("r2", 2, "Slow"), "Faster in 2.5")]);
    assert_eq!(rig.poll().await, 1);
    let tracked = rig.store.mention(2).unwrap();
    assert!(matches!(tracked.state, State::Answered { .. }));
    let mine = rig.say("bob", "list mine").await;
    assert!(mine.contains("You hold no mentions"), "{mine}");
}

#[tokio::test]
async fn answers_are_held_to_each_review_networks_limit() {
    let now = Utc::now();
    let jane = Member::new("jane", "jane");
    for (network, fits, over, unit) in [
        (
            earshot::sources::google_play::TRAITS.network(),
            "a".repeat(350),
            "a".repeat(351),
            "characters",
        ),
        // 2,048 "é" are 4,096 bytes: Google's limit is in bytes.
        (
            earshot::sources::google_reviews::TRAITS.network(),
            "é".repeat(2_048),
            "é".repeat(2_049),
            "bytes",
        ),
        (
            earshot::sources::app_store::TRAITS.network(),
            "a".repeat(5_970),
            "a".repeat(5_971),
            "characters",
        ),
        (
            earshot::sources::trustpilot::TRAITS.network(),
            "a".repeat(2_048),
            "a".repeat(2_049),
            "characters",
        ),
    ] {
        let rig = rig(Store::temporary(vec!["fake".into()]).unwrap(), network);
        let mut found = review("r1", 1, "Bad");
        found.network = network;
        rig.play.show(vec![found]);
        rig.poll().await;
        match rig
            .store
            .apply(1, &jane, &Action::Answer { text: over }, now)
            .await
        {
            Err(StoreError::Refused(refusal @ Refusal::TooLong { .. })) => {
                let said = refusal.to_string();
                assert!(said.contains(&format!("{network} takes at most")), "{said}");
                assert!(said.contains(unit), "{said}");
            }
            other => panic!("{network}: {other:?}"),
        }
        assert_eq!(
            rig.store.outbox_len(),
            1,
            "{network}: only the card is queued"
        );
        rig.store
            .apply(1, &jane, &Action::Answer { text: fits }, now)
            .await
            .unwrap_or_else(|error| panic!("{network}: {error}"));
    }
}
