//! Wires the config into running parts: sources polled on their schedules, the outbox worker,
//! and the terminal chat reading commands, under one supervisor with an explicit shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinSet;

mod streaming;

pub use streaming::{follow, stream_cursor_name};

use crate::answered::AnswerWatch;
use crate::chat::discord::Discord;
use crate::chat::shell::Shell;
use crate::chat::slack::SlackChat;
use crate::chat::{Chat, ChatError};
use crate::config::{Config, SourceKind};
use crate::desk::Desk;
use crate::digest::Digester;
use crate::domain::{Member, MemberRef, Mention};
use crate::outbox::Outbox;
use crate::reminders::Reminders;
use crate::report::Reporter;
use crate::rules::{Rules, Verdict};
use crate::sources::bluesky::Bluesky;
use crate::sources::feed::Feed;
use crate::sources::hackernews::HackerNews;
use crate::sources::mastodon::Mastodon;
use crate::sources::reddit::Reddit;
use crate::sources::x::X;
use crate::sources::Source;
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
}

/// The parts of a running earshot.
pub struct App {
    pub store: Store,
    pub desk: Desk,
    pub outbox: Outbox,
    pub shell: Arc<Shell>,
    pub member: Member,
    sources: Vec<(Arc<dyn Source>, Rules)>,
    chats: Vec<Arc<dyn Chat>>,
    wake: Arc<Notify>,
    follow_up: crate::config::FollowUp,
}

