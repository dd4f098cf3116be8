//! Slack as a chat: one Block Kit message per mention, edited in place on every change, with
//! the history in its thread; the slash command, the buttons and the answer modal arrive over
//! Socket Mode (the default) or, with a signing secret, as signed HTTP requests.
//!
//! - [`render`]: the core's state as Block Kit, and the escaping of relayed text;
//! - [`api`]: the Web API calls, bounded in time, pacing and failure sorting;
//! - [`connector`]: the HTTP under them, on the network toolkit (`Retry-After` in both forms);
//! - [`people`]: Slack users as members, and who may answer;
//! - [`handler`]: slash commands, clicks and modal submissions, turned into desk calls;
//! - [`socket`] and [`http`] (with [`signature`]): the two ways Slack delivers them.

pub mod api;
pub mod connector;
pub mod handler;
pub mod http;
pub mod people;
pub mod render;
pub mod signature;
pub mod socket;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use slack_morphism::prelude::*;
use tokio::sync::watch;

use super::{Chat, ChatError};
use crate::desk::Desk;
use crate::domain::{Member, Tracked};
use api::Api;
use people::People;

/// Where Slack's API lives unless the config says otherwise.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";
/// chat.postMessage "generally allows one message per second per channel".
pub const POST_EVERY: Duration = Duration::from_secs(1);
/// How many pages of channel history a retried post searches for the card an earlier attempt
/// may have posted; the card is newer than the mention, so this is plenty unless the channel
/// is very busy.
const HISTORY_PAGES: usize = 5;
/// Slack's clock and ours may differ a little; the history search starts this much earlier.
const CLOCK_SLACK: i64 = 5 * 60;

/// `[chat.slack]`, checked.
#[derive(Clone)]
pub struct SlackConfig {
    /// The channel id cards go to.
    pub channel: String,
    pub bot_token: String,
    pub listen: Listen,
    pub api_url: String,
    /// Users and user groups allowed to post answers; empty = everyone.
    pub answerers: Vec<String>,
    /// How far apart cards and thread notes are posted.
    pub post_every: Duration,
}

/// How Slack delivers commands and clicks.
#[derive(Clone)]
pub enum Listen {
    /// A WebSocket the bot opens with the app-level token: no public URL needed.
    Socket { app_token: String },
    /// Signed HTTP requests to `address`.
    Http {
        signing_secret: String,
        address: SocketAddr,
    },
}

impl fmt::Debug for SlackConfig {
    // Tokens and secrets never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listen = match &self.listen {
            Listen::Socket { .. } => "socket mode".to_string(),
            Listen::Http { address, .. } => format!("http on {address}"),
        };
        f.debug_struct("SlackConfig")
            .field("channel", &self.channel)
            .field("listen", &listen)
            .field("api_url", &self.api_url)
            .field("answerers", &self.answerers)
            .finish_non_exhaustive()
    }
}

pub struct SlackChat {
    config: SlackConfig,
    /// slack-morphism's own client, for Socket Mode's WebSocket only.
    socket_client: Arc<SlackHyperClient>,
    api: Api,
    people: People,
}

