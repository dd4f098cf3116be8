//! Mentions in and out of the store: ingest with dedup and numbering, state transitions with
//! history and outbox effects, and the reads behind `list` and `show`.

use super::engine::{Scan, Tree, Tx, TxResult};
use super::keys;
use super::outbox::{enqueue, Effect};
use super::{abort, decode, encode, Result, Store, StoreError, NEXT_NUMBER_KEY};
use crate::domain::lifecycle::{self, Subject};
use crate::domain::routing::{lane_channel, Placement};
use crate::domain::{
    Action, Actor, Cursor, HistoryEntry, ListFilter, Member, Mention, MentionKey, State, Status,
    Step, Tracked,
};
use chrono::{DateTime, Utc};

/// The outbox entry an action settles, and the network's id of the answer it delivered.
pub(crate) struct Settling<'a> {
    pub outbox_key: &'a [u8],
    pub reply_id: Option<&'a str>,
}

/// One page of a list: how many the whole list holds, and the ones on this page.
#[derive(Debug, Clone)]
pub struct Page {
    pub total: usize,
    pub shown: Vec<Tracked>,
}

/// What the desk gets back from an allowed action.
#[derive(Debug, Clone)]
pub struct Applied {
    pub tracked: Tracked,
    pub entry: HistoryEntry,
}

impl Store {
    /// Stores the mentions a source fetched and moves its cursor, in one transaction, then
    /// flushes. Mentions already known (by source and network id) are skipped. Returns the
    /// numbers given to the new ones.
    pub fn ingest(
        &self,
        source: &str,
        batch: &[Mention],
        cursor: &Cursor,
        now: DateTime<Utc>,
    ) -> Result<Vec<u64>> {
        self.writable()?;
        let ingested = self.ingest_unwatched(source, batch, cursor, now);
        self.watch(ingested)
    }

    fn ingest_unwatched(
        &self,
        source: &str,
        batch: &[Mention],
        cursor: &Cursor,
        now: DateTime<Utc>,
    ) -> Result<Vec<u64>> {
        let cursor_bytes = super::encode(cursor);
        self.scoring(batch, |priorities| {
            let backlog = self.card_backlog()?;
            let dedup: Vec<Vec<u8>> = batch
                .iter()
                .map(|mention| keys::mention_key(&mention.key))
                .collect();
            let trees = [
                Tree::Meta,
                Tree::Mentions,
                Tree::Keys,
                Tree::ByStatus,
                Tree::Cursors,
                Tree::Outbox,
                Tree::Answers,
            ];
            let numbers = self.engine.transaction(&trees, |tx| {
                self.check_fence(tx)?;
                let mut next = read_next_number(tx)?;
                let mut weather = self.read_weather();
                let mut held = false;
                let first = next;
                // A source's first poll brings what was posted before earshot watched it: an
                // import, like posts already old when found (storm mode only).
                let first_poll =
                    self.storm.is_some() && tx.get(Tree::Cursors, source.as_bytes())?.is_none();
                tx.prefetch(Tree::Keys, &dedup)?;
                let mut imported = Vec::new();
                for (index, mention) in batch.iter().enumerate() {
                    let key = &dedup[index];
                    if tx.get(Tree::Keys, key)?.is_some() {
                        continue;
                    }
                    let number = next;
                    next += 1;
                    // Answers are kept under the mention's source; `source` here is the
                    // cursor's name, which for a live stream is `<source>#stream`.
                    let follow_up_of = match &mention.in_reply_to {
                        Some(parent) => tx
                            .get(
                                Tree::Answers,
                                &keys::mention_key(&MentionKey::new(
                                    &mention.key.source,
                                    parent.as_str(),
                                )),
                            )?
                            .map(|number| keys::read_u64(&number)),
                        None => None,
                    };
                    let mut tracked = Tracked {
                        number,
                        mention: mention.clone(),
                        state: State::Open,
                        received_at: now,
                        follow_up_of,
                        priority: priorities.of(index).clone(),
                        place: Placement::default(),
                        copy: Default::default(),
                    };
                    // Decided once: changing the routes later moves new mentions only.
                    tracked.place = self
                        .routes
                        .place(&crate::domain::routing::Subject::of(&tracked));
                    tx.insert(Tree::Keys, key, &keys::number(number))?;
                    tx.insert(Tree::Mentions, &keys::number(number), &encode(&tracked))?;
                    if mention.network.copies_expire().is_some() {
                        tx.insert(Tree::Meta, &keys::copy(number), &[])?;
                    }
                    tx.insert(
                        Tree::ByStatus,
                        &keys::by_status(Status::Open, number),
                        &keys::ranked(&tracked.priority, &tracked.place.lane()),
                    )?;
                    let import = first_poll || self.old_when_found(mention.created_at, now);
                    // In a storm the summary card stands in for the mention's own.
                    if self.storm_arrival(
                        &mut weather,
                        &tracked,
                        import,
                        backlog,
                        tx,
                        &mut held,
                        now,
                    )? {
                        continue;
                    }
                    if import {
                        imported.push(number);
                        continue;
                    }
                    for chat in &self.chats {
                        let effect = Effect::Post {
                            chat: chat.clone(),
                            number,
                        };
                        enqueue(tx, effect, now)?;
                    }
                }
                self.imported(source, &imported, tx, now)?;
                self.write_weather(&weather, held, tx, now)?;
                tx.insert(Tree::Meta, NEXT_NUMBER_KEY, &keys::number(next))?;
                tx.insert(Tree::Cursors, source.as_bytes(), &cursor_bytes)?;
                Ok((first..next).collect::<Vec<u64>>())
            })?;
            // Flushed before any card goes out, so a number shown in chat is never handed out
            // again.
            self.flush_now()?;
            Ok(numbers)
        })
    }

