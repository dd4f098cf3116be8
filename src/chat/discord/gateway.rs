//! Interactions over the gateway (the default): serenity keeps the WebSocket session
//! (identify, heartbeats, resumes); each interaction is answered through the REST callback.

use serenity::all::{
    ClientBuilder, Context, EventHandler, GatewayIntents, HttpBuilder, Interaction, Ready,
};
use tokio::sync::watch;

use super::http::Rest;
use super::interactions::{deferred, in_time, Outcome, Responder, Timely};
use crate::chat::ChatError;

struct Handler {
    responder: Responder,
    rest: Rest,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, "connected to the Discord gateway");
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        deliver(&self.rest, self.responder.clone(), interaction).await;
    }
}

/// Runs the gateway session until `shutdown`.
pub async fn run(
    token: &str,
    api_url: &str,
    rest: Rest,
    responder: Responder,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ChatError> {
    // serenity's `Http` only discovers the gateway here (`GET /api/v10/gateway`); its proxy
    // setting, which `api_url` needs, is ignored unless its rate limiter is off.
    let http = HttpBuilder::new(token)
        .proxy(api_url)
        .ratelimiter_disabled(true)
        .build();
    // Interactions need no privileged intent; GUILDS is the smallest useful set.
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(Handler { responder, rest })
        .await
        .map_err(|error| {
            ChatError::Permanent(format!("cannot start the Discord client: {error}"))
        })?;
    let shards = client.shard_manager.clone();
    // Shutdown may come before the shards exist, so it is watched here rather than handed to
    // the shard manager alone.
    let session = client.start();
    tokio::pin!(session);
    tokio::select! {
        result = &mut session => result.map_err(|error| {
            ChatError::Permanent(format!("the Discord gateway session ended: {error}"))
        }),
        () = async { drop(shutdown.wait_for(|stop| *stop).await) } => {
            shards.shutdown_all().await;
            Ok(())
        }
    }
}

/// Answers one interaction over REST: at once when the desk is quick, else deferred first.
pub async fn deliver(rest: &Rest, responder: Responder, interaction: Interaction) {
    let id = interaction.id().get();
    let token = interaction.token().to_string();
    let application = interaction.application_id().get();
    match in_time(responder.respond(interaction)).await {
        Timely::Now(outcome) => {
            if let Err(error) = rest.respond(id, &token, &outcome.response()).await {
                tracing::warn!(?error, "could not answer a Discord interaction");
            }
        }
        Timely::Late(task) => {
            if let Err(error) = rest.respond(id, &token, &deferred()).await {
                tracing::warn!(?error, "could not defer a Discord interaction");
            }
            follow_up(rest, application, &token, task).await;
        }
    }
}

/// Replaces the deferred answer with the real one.
pub async fn follow_up(
    rest: &Rest,
    application: u64,
    token: &str,
    task: tokio::task::JoinHandle<Outcome>,
) {
    let text = match task.await {
        Ok(Outcome::Text(text)) => text,
        Ok(other) => {
            tracing::warn!(
                ?other,
                "a late interaction answer cannot be sent as an edit"
            );
            return;
        }
        Err(error) => {
            tracing::error!(%error, "a Discord interaction handler failed");
            "Sorry, earshot failed on that; nothing changed. Try again in a moment.".into()
        }
    };
    if let Err(error) = rest.edit_response(application, token, &text).await {
        tracing::warn!(
            ?error,
            "could not send a late answer to a Discord interaction"
        );
    }
}