impl SlackChat {
    pub fn new(config: SlackConfig) -> Result<SlackChat, ChatError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|error| {
                ChatError::Permanent(format!(
                    "cannot load the system's TLS root certificates for Slack: {error}"
                ))
            })?
            // Plain http only for an api_url that says so: a local proxy, or a test server.
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let socket_client = Arc::new(SlackClient::new(
            SlackClientHyperConnector::with_connector(connector)
                .with_slack_api_url(config.api_url.trim_end_matches('/')),
        ));
        let web = connector::Connector::new(&config.api_url).map_err(|error| {
            ChatError::Permanent(format!("cannot build Slack's HTTP client: {error}"))
        })?;
        Ok(SlackChat {
            api: Api::new(
                Arc::new(SlackClient::new(web)),
                &config.bot_token,
                config.post_every,
            ),
            people: People::new(config.answerers.clone()),
            socket_client,
            config,
        })
    }

    pub(crate) fn channel(&self) -> SlackChannelId {
        SlackChannelId::new(self.config.channel.clone())
    }

    /// `channel` (a route's), or the configured one.
    fn channel_or_own(&self, channel: Option<&str>) -> SlackChannelId {
        channel.map_or_else(|| self.channel(), |id| SlackChannelId::new(id.to_string()))
    }

    /// The channel `mention` lives in: its route's, decided when it was found, or ours.
    pub(crate) fn channel_of(&self, mention: &Tracked) -> SlackChannelId {
        self.channel_or_own(mention.place.channel(self.name()))
    }

    /// Where a command typed in `channel` was typed, for the desk.
    pub(crate) fn here(&self, channel: &str) -> crate::desk::Here {
        crate::desk::Here {
            chat: self.name().to_string(),
            channel: (channel != self.config.channel && !channel.is_empty())
                .then(|| channel.to_string()),
        }
    }

    /// Serves HTTP mode on `listener` until `shutdown`; [`Chat::listen`] binds the configured
    /// address and calls this (tests bind port 0 themselves).
    pub async fn serve_http(
        self: Arc<Self>,
        desk: Desk,
        listener: tokio::net::TcpListener,
        signing_secret: String,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), ChatError> {
        let handler = Arc::new(handler::Handler::new(self, desk));
        http::serve(handler, listener, signing_secret, shutdown).await
    }
}

#[async_trait]
impl Chat for SlackChat {
    fn name(&self) -> &str {
        "slack"
    }

    async fn post(&self, mention: &Tracked, now: DateTime<Utc>) -> Result<String, ChatError> {
        let request = SlackApiChatPostMessageRequest::new(
            self.channel_of(mention),
            render::card(mention, now),
        )
        .with_unfurl_links(false)
        .with_unfurl_media(false);
        let posted = self.api.post_message(&request).await?;
        Ok(message_id(&posted.channel, &posted.ts))
    }

    async fn update(
        &self,
        message: &str,
        mention: &Tracked,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let (channel, ts) = parse_message_id(message)?;
        let card = render::card(mention, now);
        self.api
            .update(&SlackApiChatUpdateRequest::new(
                channel.clone(),
                card,
                ts.clone(),
            ))
            .await?;
        let request = SlackApiChatPostMessageRequest::new(channel, render::note(note))
            .with_thread_ts(ts)
            .with_unfurl_links(false)
            .with_unfurl_media(false);
        self.api.post_message(&request).await?;
        Ok(())
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
        let request =
            SlackApiChatPostMessageRequest::new(self.channel_or_own(channel), render::notice(text))
                .with_unfurl_links(false)
                .with_unfurl_media(false);
        self.api.post_message(&request).await?;
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
        let channel = self.channel_or_own(channel);
        let request = SlackApiChatPostMessageRequest::new(channel, render::notice(text))
            .with_unfurl_links(false)
            .with_unfurl_media(false);
        let posted = self.api.post_message(&request).await?;
        Ok(message_id(&posted.channel, &posted.ts))
    }

    async fn update_summary(
        &self,
        message: &str,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let (channel, ts) = parse_message_id(message)?;
        self.api
            .update(&SlackApiChatUpdateRequest::new(
                channel,
                render::notice(text),
                ts,
            ))
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
        let content = render::nudge(text, ping);
        let request = if let Some(message) = message {
            let (channel, ts) = parse_message_id(message)?;
            // An escalation is also shown in the channel, where the people it alerts look.
            SlackApiChatPostMessageRequest::new(channel, content)
                .with_thread_ts(ts)
                .with_reply_broadcast(!ping.is_empty())
        } else {
            // The card is not shown (yet): the reminder goes to its channel itself.
            SlackApiChatPostMessageRequest::new(self.channel_of(mention), content)
        };
        self.api
            .post_message(&request.with_unfurl_links(false).with_unfurl_media(false))
            .await?;
        Ok(())
    }