    /// The mention earshot answered with the post `id` on `source`, if it did: a new post that
    /// replies to `id` continues that conversation.
    pub fn answered_with(&self, source: &str, id: &str) -> Result<Option<u64>> {
        Ok(self
            .engine
            .get(
                Tree::Answers,
                &keys::mention_key(&MentionKey::new(source, id)),
            )?
            .map(|number| keys::read_u64(&number)))
    }

    pub fn cursor(&self, source: &str) -> Result<Cursor> {
        match self.engine.get(Tree::Cursors, source.as_bytes())? {
            Some(bytes) => decode("cursor", &bytes),
            None => Ok(Cursor::default()),
        }
    }

    /// Moves a cursor without new mentions (a poll that found nothing new, or a 304).
    pub fn save_cursor(&self, source: &str, cursor: &Cursor) -> Result<()> {
        let bytes = encode(cursor);
        self.engine.transaction(&[Tree::Cursors], |tx| {
            self.check_fence(tx)?;
            tx.insert(Tree::Cursors, source.as_bytes(), &bytes)
        })
    }

    pub fn mention(&self, number: u64) -> Result<Tracked> {
        match self.engine.get(Tree::Mentions, &keys::number(number))? {
            Some(bytes) => decode("mention", &bytes),
            None => Err(StoreError::NoSuchMention(number)),
        }
    }

    /// How many mentions the store has numbered so far. Numbers are sequential and never
    /// reused or deleted, so this reads the counter: `Tree::len` would page in every mention.
    pub fn count(&self) -> Result<u64> {
        Ok(self
            .engine
            .get(Tree::Meta, NEXT_NUMBER_KEY)?
            .map_or(1, |bytes| keys::read_u64(&bytes))
            - 1)
    }

    /// The mentions in `filter`, oldest first. `who` is who "mine" means: earshot holds none.
    pub fn list(&self, filter: ListFilter, who: impl Into<Actor>) -> Result<Vec<Tracked>> {
        let numbers: Vec<u64> = match (filter, who.into()) {
            (ListFilter::Mine, Actor::System) => Vec::new(),
            (ListFilter::Mine, Actor::Member(member)) => self
                .engine
                .scan(
                    Tree::ByOwner,
                    Scan::prefix(&keys::owner_prefix(&member.id)).keys(),
                )
                .map(|entry| entry.map(|(key, _)| keys::trailing_number(&key)))
                .collect::<Result<_>>()?,
            (ListFilter::All, _) => {
                let mut all = Vec::new();
                for entry in self.engine.scan(Tree::Mentions, Scan::all().keys()) {
                    all.push(keys::read_u64(&entry?.0));
                }
                all
            }
            (ListFilter::Open | ListFilter::Claimed, _) => {
                let statuses: &[Status] = match filter {
                    ListFilter::Claimed => &[Status::Claimed],
                    _ => &[Status::Open, Status::Claimed],
                };
                let mut numbers = Vec::new();
                for status in statuses {
                    let scan = Scan::prefix(&keys::status_prefix(*status)).keys();
                    for entry in self.engine.scan(Tree::ByStatus, scan) {
                        numbers.push(keys::trailing_number(&entry?.0));
                    }
                }
                numbers.sort_unstable();
                numbers
            }
        };
        self.numbered(numbers)
    }

