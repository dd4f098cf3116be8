//! What people do in Slack, translated for the desk: the slash command's text goes through the
//! core's parser, buttons stand for the same commands, and the answer modal submits
//! `Command::Answer`. Replies go only to the person who asked. Everything here returns well
//! inside Slack's 3-second acknowledgement window; what may be slow (the ephemeral reply after
//! a click) is spawned, and card edits and network answers go through the outbox.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use slack_morphism::prelude::*;

use super::render::{self, Button};
use super::SlackChat;
use crate::desk::{Caller, Desk};
use crate::domain::command;
use crate::domain::{Command, Member, MemberRef};

/// A modal must open within 3 seconds of the click that asked for it.
const OPEN_MODAL_TIMEOUT: Duration = Duration::from_millis(2_500);

pub struct Handler {
    chat: Arc<SlackChat>,
    desk: Desk,
}

impl Handler {
    pub fn new(chat: Arc<SlackChat>, desk: Desk) -> Handler {
        Handler { chat, desk }
    }

    /// The slash command: its answer is the acknowledgement, shown only to the caller.
    pub async fn command(&self, event: SlackCommandEvent) -> SlackCommandEventResponse {
        let text = event.text.unwrap_or_default();
        // Commands work from any channel the app is in; `list` there puts its mentions first.
        let here = self.chat.here(&event.channel_id.0);
        let said = match command::parse(&text, self.desk.prefix()) {
            Ok(command) => {
                let caller = self.caller(&event.user_id.0, None, &command).await;
                self.run(&caller, command, Some(&event.trigger_id), Some(&here))
                    .await
            }
            Err(error) => Some(error.to_string()),
        };
        let content = match said {
            Some(text) => render::reply(&text),
            // A modal opened; there is nothing to say.
            None => SlackMessageContent::new(),
        };
        SlackCommandEventResponse::new(content)
            .with_response_type(SlackMessageResponseType::Ephemeral)
    }

    /// Button clicks and modal submissions. The returned value is the acknowledgement: empty,
    /// or the modal's validation errors.
    pub async fn interaction(&self, event: SlackInteractionEvent) -> SlackInteractionResponse {
        match event {
            SlackInteractionEvent::BlockActions(event) => {
                self.click(event).await;
                SlackInteractionResponse::Empty
            }
            SlackInteractionEvent::ViewSubmission(event) => self.submit(event).await,
            _ => SlackInteractionResponse::Empty,
        }
    }

    async fn click(&self, event: SlackInteractionBlockActionsEvent) {
        let Some(action) = event.actions.as_ref().and_then(|actions| actions.first()) else {
            return;
        };
        if action.action_id.0 == render::REPLY_SELECT {
            if let Some(picked) = &action.selected_option {
                self.pick_reply(&event, &picked.value).await;
            }
            return;
        }
        let Some(user) = event.user.clone() else {
            return;
        };
        if action.action_id.0 == render::SITE_LINK {
            // The link opened the post in the browser; there is nothing to do here.
            return;
        }
        let Some(button) = Button::from_action_id(&action.action_id.0) else {
            tracing::debug!(action = %action.action_id.0, "ignoring a click on a control earshot does not know");
            return;
        };
        let number = action.value.as_deref().map(command::parse_number);
        let Some(Ok(number)) = number else {
            tracing::warn!(value = ?action.value, "a card button carried no mention number");
            return;
        };
        let command = match button {
            Button::Claim => Command::Claim(number),
            Button::Release => Command::Release(number),
            Button::Answer => Command::Answer(number, None),
            Button::Done => Command::Done(number, None),
            Button::Ignore => Command::Ignore(number, None),
            Button::Reopen => Command::Reopen(number),
        };
        let name = user.name.as_deref().or(user.username.as_deref());
        let caller = self.caller(&user.id.0, name, &command).await;
        let channel = event
            .channel
            .map(|channel| channel.id)
            .unwrap_or_else(|| self.chat.channel());
        let here = self.chat.here(&channel.0);
        if let Some(text) = self
            .run(&caller, command, Some(&event.trigger_id), Some(&here))
            .await
        {
            self.tell(channel, user.id, text);
        }
    }