    async fn notify_member(
        &self,
        member: &Member,
        message: Option<&str>,
        mention: &Tracked,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        if render::is_user_id(&member.id) {
            match self.api.open_dm(&SlackUserId::new(member.id.clone())).await {
                Ok(dm) => {
                    let request = SlackApiChatPostMessageRequest::new(dm, render::notice(text))
                        .with_unfurl_links(false)
                        .with_unfurl_media(false);
                    self.api.post_message(&request).await?;
                    return Ok(());
                }
                Err(retry @ ChatError::Retry { .. }) => return Err(retry),
                Err(ChatError::Permanent(reason)) => {
                    tracing::warn!(member = %member.id, %reason, "cannot message a member directly; reminding them in the thread");
                }
            }
        }
        // Not a Slack user (a member from another chat), or no DM possible: the thread, by name.
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
        self.api
            .upload(
                &self.channel(),
                file_name,
                content_type,
                bytes,
                &render::escape(caption),
            )
            .await
    }

    async fn find_posted(&self, mention: &Tracked) -> Result<Option<String>, ChatError> {
        let oldest = mention.received_at.timestamp() - CLOCK_SLACK;
        let channel = self.channel_of(mention);
        let mut query = api::HistoryQuery {
            channel: channel.0.clone(),
            oldest: format!("{oldest}.000000"),
            limit: 200,
            cursor: None,
        };
        for _ in 0..HISTORY_PAGES {
            let page = self.api.history(&query).await?;
            let found = page.messages.iter().find(|message| {
                message.metadata.as_ref().and_then(render::card_number) == Some(mention.number)
            });
            if let Some(message) = found {
                return Ok(Some(message_id(
                    &channel,
                    &SlackTs::new(message.ts.clone()),
                )));
            }
            match page.response_metadata.and_then(|meta| meta.next_cursor) {
                Some(cursor) if !cursor.is_empty() => query.cursor = Some(cursor),
                _ => break,
            }
        }
        Ok(None)
    }

    fn listens(&self) -> bool {
        true
    }

    async fn listen(
        self: Arc<Self>,
        desk: Desk,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), ChatError> {
        match self.config.listen.clone() {
            Listen::Socket { app_token } => {
                let handler = Arc::new(handler::Handler::new(self.clone(), desk));
                socket::serve(handler, self.socket_client.clone(), &app_token, shutdown).await
            }
            Listen::Http {
                signing_secret,
                address,
            } => {
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|error| {
                        ChatError::Permanent(format!(
                            "cannot listen for Slack on {address}: {error}"
                        ))
                    })?;
                tracing::info!(%address, "listening for Slack requests");
                self.serve_http(desk, listener, signing_secret, shutdown)
                    .await
            }
        }
    }
}

/// How the store remembers a card: "C0123456789/1700000000.000100".
fn message_id(channel: &SlackChannelId, ts: &SlackTs) -> String {
    format!("{}/{}", channel.0, ts.0)
}

fn parse_message_id(message: &str) -> Result<(SlackChannelId, SlackTs), ChatError> {
    match message.split_once('/') {
        Some((channel, ts)) if !channel.is_empty() && !ts.is_empty() => Ok((
            SlackChannelId::new(channel.to_string()),
            SlackTs::new(ts.to_string()),
        )),
        _ => Err(ChatError::Permanent(format!(
            "`{message}` is not a Slack message reference"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_round_trip() {
        let id = message_id(&"C1".into(), &"1700000000.000100".into());
        assert_eq!(id, "C1/1700000000.000100");
        let (channel, ts) = parse_message_id(&id).expect("parses");
        assert_eq!(
            (channel.0.as_str(), ts.0.as_str()),
            ("C1", "1700000000.000100")
        );
        assert!(parse_message_id("shell-3").is_err());
    }
}