    /// One page of `filter` in the order people read it: complaints first (the highest score
    /// first), then oldest first; `All` pages back from the newest. Picks the page from the
    /// indexes and reads only the mentions on it, so a list costs the same with 100 or 100,000
    /// mentions behind it.
    pub fn list_page(
        &self,
        filter: ListFilter,
        member: &Member,
        page: u32,
        per_page: usize,
    ) -> Result<Page> {
        self.list_page_in(filter, member, page, per_page, None)
    }

    /// [`Store::list_page`], with the mentions that live in `here` (a chat and its channel,
    /// `None` for the chat's own) first: `list` typed in a route's channel shows that channel's
    /// mentions before the rest. `All` keeps its order.
    pub fn list_page_in(
        &self,
        filter: ListFilter,
        member: &Member,
        page: u32,
        per_page: usize,
        here: Option<(&str, Option<&str>)>,
    ) -> Result<Page> {
        let skip = (page.max(1) as usize - 1).saturating_mul(per_page);
        let first = |lane: &str| {
            Some(here.is_some_and(|(chat, channel)| lane_channel(lane, chat) == channel))
        };
        let (total, numbers) = match filter {
            ListFilter::All => {
                let total = usize::try_from(self.count()?).unwrap_or(usize::MAX);
                let mut newest = Vec::with_capacity(per_page);
                let scan = Scan::all().rev().keys();
                for entry in self
                    .engine
                    .scan(Tree::Mentions, scan)
                    .skip(skip)
                    .take(per_page)
                {
                    newest.push(keys::read_u64(&entry?.0));
                }
                newest.reverse();
                (total, newest)
            }
            ListFilter::Open => {
                self.ranked_by(&[Status::Open, Status::Claimed], skip, per_page, first)?
            }
            ListFilter::Claimed => self.ranked_by(&[Status::Claimed], skip, per_page, first)?,
            ListFilter::Mine => {
                let mut held = Vec::new();
                let scan = Scan::prefix(&keys::owner_prefix(&member.id)).keys();
                for entry in self.engine.scan(Tree::ByOwner, scan) {
                    let number = keys::trailing_number(&entry?.0);
                    let value = self
                        .engine
                        .get(Tree::ByStatus, &keys::by_status(Status::Claimed, number))?
                        .unwrap_or_default();
                    let here_first = first(&keys::lane(&value)).unwrap_or(false);
                    held.push(Ok((!here_first, keys::rank_order(&value, number))));
                }
                first_ranked(held, skip, per_page)?
            }
        };
        let mut shown = self.numbered(numbers)?;
        if filter == ListFilter::All {
            crate::domain::priority::complaints_first(&mut shown, |tracked| &tracked.priority);
        }
        Ok(Page { total, shown })
    }

    /// Mentions in `statuses`, most urgent first, from the status index alone.
    pub(super) fn ranked(
        &self,
        statuses: &[Status],
        skip: usize,
        take: usize,
    ) -> Result<(usize, Vec<u64>)> {
        self.ranked_by(statuses, skip, take, |_| Some(false))
    }

    /// [`Store::ranked`] of the entries whose lane `pick` keeps (`None` leaves one out),
    /// those it marks `true` first.
    pub(super) fn ranked_by(
        &self,
        statuses: &[Status],
        skip: usize,
        take: usize,
        pick: impl Fn(&str) -> Option<bool>,
    ) -> Result<(usize, Vec<u64>)> {
        let ranks = statuses
            .iter()
            .flat_map(|status| {
                self.engine
                    .scan(Tree::ByStatus, Scan::prefix(&keys::status_prefix(*status)))
            })
            .filter_map(|item| match item {
                Err(error) => Some(Err(error)),
                Ok((key, value)) => pick(&keys::lane(&value)).map(|first| {
                    Ok((
                        !first,
                        keys::rank_order(&value, keys::trailing_number(&key)),
                    ))
                }),
            });
        first_ranked(ranks, skip, take)
    }

