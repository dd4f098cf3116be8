//! What webhooks push, through the same rules -> store path as a poll: each push goes to the
//! source its hook names, which turns it into mentions under the ids its polls use, so the
//! store's dedup index keeps a push and a poll of one comment to one card. Pushes are stored
//! under their own cursor name (`<source>#webhook`), apart from the polls' position.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::Notify;

use crate::domain::{health, Cursor, Mention};
use crate::rules::Rules;
use crate::sources::{Hook, Push, Source, SourceError};
use crate::store::Store;
use crate::webhooks::Receive;

/// Where a source's pushes are stored: apart from its polls' cursor. Source names are
/// `[A-Za-z0-9_-]`, so this cannot be another source's.
pub fn push_cursor_name(source: &str) -> String {
    format!("{source}#webhook")
}

pub struct Pushes {
    store: Store,
    by_hook: HashMap<Hook, (Arc<dyn Source>, Rules)>,
    wake: Arc<Notify>,
}

impl Pushes {
    /// Takes the pushes addressed to `sources` that have a hook. `wake` tells the outbox that
    /// new mentions await their cards.
    pub fn new(store: Store, sources: &[(Arc<dyn Source>, Rules)], wake: Arc<Notify>) -> Pushes {
        let mut by_hook = HashMap::new();
        for (source, rules) in sources {
            let Some(hook) = source.hooked() else {
                continue;
            };
            // Storm mode reads a first ingest under a cursor as an import (no cards): a push
            // is never one, so the cursor exists from the start.
            let name = push_cursor_name(source.name());
            if let Err(error) = store.save_cursor(&name, &Cursor::default()) {
                tracing::warn!(source = source.name(), %error, "cannot note the webhook's cursor");
            }
            by_hook.insert(hook, (source.clone(), rules.clone()));
        }
        Pushes {
            store,
            by_hook,
            wake,
        }
    }

    /// Whether any source takes pushes.
    pub fn is_empty(&self) -> bool {
        self.by_hook.is_empty()
    }

    async fn mentions_of(&self, source: &dyn Source, push: &Push) -> Result<Vec<Mention>, String> {
        match source.pushed(push).await {
            Ok(mentions) => {
                // A notification read again: a webhook failure reported before is resolved.
                self.note_health(source.name(), Ok(0));
                Ok(mentions)
            }
            Err(SourceError::Retry { reason, .. }) => Err(format!("{}: {reason}", source.name())),
            // Sending it again cannot help (a revoked token, a change earshot cannot read):
            // the operator is told, and the source's health shows it in the digest.
            Err(SourceError::Permanent(reason)) => {
                tracing::error!(source = source.name(), field = %push.field, value = %push.value, %reason, "a pushed change cannot be turned into a mention");
                self.note_health(source.name(), Err(reason));
                Ok(Vec::new())
            }
        }
    }

    /// Kept apart from the polls' health (see [`health::pushed`]), so the next poll's success
    /// does not wipe out a webhook failure; a later notification that is read does.
    fn note_health(&self, source: &str, outcome: Result<usize, String>) {
        let name = health::pushed(source);
        if let Err(error) = self.store.record_poll(&name, outcome, Utc::now()) {
            tracing::warn!(source, %error, "cannot record the webhook's health");
        }
    }
}

#[async_trait]
impl Receive for Pushes {
    async fn receive(&self, pushes: Vec<(Hook, Push)>) -> Result<usize, String> {
        let mut batches: Vec<(&(Arc<dyn Source>, Rules), Vec<Mention>)> = Vec::new();
        let mut failed = Vec::new();
        for (hook, push) in &pushes {
            let Some(target) = self.by_hook.get(hook) else {
                tracing::warn!(object = hook.object, id = %hook.id, field = %push.field, "a Meta webhook for a Page or account no source follows; add its source or unsubscribe it");
                continue;
            };
            match self.mentions_of(target.0.as_ref(), push).await {
                Ok(found) => match batches
                    .iter_mut()
                    .find(|(known, _)| Arc::ptr_eq(&known.0, &target.0))
                {
                    Some((_, mentions)) => mentions.extend(found),
                    None => batches.push((target, found)),
                },
                Err(reason) => failed.push(reason),
            }
        }
        let mut new = 0;
        for ((source, rules), mentions) in batches {
            let kept = super::relevant(&self.store, source.as_ref(), mentions, rules);
            if kept.is_empty() {
                continue;
            }
            let name = push_cursor_name(source.name());
            match self
                .store
                .ingest(&name, &kept, &Cursor::default(), Utc::now())
            {
                Ok(numbers) => {
                    if !numbers.is_empty() {
                        tracing::info!(source = source.name(), new = numbers.len(), "pushed");
                    }
                    new += numbers.len();
                }
                Err(error) => failed.push(format!("{}: cannot store: {error}", source.name())),
            }
        }
        if new > 0 {
            self.wake.notify_one();
        }
        match failed.is_empty() {
            true => Ok(new),
            false => Err(failed.join("; ")),
        }
    }
}
