//! The reminder scheduler: on every tick it asks [`crate::domain::sla::next_step`] about each
//! mention still owed and carries out what is due: a nudge in the thread, a reminder to the
//! owner, or the release of a stale claim. Each step is recorded together with the effects it
//! queues, so a crash delays a reminder and never sends it twice.

use chrono::{DateTime, Utc};

use crate::domain::lifecycle::ago;
use crate::domain::sla::{next_step, Sla, Step};
use crate::domain::{Action, Actor, ListFilter, State};
use crate::store::{Effect, Store, StoreError};

pub struct Reminders {
    store: Store,
    sla: Sla,
    /// The command name, for the hints in nudges.
    prefix: String,
}

impl Reminders {
    pub fn new(store: Store, sla: Sla, prefix: String) -> Reminders {
        Reminders { store, sla, prefix }
    }

    /// Carries out every step due at `now`; returns how many.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut done = 0;
        for tracked in self.store.list(ListFilter::Open, Actor::System)? {
            let chase = self.store.chase(tracked.number)?;
            let Some(step) = next_step(&self.sla, &tracked, &chase, now) else {
                continue;
            };
            let number = tracked.number;
            let prefix = &self.prefix;
            let effects: Vec<Effect> = match &step {
                Step::Nudge { ping, .. } => self
                    .store
                    .chats()
                    .iter()
                    .map(|chat| Effect::Nudge {
                        chat: chat.clone(),
                        number,
                        text: format!(
                            "#{number} is still unclaimed (found {}). `{prefix} claim {number}` to take it, or `{prefix} snooze {number} 2h`.",
                            ago(tracked.received_at, now)
                        ),
                        ping: ping.clone(),
                    })
                    .collect(),
                Step::RemindOwner { owner, .. } => {
                    let since = match &tracked.state {
                        State::Claimed { at, .. } => ago(*at, now),
                        _ => String::new(),
                    };
                    self.store
                        .chats()
                        .iter()
                        .map(|chat| Effect::Remind {
                            chat: chat.clone(),
                            number,
                            member: owner.clone(),
                            text: format!(
                                "you claimed #{number} ({since}) and it has no answer yet. `{prefix} answer {number} <text>`, or `{prefix} release {number}`."
                            ),
                        })
                        .collect()
                }
                Step::Release { .. } => {
                    match self.store.apply(number, Actor::System, &Action::ReleaseStale, now).await {
                        Ok(_) => {}
                        // The owner acted meanwhile; next tick sees the new state.
                        Err(StoreError::Refused(_)) => continue,
                        Err(error) => return Err(error),
                    }
                    Vec::new()
                }
            };
            let after = step.record(&chase, &tracked.state);
            if self
                .store
                .chased(number, &chase, &after, effects, now)
                .await?
            {
                done += 1;
            }
        }
        Ok(done)
    }
}