    async fn submit(&self, event: SlackInteractionViewSubmissionEvent) -> SlackInteractionResponse {
        let SlackView::Modal(modal) = &event.view.view else {
            return SlackInteractionResponse::Empty;
        };
        if modal.callback_id.as_ref().map(|id| id.0.as_str()) != Some(render::ANSWER_CALLBACK) {
            return SlackInteractionResponse::Empty;
        }
        let number = modal
            .private_metadata
            .as_deref()
            .and_then(|raw| command::parse_number(raw).ok());
        let Some(number) = number else {
            return errors(
                render::ANSWER_BLOCK,
                "This form lost track of its mention; close it and click Answer... again.",
            );
        };
        // The text box's block id changes with the saved reply chosen (see `answer_modal`).
        let answer = event.view.state_params.state.as_ref().and_then(|state| {
            state
                .values
                .iter()
                .find(|(block, _)| block.0.starts_with(render::ANSWER_BLOCK))
        });
        let block = answer.map_or(render::ANSWER_BLOCK.to_string(), |(block, _)| {
            block.0.clone()
        });
        let text = answer
            .and_then(|(_, inputs)| inputs.get(&render::ANSWER_INPUT.into()))
            .and_then(|input| input.value.clone())
            .unwrap_or_default();
        let errors = |text: &str| errors(&block, text);
        let command = Command::Answer(number, Some(text));
        let caller = self
            .caller(&event.user.id.0, event.user.name.as_deref(), &command)
            .await;
        let answer = self.desk.execute(&caller, command, &unnamed, Utc::now());
        let Some(reply) = crate::chat::caught("a Slack answer form", answer).await else {
            return errors(crate::chat::SORRY);
        };
        if !reply.ok {
            return errors(&reply.text);
        }
        let channel = match self.desk.mention(number) {
            Ok(tracked) => self.chat.channel_of(&tracked),
            Err(_) => self.chat.channel(),
        };
        self.tell(channel, event.user.id, reply.text);
        SlackInteractionResponse::Empty
    }

    /// Runs one command for `member`; returns what to tell them, or `None` when a modal
    /// opened instead. A panic (a bug) is caught, logged, and answered with an apology.
    async fn run(
        &self,
        caller: &Caller,
        command: Command,
        trigger: Option<&SlackTriggerId>,
        here: Option<&crate::desk::Here>,
    ) -> Option<String> {
        crate::chat::caught(
            "a Slack command",
            self.run_uncaught(caller, command, trigger, here),
        )
        .await
        .unwrap_or_else(|| Some(crate::chat::SORRY.into()))
    }

    async fn run_uncaught(
        &self,
        caller: &Caller,
        command: Command,
        trigger: Option<&SlackTriggerId>,
        here: Option<&crate::desk::Here>,
    ) -> Option<String> {
        let command = match command {
            Command::Answer(number, None) => {
                return self.open_answer(caller, number, trigger).await
            }
            Command::Assign(number, who) => {
                let Some(to) = self.chat.people.named(&self.chat.api, &who).await else {
                    return Some(format!(
                        "Pick the member with @ so Slack links them, like `{} assign {number} @name`.",
                        self.desk.prefix()
                    ));
                };
                let reply = self
                    .desk
                    .execute(
                        caller,
                        Command::Assign(number, who),
                        &|_| to.clone(),
                        Utc::now(),
                    )
                    .await;
                return Some(reply.text);
            }
            command => command,
        };
        let reply = self
            .desk
            .execute_in(caller, command, &unnamed, Utc::now(), here)
            .await;
        Some(reply.text)
    }

