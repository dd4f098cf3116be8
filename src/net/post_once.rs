//! "Post only once" for networks without an idempotency key (Reddit, X, and the Graph APIs'
//! comment endpoints): an answer retried after it went through but before the outbox recorded
//! it must not be posted twice. So a retry first looks for an earlier delivery: what this
//! process posted under the same key, else what the network shows (the brand's latest replies).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

pub struct PostOnce<T> {
    /// What this process posted, by idempotency key.
    delivered: Mutex<HashMap<String, T>>,
}

impl<T> Default for PostOnce<T> {
    fn default() -> Self {
        PostOnce {
            delivered: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> PostOnce<T> {
    /// The earlier delivery of the answer under `key` if there is one (`earlier` looks on the
    /// network), else what `post` posts.
    pub async fn post<E, Earlier, Post>(
        &self,
        key: &str,
        earlier: impl FnOnce() -> Earlier,
        post: impl FnOnce() -> Post,
    ) -> Result<T, E>
    where
        Earlier: Future<Output = Result<Option<T>, E>>,
        Post: Future<Output = Result<T, E>>,
    {
        if let Some(done) = self.remembered(key) {
            return Ok(done);
        }
        let posted = match earlier().await? {
            Some(found) => found,
            None => post().await?,
        };
        if let Ok(mut delivered) = self.delivered.lock() {
            delivered.insert(key.to_string(), posted.clone());
        }
        Ok(posted)
    }

    fn remembered(&self, key: &str) -> Option<T> {
        self.delivered.lock().ok()?.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn an_earlier_delivery_is_the_answer() {
        let once = PostOnce::<String>::default();
        let posts = AtomicUsize::new(0);
        let post = || async {
            posts.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>("new".to_string())
        };
        let found = once
            .post("k1", || async { Ok(Some("found".to_string())) }, post)
            .await;
        assert_eq!(found, Ok("found".into()));
        assert_eq!(posts.load(Ordering::SeqCst), 0, "found on the network");
        assert_eq!(
            once.post("k2", || async { Ok(None) }, post).await,
            Ok("new".into())
        );
        let again = once.post("k2", || async { Err(()) }, post).await;
        assert_eq!(again, Ok("new".into()));
        assert_eq!(posts.load(Ordering::SeqCst), 1, "posted once");
    }
}