    /// The mentions with these numbers, in the same order.
    /// At most `limit` of the mentions still owed (open or claimed), the newest, oldest first:
    /// read from the tail of the status index, so a keystroke in Discord's autocomplete
    /// decodes `limit` mentions however many are owed.
    pub fn newest_owed(&self, limit: usize) -> Result<Vec<Tracked>> {
        let mut numbers = Vec::new();
        for status in [Status::Open, Status::Claimed] {
            let scan = Scan::prefix(&keys::status_prefix(status)).rev().keys();
            for entry in self.engine.scan(Tree::ByStatus, scan).take(limit) {
                numbers.push(keys::trailing_number(&entry?.0));
            }
        }
        numbers.sort_unstable();
        let skip = numbers.len().saturating_sub(limit);
        self.numbered(numbers.split_off(skip))
    }

    pub(super) fn numbered(&self, numbers: Vec<u64>) -> Result<Vec<Tracked>> {
        numbers
            .into_iter()
            .map(|number| self.mention(number))
            .collect()
    }

    /// Records `entry` as mention `number`'s next step, in the open transaction: the history
    /// entry, the settled index when it settles the mention, and the card's note in every chat.
    pub(super) fn record_step(
        &self,
        tx: &mut dyn Tx,
        number: u64,
        entry: &HistoryEntry,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        if entry.settles() {
            tx.insert(Tree::Settled, &keys::settled(entry.at, number), &[])?;
        }
        let id = tx.generate_id()?;
        tx.insert(Tree::History, &keys::history(number, id), &encode(entry))?;
        for chat in &self.chats {
            let effect = Effect::Update {
                chat: chat.clone(),
                number,
                note: entry.summary(),
            };
            enqueue(tx, effect, now)?;
        }
        Ok(())
    }

    /// Every transition of a mention, oldest first, starting with its arrival (which is derived
    /// from the mention rather than stored, to keep ingest to the writes it needs).
    pub fn history(&self, number: u64) -> Result<Vec<HistoryEntry>> {
        let tracked = self.mention(number)?;
        let found = HistoryEntry {
            at: tracked.received_at,
            by: Actor::System,
            from: None,
            to: Step::Found,
            note: Some(format!("found by {}", tracked.mention.key.source)),
        };
        std::iter::once(Ok(found))
            .chain(
                self.engine
                    .scan(Tree::History, Scan::prefix(&keys::number(number)))
                    .map(|entry| decode("history entry", &entry?.1)),
            )
            .collect()
    }

    /// Applies `action` by `actor` in one transaction: the new state, its indexes, a history
    /// entry, an update for every chat and, for an answer, the reply to deliver. Flushed before
    /// it returns, so the caller may tell the person it is done.
    pub async fn apply(
        &self,
        number: u64,
        actor: impl Into<Actor>,
        action: &Action,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        let applied = self.apply_in_transaction(number, &actor.into(), action, now, None)?;
        self.flush().await?;
        Ok(applied)
    }

    /// Like [`Store::apply`], also removing the outbox entry `done` in the same transaction
    /// (the outbox settling an answer it delivered).
    pub(super) fn apply_in_transaction(
        &self,
        number: u64,
        actor: &Actor,
        action: &Action,
        now: DateTime<Utc>,
        settling: Option<Settling<'_>>,
    ) -> Result<Applied> {
        let trees = [
            Tree::Mentions,
            Tree::ByStatus,
            Tree::ByOwner,
            Tree::History,
            Tree::Outbox,
            Tree::Answers,
            Tree::Settled,
        ];
        self.engine.transaction(&trees, |tx| {
            let key = keys::number(number);
            let mut tracked = read_tracked(tx, number)?;
            let subject = Subject {
                number,
                network: tracked.mention.network,
                link: tracked.mention.link.as_deref(),
                state: &tracked.state,
            };
            let transition = lifecycle::apply(subject, actor, action, now)?;

            reindex(
                tx,
                number,
                &keys::ranked(&tracked.priority, &tracked.place.lane()),
                &tracked.state,
                &transition.state,
            )?;
            tracked.state = transition.state;
            if let (Some(settling), Action::AnswerDelivered { .. }) = (&settling, action) {
                super::edits::record_own_reply(&mut tracked, tx, settling.outbox_key, now)?;
            }
            tx.insert(Tree::Mentions, &key, &encode(&tracked))?;
            let entry = transition.entry;
            // The lifecycle took the answer from a member: earshot writes none of its own.
            if let (Action::Answer { text }, Some(author)) = (action, actor.member()) {
                let effect = Effect::Reply {
                    number,
                    text: text.trim().to_string(),
                    by: author.clone(),
                };
                enqueue(tx, effect, now)?;
            }
            self.record_step(tx, number, &entry, now)?;
            if let Some(settling) = &settling {
                tx.remove(Tree::Outbox, settling.outbox_key)?;
                if let (Some(reply), Action::AnswerDelivered { .. }) = (settling.reply_id, action) {
                    let key = MentionKey::new(&tracked.mention.key.source, reply);
                    tx.insert(
                        Tree::Answers,
                        &keys::mention_key(&key),
                        &keys::number(number),
                    )?;
                }
            }
            Ok(Applied {
                tracked: tracked.clone(),
                entry: entry.clone(),
            })
        })
    }