impl App {
    pub fn build(config: &Config, options: &RunOptions) -> Result<App, AppError> {
        let mut store = Store::open(&config.store, config.chat_names())?
            .with_lexicon(config.follow_up.lexicon.clone());
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
                let built: Arc<dyn Source> = match &source.kind {
                    SourceKind::Feed { location } => Arc::new(Feed::new(
                        source.name.clone(),
                        location.clone(),
                        source.every,
                        http.clone(),
                    )),
                    SourceKind::HackerNews(settings) => Arc::new(HackerNews::new(
                        source.name.clone(),
                        settings.clone(),
                        source.every,
                        http.clone(),
                    )),
                    SourceKind::Reddit(settings) => Arc::new(Reddit::new(
                        source.name.clone(),
                        settings.clone(),
                        source.every,
                        http.clone(),
                    )),
                    SourceKind::X(settings) => Arc::new(
                        X::new(
                            source.name.clone(),
                            settings.clone(),
                            source.every,
                            http.clone(),
                        )
                        // X voids a refresh token once used; the new one must outlive the process.
                        .with_credentials(store.credentials(&source.name)),
                    ),
                    SourceKind::YouTube(settings) => {
                        Arc::new(settings.build(&source.name, source.every, http.clone()))
                    }
                    SourceKind::LinkedIn(settings) => {
                        Arc::new(settings.build(&source.name, source.every, http.clone()))
                    }
                    SourceKind::Mastodon {
                        instance,
                        token,
                        watch,
                        stream,
                    } => Arc::new(
                        Mastodon::new(
                            source.name.clone(),
                            instance.clone(),
                            token.expose().to_string(),
                            watch.clone(),
                            source.every,
                            http.clone(),
                        )
                        .with_stream(*stream),
                    ),
                    SourceKind::Bluesky {
                        pds,
                        handle,
                        app_password,
                        watch,
                        jetstream_url,
                    } => Arc::new(
                        Bluesky::new(
                            source.name.clone(),
                            pds.clone(),
                            handle.clone(),
                            app_password.clone(),
                            watch.clone(),
                            source.every,
                            http.clone(),
                        )
                        .with_jetstream(jetstream_url.clone()),
                    ),
                };
                (built, source.rules.rules())
            })
            .collect();
        let reports = config.store.parent().map_or_else(
            || std::path::PathBuf::from("reports"),
            |data| data.join("reports"),
        );
        let shell = Arc::new(Shell::stdout().with_files(reports));
        let chats = build_chats(config, shell.clone(), &http)?;
        let wake = Arc::new(Notify::new());
        let outbox = Outbox::new(
            store.clone(),
            chats.clone(),
            sources.iter().map(|(source, _)| source.clone()).collect(),
            wake.clone(),
        );
        let desk = Desk::new(store.clone(), config.command.clone(), wake.clone())
            .with_follow_up(config.follow_up.clone());
        let user = options
            .member
            .clone()
            .or_else(|| config.shell.as_ref().map(|shell| shell.user.clone()))
            .unwrap_or_else(|| "you".to_string());
        Ok(App {
            store,
            desk,
            outbox,
            shell,
            member: Member::new(user.clone(), user),
            sources,
            chats,
            wake,
            follow_up: config.follow_up.clone(),
        })
    }

    /// The digest, the weekly report, reminders and answered-detection, as configured.
    pub fn follow_up(&self) -> FollowUpTasks {
        let store = &self.store;
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

    /// `earshot run --once`: one poll of every source, the commands on stdin, a drained outbox.
    pub async fn run_once(&self) -> Result<(), AppError> {
        for (source, rules) in &self.sources {
            poll(&self.store, source.as_ref(), rules).await;
        }
        let follow_up = self.follow_up();
        follow_up.tick(Utc::now(), true).await;
        self.drain().await?;
        let mut lines = stdin_lines();
        while let Some(line) = lines.recv().await {
            self.type_line(&line).await;
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
        let mut tasks = JoinSet::new();
        let mut names = HashMap::new();

        for (source, rules) in self.sources.clone() {
            // A stream's (re)connection asks the poller for a poll now: the REST backfill.
            let backfill = Arc::new(Notify::new());
            if source.streams() {
                let id = tasks
                    .spawn(follow(
                        self.store.clone(),
                        source.clone(),
                        rules.clone(),
                        backfill.clone(),
                        self.wake.clone(),
                        stopped.clone(),
                    ))
                    .id();
                names.insert(id, format!("stream {}", source.name()));
            }
            let store = self.store.clone();
            let wake = self.wake.clone();
            let mut stopped = stopped.clone();
            let name = format!("source {}", source.name());
            let id = tasks
                .spawn(async move {
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
                })
                .id();
            names.insert(id, name);
        }
        let id = tasks.spawn(self.outbox.clone().run(stopped.clone())).id();
        names.insert(id, "outbox".to_string());

        let follow_up = self.follow_up();
        let wake = self.wake.clone();
        let mut follow_up_stopped = stopped.clone();
        let id = tasks
            .spawn(async move {
                let mut last_answer_check: Option<std::time::Instant> = None;
                loop {
                    let check_answers =
                        last_answer_check.is_none_or(|at| at.elapsed() >= ANSWER_CHECK_EVERY);
                    if check_answers {
                        last_answer_check = Some(std::time::Instant::now());
                    }
                    if follow_up.tick(Utc::now(), check_answers).await {
                        wake.notify_one();
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(FOLLOW_UP_EVERY) => {}
                        _ = follow_up_stopped.changed() => return,
                    }
                }
            })
            .id();
        names.insert(id, "follow-up".to_string());

        for chat in self.chats.clone() {
            let name = format!("chat {}", chat.name());
            let desk = self.desk.clone();
            let stopped = stopped.clone();
            let id = tasks
                .spawn(async move {
                    let chat_name = chat.name().to_string();
                    if let Err(error) = chat.listen(desk, stopped.clone()).await {
                        tracing::error!(chat = %chat_name, %error, "chat listener failed");
                        return;
                    }
                    // A chat without a listener of its own returns at once; wait for shutdown.
                    let mut stopped = stopped;
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .id();
            names.insert(id, name);
        }

        let shell = Arc::new(self);
        let typing = shell.clone();
        let mut typing_stopped = stopped.clone();
        let id = tasks
            .spawn(async move {
                let mut lines = stdin_lines();
                loop {
                    tokio::select! {
                        line = lines.recv() => match line {
                            Some(line) => typing.type_line(&line).await,
                            // No terminal (a service, or input closed): keep relaying.
                            None => return,
                        },
                        _ = typing_stopped.changed() => return,
                    }
                }
            })
            .id();
        names.insert(id, "terminal input".to_string());

        tracing::info!("earshot is running; Ctrl-C stops it");
        let signal = shutdown_signal();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                result = &mut signal => {
                    result.map_err(AppError::Signals)?;
                    break;
                }
                Some(ended) = tasks.join_next_with_id() => {
                    let (id, outcome) = match ended {
                        Ok((id, ())) => (id, "ended".to_string()),
                        Err(error) => (error.id(), format!("failed: {error}")),
                    };
                    let name = names.get(&id).cloned().unwrap_or_default();
                    if name == "terminal input" {
                        tracing::debug!("terminal input closed");
                        continue;
                    }
                    // A source or the outbox must never stop on its own; stop loudly instead of limping on.
                    tracing::error!(task = %name, %outcome, "a critical task stopped; shutting down");
                    break;
                }
            }
        }
        tracing::info!("shutting down");
        let _ = stop.send(true);
        if tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!(
                "work still in flight at shutdown stays in the outbox for the next start"
            );
            tasks.abort_all();
        }
        shell.store.flush().await?;
        Ok(())
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

    /// A line typed in the terminal: `/mentions claim 3`, or just `claim 3`.
    pub async fn type_line(&self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let prefix = self.desk.prefix();
        let text = match line.strip_prefix(prefix) {
            Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest,
            _ if line.starts_with('/') => {
                let given = line.split_whitespace().next().unwrap_or(line);
                let _ = self
                    .shell
                    .say(&format!("Unknown command `{given}`. Try `{prefix} help`."));
                return;
            }
            _ => line,
        };
        let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
        let reply = self
            .desk
            .handle(&self.member, text, &resolve, Utc::now())
            .await;
        let _ = self.shell.say(&reply.text);
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
    let kept = relevant(store, name, fetched.mentions, rules);
    match store.ingest(name, &kept, &fetched.cursor, Utc::now()) {
        Ok(numbers) => {
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
                "polled"
            );
            numbers.len()
        }
        Err(error) => {
            tracing::error!(source = name, %error, "cannot store what the source found; trying again next poll");
            0
        }
    }
}

/// The mentions the rules relay, each with the keywords it matched.
fn relevant(store: &Store, name: &str, mentions: Vec<Mention>, rules: &Rules) -> Vec<Mention> {
    mentions
        .into_iter()
        .map(|mut mention| {
            // A reply to one of the brand's answers is someone talking to the brand, keyword or not.
            if let Some(parent) = &mention.in_reply_to {
                if let Ok(Some(_)) = store.answered_with(name, parent) {
                    mention.direct = true;
                }
            }
            mention
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

/// Lines from standard input, read on a plain thread: a blocked read must not hold up the
/// runtime's shutdown.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if sender.blocking_send(line).is_err() {
                break;
            }
        }
    });
    receiver
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