    async fn open_answer(
        &self,
        caller: &Caller,
        number: u64,
        trigger: Option<&SlackTriggerId>,
    ) -> Option<String> {
        let form = match self.desk.answer_form(caller, number, None) {
            Ok(form) => form,
            Err(reply) => return Some(reply.text),
        };
        let Some(trigger) = trigger else {
            return Some(self.answer_hint(number));
        };
        let request = SlackApiViewsOpenRequest::new(
            trigger.clone(),
            render::answer_modal(&form.tracked, &form.replies, None),
        );
        match tokio::time::timeout(OPEN_MODAL_TIMEOUT, self.chat.api.open_view(&request)).await {
            Ok(Ok(_)) => None,
            Ok(Err(error)) => {
                tracing::warn!(number, %error, "Slack did not open the answer modal");
                Some(self.answer_hint(number))
            }
            Err(_) => Some(self.answer_hint(number)),
        }
    }

    /// A saved reply picked in the answer modal: the modal is redrawn (views.update) with the
    /// reply in the text box, where it can still be edited before Send.
    async fn pick_reply(&self, event: &SlackInteractionBlockActionsEvent, name: &str) {
        let SlackInteractionActionContainer::View(container) = &event.container else {
            return;
        };
        let number = match &event.view {
            Some(SlackView::Modal(modal)) => modal
                .private_metadata
                .as_deref()
                .and_then(|raw| command::parse_number(raw).ok()),
            _ => None,
        };
        let Some(number) = number else {
            tracing::warn!("a saved reply was picked in a form that names no mention");
            return;
        };
        let Some(user) = &event.user else {
            return;
        };
        let command = Command::Answer(number, None);
        let caller = self
            .caller(&user.id.0, user.name.as_deref(), &command)
            .await;
        let form = match self.desk.answer_form(&caller, number, None) {
            Ok(form) => form,
            Err(reply) => {
                tracing::warn!(number, reply = %reply.text, "cannot refill the answer form");
                return;
            }
        };
        let view = render::answer_modal(&form.tracked, &form.replies, Some(name));
        let request = SlackApiViewsUpdateRequest::new(view).with_view_id(container.view_id.clone());
        if let Err(error) = self.chat.api.update_view(&request).await {
            tracing::warn!(number, %error, "Slack did not refill the answer form with the saved reply");
        }
    }

    fn answer_hint(&self, number: u64) -> String {
        format!(
            "Slack would not open the answer form just now. Answer with `{} answer {number} <your reply>`, or click Answer... again.",
            self.desk.prefix()
        )
    }

    /// The Slack user `id` as the desk knows them; for a command that posts an answer, with
    /// the `answerers` user groups they are in, which the desk weighs.
    async fn caller(&self, id: &str, fallback: Option<&str>, command: &Command) -> Caller {
        let people = &self.chat.people;
        let member = people.member(&self.chat.api, id, fallback).await;
        let mut ids = vec![id.to_string()];
        if command.publishes() {
            ids.extend(people.groups_of(&self.chat.api, id).await);
        }
        Caller::new(member, "slack").known_as(ids)
    }

    /// An ephemeral message to `user`, sent after the acknowledgement.
    fn tell(&self, channel: SlackChannelId, user: SlackUserId, text: String) {
        let chat = self.chat.clone();
        tokio::spawn(async move {
            let request =
                SlackApiChatPostEphemeralRequest::new(channel, user, render::reply(&text));
            if let Err(error) = chat.api.post_ephemeral(&request).await {
                tracing::warn!(%error, "cannot show a reply in Slack");
            }
        });
    }
}

/// Commands other than `assign` name nobody; a name that reaches here stays as typed.
fn unnamed(who: &MemberRef) -> Member {
    Member::new(who.0.clone(), who.0.clone())
}

/// Keeps the modal open with `text` under the answer box, whose block id is `block`.
fn errors(block: &str, text: &str) -> SlackInteractionResponse {
    SlackViewSubmissionResponse::Errors(SlackViewSubmissionErrorsResponse::new(
        [(block.to_string(), text.to_string())].into(),
    ))
    .into()
}
