//! Live streams beside the polls: one task per streaming source keeps a connection up,
//! reconnecting with backoff, and feeds what arrives through the same rules -> store path as
//! a poll, with the stream's own cursor stored in the same transaction as its mentions.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch};

use crate::rules::{Rules, Verdict};
use crate::sources::{Fetched, Source, SourceError, StreamEvent};
use crate::store::Store;

use super::Watched;

/// The first wait before reconnecting a stream that dropped; it doubles while connections keep
/// failing, up to [`RECONNECT_LONGEST`], and starts over once a connection is up.
const RECONNECT_FIRST: Duration = Duration::from_secs(1);
/// Public streaming servers drop idle or overloaded clients; a couple of minutes between tries
/// is patient enough not to hammer one that is down.
const RECONNECT_LONGEST: Duration = Duration::from_secs(120);
/// Batches in flight between a connection and the store: a slow disk slows the reading down
/// rather than piling events up in memory.
const IN_FLIGHT: usize = 16;

/// Where a source's stream cursor is kept: apart from its polls' cursor, which the poller
/// writes at the same time. Source names are `[A-Za-z0-9_-]`, so this cannot be another's.
pub fn stream_cursor_name(source: &str) -> String {
    format!("{source}#stream")
}

/// Follows the source's stream until `stopped`. After every (re)connection, the backfill
/// signal asks the source's poller for a poll now; new mentions wake the outbox.
pub async fn follow(watched: Watched, mut stopped: watch::Receiver<bool>) {
    let Watched {
        store,
        source,
        rules,
        backfill,
        wake,
    } = watched;
    let name = source.name().to_string();
    let cursor_name = stream_cursor_name(&name);
    let mut wait = RECONNECT_FIRST;
    loop {
        if *stopped.borrow() {
            return;
        }
        let cursor = match store.cursor(&cursor_name) {
            Ok(cursor) => cursor,
            Err(error) => {
                tracing::error!(source = %name, %error, "cannot read the stream's cursor");
                return;
            }
        };
        let (sender, mut receiver) = mpsc::channel(IN_FLIGHT);
        let connection = source.stream(cursor, sender);
        tokio::pin!(connection);
        let mut ended: Option<Result<(), SourceError>> = None;
        // Drain the channel until the connection ends and everything it sent is stored.
        loop {
            tokio::select! {
                result = &mut connection, if ended.is_none() => ended = Some(result),
                event = receiver.recv() => match event {
                    Some(StreamEvent::Connected) => {
                        wait = RECONNECT_FIRST;
                        backfill.notify_one();
                    }
                    Some(StreamEvent::Posts(fetched)) => {
                        match ingest(&store, source.as_ref(), &cursor_name, fetched, &rules).await {
                            Ok(0) => {}
                            Ok(_) => wake.notify_one(),
                            Err(reason) => {
                                // Reconnect and replay from the stored cursor: going on would
                                // store later cursors past the mentions that were lost.
                                ended = Some(Err(SourceError::Retry { reason, after: None }));
                                break;
                            }
                        }
                    }
                    None => break,
                },
                _ = stopped.changed() => return,
            }
        }
        match ended {
            Some(Err(SourceError::Permanent(reason))) => {
                tracing::error!(source = %name, %reason, "the stream cannot work; polls go on without it");
                let _ = stopped.wait_for(|stop| *stop).await;
                return;
            }
            Some(Err(SourceError::Retry { reason, after })) => {
                wait = after.unwrap_or(wait);
                tracing::warn!(source = %name, %reason, retry_in = ?wait, "stream interrupted");
            }
            _ => tracing::info!(source = %name, retry_in = ?wait, "stream ended"),
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => return,
        }
        wait = (wait * 2).min(RECONNECT_LONGEST);
    }
}

/// Judges a batch, lets the source fill in the mentions kept, and stores them with the cursor.
/// A batch with nothing kept only moves the cursor, unflushed: losing that on a crash costs a
/// replay, never a mention.
async fn ingest(
    store: &Store,
    source: &dyn Source,
    cursor_name: &str,
    fetched: Fetched,
    rules: &Rules,
) -> Result<usize, String> {
    let name = source.name();
    let mut kept = super::relevant(store, source, fetched.mentions, rules);
    // Only the kept few are filled in: the stream carries the whole network.
    if !kept.is_empty() {
        source.enrich(&mut kept).await;
        // Known by handle only now, one of the brand's own accounts is dropped here.
        kept.retain(|mention| !matches!(rules.judge(mention), Verdict::Drop(_)));
    }
    let saved = if kept.is_empty() {
        store.save_cursor(cursor_name, &fetched.cursor).map(|()| 0)
    } else {
        store
            .ingest(cursor_name, &kept, &fetched.cursor, Utc::now())
            .map(|numbers| numbers.len())
    };
    match saved {
        Ok(new) => {
            if new > 0 {
                tracing::info!(source = name, new, "streamed");
            }
            Ok(new)
        }
        Err(error) => Err(format!("cannot store what the stream brought: {error}")),
    }
}
