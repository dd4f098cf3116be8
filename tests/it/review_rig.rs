//! What the review-network tests share (`reviews.rs`, `google/`, `app_store/`, `trustpilot/`):
//! the brand's rules, and the store, outbox and desk around one real source, with the harness's
//! chat logging whole cards.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use earshot::app::poll;
use earshot::desk::{Caller, Desk};
use earshot::domain::{Member, MemberRef};
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::Source;
use earshot::store::Store;
use tokio::sync::Notify;

use crate::harness::fake_chat::FakeChat;

/// The rules of a brand whose reviews never name it: no keyword of "acme" in any of them.
pub fn rules() -> Rules {
    Rules::new(&["acme".into()], &["vacature".into()], &[])
}

pub struct Rig<S: Source + 'static> {
    pub store: Store,
    pub source: Arc<S>,
    pub cards: Arc<FakeChat>,
    outbox: Outbox,
    desk: Desk,
}

impl<S: Source + 'static> Rig<S> {
    pub fn new(store: Store, source: S) -> Rig<S> {
        let source = Arc::new(source);
        let cards = Arc::new(FakeChat::rendering());
        let outbox = Outbox::new(
            store.clone(),
            vec![cards.clone()],
            vec![source.clone()],
            Arc::new(Notify::new()),
        );
        let desk = Desk::new(store.clone(), "/mentions".into(), Arc::new(Notify::new()));
        Rig {
            store,
            source,
            cards,
            outbox,
            desk,
        }
    }

    pub async fn poll(&self) -> usize {
        poll(&self.store, self.source.as_ref(), &rules()).await
    }

    /// Delivers what is due at `now` until nothing more goes out.
    pub async fn drain_at(&self, now: DateTime<Utc>) {
        while self.outbox.drain(now).await.unwrap().delivered > 0 {}
    }

    pub async fn drain(&self) {
        self.drain_at(Utc::now()).await
    }

    pub async fn say(&self, who: &str, text: &str) -> String {
        let member = Member::new(who, who);
        let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
        self.desk
            .handle(&Caller::new(member, "shell"), text, &resolve, Utc::now())
            .await
            .text
    }

    pub fn cards(&self) -> Vec<String> {
        self.cards.log()
    }

    /// Why the source's polls are failing, as `earshot status` and the digest report it;
    /// `None` once a poll worked again.
    pub fn last_error(&self) -> Option<String> {
        let health = self.store.source_health(self.source.name()).unwrap();
        health.last_error.filter(|_| health.failures > 0)
    }
}
