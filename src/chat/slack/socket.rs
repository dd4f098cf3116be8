//! Socket Mode: the bot opens a WebSocket with the app-level token (`apps.connections.open`),
//! so it needs no public URL. slack-morphism acknowledges each envelope once its callback
//! returns, with the callback's answer as the payload; the callbacks hand over to [`Handler`].

use std::sync::Arc;

use slack_morphism::prelude::*;
use tokio::sync::watch;

use super::handler::Handler;
use crate::chat::ChatError;

/// How long the app token check before connecting may take.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

pub async fn serve(
    handler: Arc<Handler>,
    client: Arc<SlackHyperClient>,
    app_token: &str,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ChatError> {
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_command_events(on_command)
        .with_interaction_events(on_interaction);
    let environment = Arc::new(
        SlackClientEventsListenerEnvironment::new(client.clone())
            .with_error_handler(on_error)
            .with_user_state(handler),
    );
    // slack-morphism's listener retries a refused connection in the background for ever, so a
    // revoked or wrong app token would leave earshot deaf without a word: ask once ourselves.
    let token = SlackApiToken::new(app_token.to_string().into());
    let opened = tokio::time::timeout(
        CHECK_TIMEOUT,
        client
            .open_session(&token)
            .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new()),
    )
    .await;
    match opened {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => match super::api::classify("apps.connections.open", error) {
            ChatError::Permanent(reason) => {
                return Err(ChatError::Permanent(format!(
                    "{reason} (for Socket Mode: check app_token in [chat.slack], an App-Level Token with connections:write)"
                )))
            }
            retry => return Err(retry),
        },
        Err(_) => {
            return Err(ChatError::Retry {
                reason: "Slack's apps.connections.open did not answer in time".into(),
                after: None,
            })
        }
    }
    let listener = SlackClientSocketModeListener::new(
        &SlackClientSocketModeConfig::new(),
        environment,
        callbacks,
    );
    listener
        .listen_for(&token)
        .await
        .map_err(|error| ChatError::Permanent(format!("cannot start Socket Mode: {error}")))?;
    listener.start().await;
    tracing::info!("listening for Slack over Socket Mode");
    let _ = shutdown.wait_for(|stop| *stop).await;
    listener.shutdown().await;
    Ok(())
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackHyperClient>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let handler = handler(&state).await?;
    Ok(handler.command(event).await)
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<SlackHyperClient>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    let handler = handler(&state).await?;
    Ok(handler.interaction(event).await)
}

async fn handler(state: &SlackClientEventsUserState) -> UserCallbackResult<Arc<Handler>> {
    state
        .read()
        .await
        .get_user_state::<Arc<Handler>>()
        .cloned()
        .ok_or_else(|| "the Slack listener lost its handler".into())
}

/// An envelope that cannot be read is logged and acknowledged anyway: Slack would only send it
/// again, and it would fail the same way.
fn on_error(
    error: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackHyperClient>,
    _state: SlackClientEventsUserState,
) -> HttpStatusCode {
    tracing::warn!(%error, "a Slack envelope could not be handled");
    HttpStatusCode::OK
}
