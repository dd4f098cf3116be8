//! Answered-detection: where a network lets earshot read a thread, a mention still owed is
//! checked for a reply from the brand's own account. One found elsewhere (someone answered in
//! the network's app) closes the mention as answered, and its history says how.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{Action, Actor, ListFilter, State};
use crate::sources::Source;
use crate::store::{Store, StoreError};

pub struct AnswerWatch {
    store: Store,
    sources: HashMap<String, Arc<dyn Source>>,
}

impl AnswerWatch {
    pub fn new(store: Store, sources: Vec<Arc<dyn Source>>) -> AnswerWatch {
        AnswerWatch {
            store,
            sources: sources
                .into_iter()
                .map(|source| (source.name().to_string(), source))
                .collect(),
        }
    }

    /// Checks every mention still owed; returns how many were found answered.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut found = 0;
        for tracked in self.store.list(ListFilter::Open, Actor::System)? {
            // An answer on its way through earshot settles by itself.
            if matches!(
                tracked.state,
                State::Claimed {
                    answering: true,
                    ..
                }
            ) {
                continue;
            }
            let Some(source) = self.sources.get(&tracked.mention.key.source) else {
                continue;
            };
            let how = match source.answered_by_brand(&tracked.mention).await {
                Ok(Some(how)) => how,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(number = tracked.number, %error, "cannot check the thread for an answer");
                    continue;
                }
            };
            let action = Action::AnsweredElsewhere {
                how: format!("answered outside earshot: {how}"),
            };
            match self
                .store
                .apply(tracked.number, Actor::System, &action, now)
                .await
            {
                Ok(_) => found += 1,
                Err(StoreError::Refused(refusal)) => {
                    tracing::debug!(number = tracked.number, %refusal, "moved on before the answer was recorded");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(found)
    }
}
