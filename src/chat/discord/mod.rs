//! Discord as a chat: one message per mention in the configured channel, with an embed and
//! buttons, edited in place on every change, and a thread under it carrying the history.
//! People act through the buttons, an answer form and the application command, received over
//! the gateway ([`gateway`]) or the HTTP interactions endpoint ([`endpoint`]).
//!
//! Layout: [`render`] draws messages, [`commands`] translates Discord's commands, buttons and
//! forms into the core's [`Command`](crate::domain::Command), [`interactions`] asks the desk
//! and shapes the answer, [`http`] speaks the REST API.

mod commands;
mod endpoint;
mod gateway;
mod http;
mod interactions;
mod render;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use tokio::sync::watch;

use self::http::{Rest, RestError, UNKNOWN_CHANNEL};
use self::interactions::Responder;
use super::{Chat, ChatError};
use crate::config::DiscordConfig;
use crate::desk::Desk;
use crate::domain::{Member, Tracked};
use serenity::all::CreateMessage;

pub use self::endpoint::PATH as INTERACTIONS_PATH;

/// Discord's JSON error code when a message already has a thread.
const THREAD_EXISTS: i64 = 160004;
/// Thread names take at most 100 characters.
const THREAD_NAME_LIMIT: usize = 100;

pub struct Discord {
    config: DiscordConfig,
    rest: Rest,
    /// Set once Discord refused to start a thread here; notes then go out as replies.
    threads_refused: AtomicBool,
    /// The interactions endpoint's address once it listens.
    bound: watch::Sender<Option<SocketAddr>>,
}

impl Discord {
    pub fn new(config: DiscordConfig, client: reqwest::Client) -> Discord {
        Discord {
            rest: Rest::new(&config.api_url, &config.token, client),
            config,
            threads_refused: AtomicBool::new(false),
            bound: watch::channel(None).0,
        }
    }

    /// The address of the HTTP interactions endpoint, once it listens (with `listen` on port 0,
    /// the port the system chose).
    pub fn endpoint_address(&self) -> watch::Receiver<Option<SocketAddr>> {
        self.bound.subscribe()
    }

