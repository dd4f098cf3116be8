//! The tasks of a running app, each under a name, so that the one that stops can be named when
//! the app shuts down because of it. Leader work is spawned through
//! [`Tasks::spawn_leading`]: it runs only while this process holds the leader lease, afresh
//! for each term.

use std::collections::HashMap;
use std::future::Future;

use tokio::sync::watch;
use tokio::task::{Id, JoinSet};

use super::leader::Leadership;

#[derive(Default)]
pub struct Tasks {
    set: JoinSet<()>,
    names: HashMap<Id, String>,
}

impl Tasks {
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let id = self.set.spawn(task).id();
        self.names.insert(id, name.into());
    }

    /// `work(term)` while `leadership` leads; `term` turns true when the term ends or the app
    /// stops.
    pub fn spawn_leading<F, Fut>(
        &mut self,
        name: impl Into<String>,
        leadership: &Leadership,
        stopped: &watch::Receiver<bool>,
        work: F,
    ) where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (leadership, stopped) = (leadership.clone(), stopped.clone());
        self.spawn(name, async move {
            leadership.while_leading(stopped, work).await
        });
    }

    /// The next task to stop: its name and how it ended ("ended", or "failed: ..."); `None`
    /// when no task is left.
    pub async fn next_stopped(&mut self) -> Option<(String, String)> {
        let ended = self.set.join_next_with_id().await?;
        let (id, outcome) = match ended {
            Ok((id, ())) => (id, "ended".to_string()),
            Err(error) => (error.id(), format!("failed: {error}")),
        };
        Some((self.names.remove(&id).unwrap_or_default(), outcome))
    }

    /// Waits until every task has stopped.
    pub async fn join_all(&mut self) {
        while self.set.join_next().await.is_some() {}
    }

    pub fn abort_all(&mut self) {
        self.set.abort_all();
    }
}