    /// The chat's id for the message that shows `number`, once it is posted.
    pub fn message_ref(&self, chat: &str, number: u64) -> Result<Option<String>> {
        Ok(self
            .engine
            .get(Tree::Messages, &keys::message(chat, number))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// How many ranks there are, and the numbers of ranks `skip..skip + take` in order. Only those
/// are kept while counting (see [`Firsts`]).
fn first_ranked(
    ranks: impl IntoIterator<Item = Result<(bool, keys::RankOrder)>>,
    skip: usize,
    take: usize,
) -> Result<(usize, Vec<u64>)> {
    let mut first = Firsts::new(skip.saturating_add(take));
    for rank in ranks {
        first.push(rank?);
    }
    let total = first.total();
    let numbers = first
        .into_sorted()
        .into_iter()
        .skip(skip)
        .map(|(_, rank)| rank.2)
        .collect();
    Ok((total, numbers))
}

/// The first `keep` of what is pushed, in order, and how many were pushed: a max-heap whose
/// top is the one to drop next, so memory follows `keep`, not how many there are.
pub(super) struct Firsts<T: Ord> {
    keep: usize,
    total: usize,
    heap: std::collections::BinaryHeap<T>,
}

impl<T: Ord> Firsts<T> {
    pub(super) fn new(keep: usize) -> Firsts<T> {
        Firsts {
            keep,
            total: 0,
            heap: std::collections::BinaryHeap::with_capacity(keep.min(1024) + 1),
        }
    }

    pub(super) fn push(&mut self, item: T) {
        self.total += 1;
        self.heap.push(item);
        if self.heap.len() > self.keep {
            self.heap.pop();
        }
    }

    pub(super) fn total(&self) -> usize {
        self.total
    }

    /// The ones kept, first first.
    pub(super) fn into_sorted(self) -> Vec<T> {
        self.heap.into_sorted_vec()
    }
}

/// Mention `number` as a transaction sees it; a number never handed out aborts the transaction
/// with `NoSuchMention`.
pub(super) fn read_tracked(tx: &mut dyn Tx, number: u64) -> TxResult<Tracked> {
    let bytes = tx
        .get(Tree::Mentions, &keys::number(number))?
        .ok_or_else(|| abort(StoreError::NoSuchMention(number)))?;
    Ok(decode("mention", &bytes)?)
}

fn read_next_number(tx: &mut dyn Tx) -> TxResult<u64> {
    Ok(tx
        .get(Tree::Meta, NEXT_NUMBER_KEY)?
        .map(|bytes| keys::read_u64(&bytes))
        .unwrap_or(1))
}

fn reindex(
    tx: &mut dyn Tx,
    number: u64,
    rank: &[u8],
    before: &State,
    after: &State,
) -> TxResult<()> {
    tx.remove(Tree::ByStatus, &keys::by_status(before.status(), number))?;
    tx.insert(
        Tree::ByStatus,
        &keys::by_status(after.status(), number),
        rank,
    )?;
    if let Some(holder) = before.holder() {
        tx.remove(Tree::ByOwner, &keys::by_owner(&holder.id, number))?;
    }
    if let Some(holder) = after.holder() {
        tx.insert(Tree::ByOwner, &keys::by_owner(&holder.id, number), &[])?;
    }
    Ok(())
}