    /// Registers the command with one bulk overwrite, so every start leaves exactly the
    /// current list. An outage only delays it: the previous registration stays in force.
    async fn register(&self, prefix: &str) -> Result<(), ChatError> {
        let result = async {
            let application = self.rest.application_id().await?;
            self.rest
                .overwrite_commands(
                    application,
                    self.config.guild_id,
                    &[commands::definition(prefix)],
                )
                .await
        }
        .await;
        match result.map_err(ChatError::from) {
            Ok(()) => {
                tracing::info!(
                    command = %commands::command_name(prefix),
                    guild = ?self.config.guild_id,
                    "Discord command registered"
                );
                Ok(())
            }
            Err(ChatError::Retry { reason, .. }) => {
                tracing::warn!(%reason, "cannot register the Discord command now; the last registration stays");
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// `channel` (a route's), or the configured one.
    fn channel_or_own(&self, channel: Option<&str>) -> Result<u64, ChatError> {
        match channel {
            None => Ok(self.config.channel_id),
            Some(id) => id.parse().map_err(|_| {
                ChatError::Permanent(format!(
                    "`{id}` is not a Discord channel id (check the routes)"
                ))
            }),
        }
    }

    /// The channel `tracked` lives in: its route's, decided when it was found, or ours.
    fn channel_of(&self, tracked: &Tracked) -> Result<u64, ChatError> {
        self.channel_or_own(tracked.place.channel(self.name()))
    }

    /// Adds `note` to the mention's thread, starting the thread on first use.
    async fn note(&self, message: u64, tracked: &Tracked, note: &str) -> Result<(), ChatError> {
        let channel = self.channel_of(tracked)?;
        self.in_thread(message, tracked, |as_reply| {
            render::note(channel, message, tracked, note, as_reply)
        })
        .await
    }

    /// Sends what `render` draws into the mention's thread, starting the thread on first use;
    /// where threads are refused, as a reply to the mention's message (`render(true)`).
    async fn in_thread(
        &self,
        message: u64,
        tracked: &Tracked,
        render: impl Fn(bool) -> CreateMessage + Send,
    ) -> Result<(), ChatError> {
        let channel = self.channel_of(tracked)?;
        if !self.threads_refused.load(Ordering::Relaxed) {
            // A thread started on a message has the message's id.
            let in_thread = render(false);
            match self.rest.send_message(message, &in_thread).await {
                Ok(_) => return Ok(()),
                Err(error) if missing(&error) => {
                    let name = render::truncate(
                        &format!(
                            "#{} · {} · {}",
                            tracked.number,
                            tracked.mention.author.display(),
                            tracked.mention.excerpt(THREAD_NAME_LIMIT)
                        ),
                        THREAD_NAME_LIMIT,
                    );
                    match self.rest.start_thread(channel, message, &name).await {
                        Err(error) if error.status() == Some(StatusCode::FORBIDDEN) => {
                            self.refuse_threads(&error);
                        }
                        Err(error) if error.code() != Some(THREAD_EXISTS) => {
                            return Err(error.into())
                        }
                        _ => {
                            self.rest.send_message(message, &in_thread).await?;
                            return Ok(());
                        }
                    }
                }
                Err(error) if error.status() == Some(StatusCode::FORBIDDEN) => {
                    self.refuse_threads(&error);
                }
                Err(error) => return Err(error.into()),
            }
        }
        self.rest.send_message(channel, &render(true)).await?;
        Ok(())
    }

    fn refuse_threads(&self, error: &RestError) {
        tracing::warn!(?error, "Discord refused a thread; history notes go out as replies (grant the bot Create Public Threads and Send Messages in Threads)");
        self.threads_refused.store(true, Ordering::Relaxed);
    }
}

#[async_trait]
impl Chat for Discord {
    fn name(&self) -> &str {
        "discord"
    }

    async fn post(&self, mention: &Tracked, now: DateTime<Utc>) -> Result<String, ChatError> {
        let message = render::message(mention, now);
        let id = self
            .rest
            .send_message(self.channel_of(mention)?, &message)
            .await?;
        Ok(id.to_string())
    }

    async fn update(
        &self,
        message: &str,
        mention: &Tracked,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let message = message_id(message)?;
        self.rest
            .edit_message(
                self.channel_of(mention)?,
                message,
                &render::edit(mention, now),
            )
            .await?;
        self.note(message, mention, note).await
    }

    async fn post_notice(&self, text: &str, now: DateTime<Utc>) -> Result<(), ChatError> {
        self.post_notice_in(None, text, now).await
    }

    async fn post_notice_in(
        &self,
        channel: Option<&str>,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let channel = self.channel_or_own(channel)?;
        for part in render::notice(channel, text) {
            self.rest.send_message(channel, &part).await?;
        }
        Ok(())
    }

    async fn post_summary(&self, text: &str, now: DateTime<Utc>) -> Result<String, ChatError> {
        self.post_summary_in(None, text, now).await
    }

    async fn post_summary_in(
        &self,
        channel: Option<&str>,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<String, ChatError> {
        let target = self.channel_or_own(channel)?;
        let id = self
            .rest
            .send_message(target, &render::summary(target, text))
            .await?;
        // A summary in a route's channel is remembered with it, to be edited there.
        Ok(match channel {
            Some(channel) => format!("{channel}/{id}"),
            None => id.to_string(),
        })
    }

    async fn update_summary(
        &self,
        message: &str,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let (channel, message) = match message.split_once('/') {
            Some((channel, message)) => (self.channel_or_own(Some(channel))?, message),
            None => (self.config.channel_id, message),
        };
        let message = message_id(message)?;
        self.rest
            .edit_message(channel, message, &render::summary_edit(text))
            .await?;
        Ok(())
    }

    async fn nudge(
        &self,
        message: Option<&str>,
        mention: &Tracked,
        text: &str,
        ping: &[String],
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let channel = self.channel_of(mention)?;
        let Some(message) = message else {
            // The card is not shown (yet): the reminder goes to its channel itself.
            let nudge = render::nudge(channel, 0, text, ping, false);
            self.rest.send_message(channel, &nudge).await?;
            return Ok(());
        };
        let message = message_id(message)?;
        self.in_thread(message, mention, |as_reply| {
            render::nudge(channel, message, text, ping, as_reply)
        })
        .await
    }

    async fn notify_member(
        &self,
        member: &Member,
        message: Option<&str>,
        mention: &Tracked,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        if let Some(user) = discord_user(member) {
            let sent = async {
                let dm = self.rest.open_dm(user).await?;
                self.rest.send_message(dm, &render::direct(text)).await
            }
            .await;
            match sent.map_err(ChatError::from) {
                Ok(_) => return Ok(()),
                Err(retry @ ChatError::Retry { .. }) => return Err(retry),
                // Typically 50007: the member accepts no direct messages from this server.
                Err(ChatError::Permanent(reason)) => {
                    tracing::warn!(member = %member.id, %reason, "cannot message a member directly; reminding them in the thread");
                }
            }
        }
        // Not a Discord user (a member from another chat), or no DM possible: the thread.
        let named = format!("{member}: {text}");
        self.nudge(message, mention, &named, &[], now).await
    }

    async fn upload(
        &self,
        file_name: &str,
        bytes: &[u8],
        caption: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let content_type = super::content_type(file_name);
        let payload = render::upload(caption, file_name);
        self.rest
            .send_file(
                self.config.channel_id,
                &payload,
                file_name,
                content_type,
                bytes,
            )
            .await?;
        Ok(())
    }

    fn listens(&self) -> bool {
        true
    }

    fn listens_alone(&self) -> bool {
        // The gateway is one session per bot; the interactions endpoint is plain HTTP.
        self.config.endpoint.is_none()
    }

    async fn listen(
        self: Arc<Self>,
        desk: Desk,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), ChatError> {
        self.register(desk.prefix()).await?;
        let responder = Responder {
            desk,
            channel: self.config.channel_id,
        };
        match &self.config.endpoint {
            Some(settings) => {
                let verifier = endpoint::verifier(&settings.public_key)?;
                endpoint::serve(
                    settings.listen,
                    verifier,
                    responder,
                    self.rest.clone(),
                    shutdown,
                    &self.bound,
                )
                .await
            }
            None => {
                gateway::run(
                    &self.config.token,
                    &self.config.api_url,
                    self.rest.clone(),
                    responder,
                    shutdown,
                )
                .await
            }
        }
    }
}

fn message_id(message: &str) -> Result<u64, ChatError> {
    message
        .parse()
        .map_err(|_| ChatError::Permanent(format!("`{message}` is not a Discord message id")))
}

/// The Discord user behind a member, when the member acted on Discord.
fn discord_user(member: &Member) -> Option<u64> {
    member.id.strip_prefix("discord:")?.parse().ok()
}

/// The thread does not exist (yet).
fn missing(error: &RestError) -> bool {
    error.code() == Some(UNKNOWN_CHANNEL) || error.status() == Some(StatusCode::NOT_FOUND)
}
