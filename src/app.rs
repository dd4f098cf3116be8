//! Wires the config into running parts: sources polled on their schedules, the outbox worker,
//! and the terminal chat reading commands, under one supervisor with an explicit shutdown.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{watch, Notify};

mod leader;
mod pushes;
mod streaming;
mod tasks;

use tasks::Tasks;

pub use leader::{Leadership, LEASE_TTL, RENEW_EVERY};
pub use pushes::{push_cursor_name, Pushes};
pub use streaming::{follow, stream_cursor_name};

use crate::answered::AnswerWatch;
use crate::chat::discord::Discord;
use crate::chat::shell::Shell;
use crate::chat::slack::SlackChat;
use crate::chat::{Chat, ChatError};
use crate::config::Config;
use crate::desk::Desk;
use crate::digest::Digester;
use crate::domain::lifecycle::Answerers;
use crate::domain::mention::Provenance;
use crate::domain::{Member, Mention};
use crate::outbox::Outbox;
use crate::reminders::Reminders;
use crate::report::Reporter;
use crate::retention::Retention;
use crate::rules::{Rules, Verdict};
use crate::sources::{registry, Source};
use crate::store::{Store, StoreError};

/// How long a network request may take before it counts as failed (and is retried later).
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the follow-up task looks for a digest, report or reminder that fell due: reminders
/// are counted in minutes, so a minute late is on time.
const FOLLOW_UP_EVERY: Duration = Duration::from_secs(60);
/// How often threads are read for answers made outside earshot: each check costs one network
/// read per mention still owed, so it runs far less often than polls.
const ANSWER_CHECK_EVERY: Duration = Duration::from_secs(15 * 60);
/// How long shutdown waits for in-flight work before leaving it to the outbox for next time.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The one task that may end on its own: stdin closes when nobody types (a service).
const TERMINAL_INPUT: &str = "terminal input";

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Poll every source once, run the commands on stdin, drain the outbox, and exit.
    pub once: bool,
    /// Type in the terminal as this member instead of the configured user.
    pub member: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot set up a chat: {0}")]
    Chat(#[from] ChatError),
    #[error("cannot listen for shutdown signals: {0}")]
    Signals(#[source] std::io::Error),
    #[error("cannot serve Meta's webhooks on {address} (webhooks.meta.listen): {source}")]
    Webhooks {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A task that must run as long as the app (a poller, the outbox, a chat listener) stopped:
    /// the process exits non-zero so that a service manager restarts it.
    #[error("the {task} task {outcome}; earshot stopped (see the error logged above)")]
    TaskStopped { task: String, outcome: String },
}

/// The parts of a running earshot.
pub struct App {
    pub store: Store,
    pub desk: Desk,
    pub outbox: Outbox,
    pub shell: Arc<Shell>,
    sources: Vec<(Arc<dyn Source>, Rules)>,
    chats: Vec<Arc<dyn Chat>>,
    wake: Arc<Notify>,
    follow_up: crate::config::FollowUp,
    meta_webhooks: Option<crate::config::MetaWebhooks>,
}

impl App {
    pub fn build(config: &Config, options: &RunOptions) -> Result<App, AppError> {
        let mut store = Store::open_at(&config.store, config.chat_names())?
            .with_lexicon(config.follow_up.lexicon.clone())
            .with_routes(config.routes.clone());
        if let Some(policy) = &config.follow_up.storm {
            store = store.with_storm(crate::store::StormMode {
                policy: policy.clone(),
                command: config.command.clone(),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "earshot/",
                env!("CARGO_PKG_VERSION"),
                " (brand mention monitor)"
            ))
            .timeout(HTTP_TIMEOUT)
            .build()?;
        let sources: Vec<(Arc<dyn Source>, Rules)> = config
            .sources
            .iter()
            .map(|source| {
                let built = source.spec.build(registry::Context {
                    name: source.name.clone(),
                    every: source.every,
                    http: http.clone(),
                    credentials: store.credentials(&source.name),
                });
                (built, source.rules.rules().at_home(source.spec.home()))
            })
            .collect();
        // Beside the store's folder; with a database, beside the config.
        let beside = match &config.store {
            crate::store::Location::Folder(path) => path.parent(),
            crate::store::Location::Postgres(_) => config.file.parent(),
        };
        let reports = beside.map_or_else(
            || std::path::PathBuf::from("reports"),
            |data| data.join("reports"),
        );
        let user = options
            .member
            .clone()
            .or_else(|| config.shell.as_ref().map(|shell| shell.user.clone()))
            .unwrap_or_else(|| "you".to_string());
        let shell = Arc::new(
            Shell::stdout()
                .with_files(reports)
                .with_member(Member::new(user.clone(), user)),
        );
        let chats = build_chats(config, shell.clone(), &http)?;
        let wake = Arc::new(Notify::new());
        let outbox = Outbox::new(
            store.clone(),
            chats.clone(),
            sources.iter().map(|(source, _)| source.clone()).collect(),
            wake.clone(),
        );
        let desk = with_answerers(
            Desk::new(store.clone(), config.command.clone(), wake.clone())
                .with_follow_up(config.follow_up.clone())
                .with_replies(config.replies.clone()),
            config,
        );
        Ok(App {
            store,
            desk,
            outbox,
            shell,
            sources,
            chats,
            wake,
            follow_up: config.follow_up.clone(),
            meta_webhooks: config.meta_webhooks.clone(),
        })
    }

    /// The digest, the weekly report, reminders and answered-detection, as configured.
    pub fn follow_up(&self) -> FollowUpTasks {
        self.follow_up_on(&self.store)
    }

    /// The same, writing through `store` (the leader's fenced handle, in `run`).
    fn follow_up_on(&self, store: &Store) -> FollowUpTasks {
        let settings = &self.follow_up;
        FollowUpTasks {
            digest: settings
                .digest
                .clone()
                .map(|daily| Digester::new(store.clone(), daily)),
            report: settings
                .report
                .clone()
                .map(|weekly| Reporter::new(store.clone(), weekly)),
            reminders: settings
                .sla
                .clone()
                .map(|sla| Reminders::new(store.clone(), sla, self.desk.prefix().to_string())),
            store: store.clone(),
            answers: AnswerWatch::new(
                store.clone(),
                self.sources
                    .iter()
                    .map(|(source, _)| source.clone())
                    .collect(),
            ),
        }
    }

    /// The hourly look at copied texts whose network's terms limit how long they are kept.
    pub fn retention(&self) -> Retention {
        self.retention_on(&self.store)
    }

    /// Copies looked after through `store` (the leader's, fenced).
    fn retention_on(&self, store: &Store) -> Retention {
        Retention::new(
            store.clone(),
            self.sources
                .iter()
                .map(|(source, _)| source.clone())
                .collect(),
        )
    }

    /// `earshot run --once`: one poll of every source, the commands on stdin, a drained outbox.
    pub async fn run_once(&self) -> Result<(), AppError> {
        for (source, rules) in &self.sources {
            poll(&self.store, source.as_ref(), rules).await;
            if let Some(reason) = self.store.broken() {
                return Err(StoreError::Broken(reason.to_string()).into());
            }
        }
        let follow_up = self.follow_up();
        follow_up.tick(Utc::now(), true).await;
        // A store run only by `--once` (from cron) must keep the networks' terms too.
        if let Err(error) = self.retention().tick(Utc::now()).await {
            tracing::error!(%error, "looking after copied texts failed; the next run tries again");
        }
        self.drain().await?;
        let mut lines = self.shell.lines();
        while let Some(line) = lines.recv().await {
            self.shell.type_line(&self.desk, &line).await;
            self.drain().await?;
        }
        self.drain().await?;
        let left = self.store.outbox_len();
        if left > 0 {
            tracing::warn!(
                left,
                "some deliveries are waiting for a retry; the next run sends them"
            );
        }
        self.store.flush().await?;
        Ok(())
    }

    /// `earshot run`: until Ctrl-C or SIGTERM.
    pub async fn run(self) -> Result<(), AppError> {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Tasks::default();

        // Several processes may run on one database: the leader lease decides which polls.
        let holder = leader::holder_name();
        let (campaign, leadership) = leader::campaign(self.store.clone(), &holder);
        tasks.spawn("leader lease", campaign.run(stopped.clone()));
        let leader_store = self.store.fenced(leadership.fence());

        for (source, rules) in self.sources.clone() {
            // A stream's (re)connection asks the poller for a poll now: the REST backfill.
            let backfill = Arc::new(Notify::new());
            if source.streams() {
                let name = format!("stream {}", source.name());
                let (store, source, rules) = (leader_store.clone(), source.clone(), rules.clone());
                let (backfill, wake) = (backfill.clone(), self.wake.clone());
                tasks.spawn_leading(name, &leadership, &stopped, move |term| {
                    follow(
                        store.clone(),
                        source.clone(),
                        rules.clone(),
                        backfill.clone(),
                        wake.clone(),
                        term,
                    )
                });
            }
            let (store, wake) = (leader_store.clone(), self.wake.clone());
            let name = format!("source {}", source.name());
            tasks.spawn_leading(name, &leadership, &stopped, move |term| {
                keep_polling(
                    store.clone(),
                    source.clone(),
                    rules.clone(),
                    backfill.clone(),
                    wake.clone(),
                    term,
                )
            });
        }
        let outbox = self.outbox.clone().with_holder(&holder);
        tasks.spawn("outbox", outbox.run(stopped.clone()));

        if let Some(settings) = self.meta_webhooks.clone() {
            let pushes = Pushes::new(self.store.clone(), &self.sources, self.wake.clone());
            if pushes.is_empty() {
                tracing::warn!("[webhooks.meta] is set but no facebook or instagram source takes its notifications");
            }
            let address = settings.listen;
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|source| AppError::Webhooks { address, source })?;
            tracing::info!(%address, path = crate::webhooks::meta::PATH, "serving Meta's webhooks");
            let stopped = stopped.clone();
            tasks.spawn("Meta webhooks", async move {
                let receiver = Arc::new(pushes);
                if let Err(error) =
                    crate::webhooks::meta::serve(listener, settings, receiver, stopped).await
                {
                    tracing::error!(%error, "Meta's webhook endpoint failed");
                }
            });
        }

        // The first storage failure (a full disk) stops the app, whichever task met it.
        let store = self.store.clone();
        let mut store_stopped = stopped.clone();
        tasks.spawn("store", async move {
            while store.broken().is_none() {
                tokio::select! {
                    _ = tokio::time::sleep(STORE_CHECK_EVERY) => {}
                    _ = store_stopped.changed() => return,
                }
            }
        });

        let follow_up = Arc::new(self.follow_up_on(&leader_store));
        let wake = self.wake.clone();
        tasks.spawn_leading("follow-up", &leadership, &stopped, move |term| {
            keep_following_up(follow_up.clone(), wake.clone(), term)
        });

        // Looking after copies reads the networks again and writes history: the leader's work.
        let retention = Arc::new(self.retention_on(&leader_store));
        let wake = self.wake.clone();
        tasks.spawn_leading("retention", &leadership, &stopped, move |term| {
            let (retention, wake) = (retention.clone(), wake.clone());
            async move { retention.run(wake, term).await }
        });

        for chat in self.chats.clone() {
            let name = format!("chat {}", chat.name());
            let desk = self.desk.clone();
            if chat.listens_alone() {
                tasks.spawn_leading(name, &leadership, &stopped, move |term| {
                    keep_listening(chat.clone(), desk.clone(), term)
                });
            } else {
                tasks.spawn(name, keep_listening(chat, desk, stopped.clone()));
            }
        }

        // The terminal reads what is typed whether or not it relays cards (`[chat.shell]`).
        let (shell, desk) = (self.shell.clone(), self.desk.clone());
        let shell_stopped = stopped.clone();
        tasks.spawn(TERMINAL_INPUT, async move {
            if let Err(error) = shell.listen(desk, shell_stopped).await {
                tracing::warn!(%error, "the terminal stopped reading");
            }
        });

        tracing::info!("earshot is running; Ctrl-C stops it");
        let mut failed = None;
        let signal = shutdown_signal();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                result = &mut signal => {
                    result.map_err(AppError::Signals)?;
                    break;
                }
                Some((name, outcome)) = tasks.next_stopped() => {
                    if name == TERMINAL_INPUT {
                        tracing::debug!("terminal input closed");
                        continue;
                    }
                    // A source or the outbox must never stop on its own; stop loudly instead of limping on.
                    tracing::error!(task = %name, %outcome, "a critical task stopped; shutting down");
                    failed = Some(AppError::TaskStopped { task: name, outcome });
                    break;
                }
            }
        }
        tracing::info!("shutting down");
        let _ = stop.send(true);
        if tokio::time::timeout(SHUTDOWN_GRACE, tasks.join_all())
            .await
            .is_err()
        {
            tracing::warn!(
                "work still in flight at shutdown stays in the outbox for the next start"
            );
            tasks.abort_all();
        }
        self.store.flush().await?;
        match failed {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Delivers everything due now, pass after pass, until a pass delivers nothing.
    pub async fn drain(&self) -> Result<(), AppError> {
        loop {
            let pass = self.outbox.drain(Utc::now()).await?;
            if pass.delivered == 0 {
                return Ok(());
            }
        }
    }
}

/// Polls `source` on its schedule (and when its stream asks for a backfill) until `stopped`.
async fn keep_polling(
    store: Store,
    source: Arc<dyn Source>,
    rules: Rules,
    backfill: Arc<Notify>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        if poll(&store, source.as_ref(), &rules).await > 0 {
            wake.notify_one();
        }
        tokio::select! {
            _ = tokio::time::sleep(source.every()) => {}
            _ = backfill.notified() => {}
            _ = stopped.changed() => return,
        }
    }
}

/// Ticks the follow-up tasks every [`FOLLOW_UP_EVERY`] until `stopped`.
async fn keep_following_up(
    follow_up: Arc<FollowUpTasks>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut last_answer_check: Option<std::time::Instant> = None;
    loop {
        let check_answers = last_answer_check.is_none_or(|at| at.elapsed() >= ANSWER_CHECK_EVERY);
        if check_answers {
            last_answer_check = Some(std::time::Instant::now());
        }
        if follow_up.tick(Utc::now(), check_answers).await {
            wake.notify_one();
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_UP_EVERY) => {}
            _ = stopped.changed() => return,
        }
    }
}

/// How often the supervisor looks whether the store has stopped writing.
const STORE_CHECK_EVERY: Duration = Duration::from_secs(1);

/// The first pause before a chat listener that stopped is started again; it doubles up to
/// [`LISTENER_LONGEST_PAUSE`], so a flapping connection does not hammer the chat.
const LISTENER_FIRST_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);
const LISTENER_LONGEST_PAUSE: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs a chat's listener until shutdown. A listener that returns early, or fails in a way a
/// retry can fix (the connection broke), is started again after a pause, with a warning; one
/// that fails for good (a bad token) ends the task, which stops the app loudly. Chats without
/// a listener of their own (the terminal) wait for shutdown.
async fn keep_listening(chat: Arc<dyn Chat>, desk: Desk, mut stopped: watch::Receiver<bool>) {
    let chat_name = chat.name().to_string();
    if !chat.listens() {
        let _ = stopped.wait_for(|stop| *stop).await;
        return;
    }
    let mut pause = LISTENER_FIRST_PAUSE;
    loop {
        let result = chat.clone().listen(desk.clone(), stopped.clone()).await;
        if *stopped.borrow() {
            return;
        }
        match result {
            Err(ChatError::Permanent(reason)) => {
                tracing::error!(chat = %chat_name, %reason, "the chat listener failed for good");
                return;
            }
            Err(ChatError::Retry { reason, .. }) => {
                tracing::warn!(chat = %chat_name, %reason, ?pause, "the chat listener failed; starting it again");
            }
            Ok(()) => {
                tracing::warn!(chat = %chat_name, ?pause, "the chat listener stopped on its own; starting it again");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => return,
        }
        pause = (pause * 2).min(LISTENER_LONGEST_PAUSE);
    }
}

/// The periodic producers that follow mentions up; each tick queues what is due in the outbox.
pub struct FollowUpTasks {
    pub digest: Option<Digester>,
    pub report: Option<Reporter>,
    pub reminders: Option<Reminders>,
    pub answers: AnswerWatch,
    /// Ends a storm that has calmed down even when no mention arrives.
    pub store: Store,
}

impl FollowUpTasks {
    /// Runs each once at `now` (answered-detection only when `check_answers`); failures are
    /// logged and tried again next tick. Returns whether anything was queued.
    pub async fn tick(&self, now: chrono::DateTime<Utc>, check_answers: bool) -> bool {
        let mut queued = false;
        if let Some(digest) = &self.digest {
            match digest.tick(now).await {
                Ok(sent) => queued |= sent,
                Err(error) => {
                    tracing::error!(%error, "cannot queue the digest; trying again shortly")
                }
            }
        }
        if let Some(report) = &self.report {
            match report.tick(now).await {
                Ok(sent) => queued |= sent,
                Err(error) => {
                    tracing::error!(%error, "cannot queue the weekly report; trying again shortly")
                }
            }
        }
        if let Some(reminders) = &self.reminders {
            match reminders.tick(now).await {
                Ok(count) => queued |= count > 0,
                Err(error) => tracing::error!(%error, "reminders failed; trying again shortly"),
            }
        }
        match self.store.storm_tick(now).await {
            Ok(ended) => queued |= ended,
            Err(error) => tracing::error!(%error, "storm check failed; trying again shortly"),
        }
        if check_answers {
            match self.answers.tick(now).await {
                Ok(count) => queued |= count > 0,
                Err(error) => {
                    tracing::error!(%error, "answered-detection failed; trying again later")
                }
            }
        }
        queued
    }
}

/// Each chat's `answerers`, as its config section names them, for the desk to apply.
fn with_answerers(desk: Desk, config: &Config) -> Desk {
    let mut desk = desk;
    if let Some(shell) = &config.shell {
        desk = desk.with_answerers("shell", Answerers::new(shell.answerers.clone()));
    }
    if let Some(slack) = &config.slack {
        desk = desk.with_answerers("slack", Answerers::new(slack.answerers.clone()));
    }
    if let Some(discord) = &config.discord {
        let ids = discord.answerers.iter().map(u64::to_string);
        desk = desk.with_answerers("discord", Answerers::new(ids));
    }
    desk
}

/// Every configured chat. The terminal is always built (it is also where `--once` prints), but
/// only relays mentions when `[chat.shell]` is configured.
fn build_chats(
    config: &Config,
    shell: Arc<Shell>,
    http: &reqwest::Client,
) -> Result<Vec<Arc<dyn Chat>>, ChatError> {
    let mut chats: Vec<Arc<dyn Chat>> = Vec::new();
    if config.shell.is_some() {
        chats.push(shell);
    }
    if let Some(discord) = &config.discord {
        chats.push(Arc::new(Discord::new(discord.clone(), http.clone())));
    }
    if let Some(slack) = &config.slack {
        chats.push(Arc::new(SlackChat::new(slack.clone())?));
    }
    Ok(chats)
}

/// Fetches, filters and stores one poll of `source`. Failures are logged and retried on the
/// next poll; the cursor stays where it was, so nothing is skipped. Returns how many are new.
pub async fn poll(store: &Store, source: &dyn Source, rules: &Rules) -> usize {
    let name = source.name();
    let cursor = match store.cursor(name) {
        Ok(cursor) => cursor,
        Err(error) => {
            tracing::error!(source = name, %error, "cannot read the source's cursor");
            return 0;
        }
    };
    let fetched = match source.fetch(&cursor).await {
        Ok(fetched) => fetched,
        Err(error) => {
            record_poll(store, name, Err(error.to_string()));
            tracing::warn!(source = name, %error, "poll failed; trying again next time");
            return 0;
        }
    };
    let seen = fetched.mentions.len();
    let kept = relevant(store, source, fetched.mentions, rules);
    // Edits to reviews already stored are saved before the cursor moves past them.
    let revised = revise(store, name, &kept);
    let first_read = crate::domain::review::without_replies(&kept);
    match store.ingest(name, &first_read, &fetched.cursor, Utc::now()) {
        Ok(numbers) => {
            // Reviews that arrived with the business's reply are answered by it now.
            let revised = revised + revise(store, name, &kept);
            if fetched.problems.is_empty() {
                record_poll(store, name, Ok(numbers.len()));
            } else {
                // What was found is stored; the part that failed is the source's health to report.
                let problems = fetched.problems.join("; ");
                tracing::warn!(source = name, %problems, "poll partly failed; the rest was stored");
                record_poll(store, name, Err(problems));
            }
            tracing::info!(
                source = name,
                seen,
                matched = kept.len(),
                new = numbers.len(),
                revised,
                "polled"
            );
            numbers.len() + revised
        }
        Err(error) => {
            tracing::error!(source = name, %error, "cannot store what the source found; trying again next poll");
            0
        }
    }
}

/// Applies what changed in reviews the store already holds (see [`Store::revise`]); a failure
/// is logged and the next poll's read tries again. Returns how many changed.
fn revise(store: &Store, name: &str, kept: &[Mention]) -> usize {
    match store.revise(name, kept, Utc::now()) {
        Ok(revised) => revised,
        Err(error) => {
            tracing::error!(source = name, %error, "cannot store the changes to known reviews; trying again next poll");
            0
        }
    }
}

/// The mentions the rules relay, each with the keywords it matched.
fn relevant(
    store: &Store,
    source: &dyn Source,
    mentions: Vec<Mention>,
    rules: &Rules,
) -> Vec<Mention> {
    let name = source.name();
    let addressed = source.addressed_to_brand();
    let ours = |id: &str| matches!(store.answered_with(name, id), Ok(Some(_)));
    mentions
        .into_iter()
        .filter_map(|mention| {
            let provenance = Provenance {
                source_addressed: addressed,
                is_our_answer: ours(&mention.key.id),
                replies_to_our_answer: mention.in_reply_to.as_deref().is_some_and(ours),
            };
            mention.taken_in(provenance)
        })
        .filter_map(|mut mention| match rules.judge(&mention) {
            Verdict::Relay(matched) => {
                mention.matched = matched;
                Some(mention)
            }
            Verdict::Drop(reason) => {
                tracing::debug!(source = name, id = %mention.key.id, ?reason, "dropped by the rules");
                None
            }
        })
        .collect()
}

/// Notes a poll's outcome for the digest's source health; losing one note is harmless.
fn record_poll(store: &Store, source: &str, outcome: Result<usize, String>) {
    if let Err(error) = store.record_poll(source, outcome, Utc::now()) {
        tracing::warn!(source, %error, "cannot record the source's health");
    }
}

async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Tracked;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A chat whose listener returns at once, the first times with a transient error.
    struct Flaky {
        listens: AtomicUsize,
    }

    #[async_trait]
    impl Chat for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn listens(&self) -> bool {
            true
        }
        async fn post(&self, _: &Tracked, _: chrono::DateTime<Utc>) -> Result<String, ChatError> {
            Ok(String::new())
        }
        async fn update(
            &self,
            _: &str,
            _: &Tracked,
            _: &str,
            _: chrono::DateTime<Utc>,
        ) -> Result<(), ChatError> {
            Ok(())
        }
        async fn listen(
            self: Arc<Self>,
            _: Desk,
            _: watch::Receiver<bool>,
        ) -> Result<(), ChatError> {
            match self.listens.fetch_add(1, Ordering::SeqCst) {
                0 => Err(ChatError::Retry {
                    reason: "connection reset".into(),
                    after: None,
                }),
                1 => Ok(()),
                _ => Err(ChatError::Permanent("invalid_auth".into())),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_listener_that_returns_early_is_restarted_and_one_that_fails_for_good_ends() {
        let chat = Arc::new(Flaky {
            listens: AtomicUsize::new(0),
        });
        let store = Store::temporary(vec!["flaky".into()]).unwrap();
        let desk = Desk::new(store, "/mentions".into(), Arc::new(Notify::new()));
        let (_stop, stopped) = watch::channel(false);
        let task = tokio::spawn(keep_listening(chat.clone(), desk, stopped));
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the task ends once the listener fails for good")
            .unwrap();
        assert_eq!(chat.listens.load(Ordering::SeqCst), 3, "restarted twice");
    }
}
