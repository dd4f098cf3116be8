//! One interaction in, one answer out, the same for the gateway and the HTTP endpoint: who is
//! asking, what they ask (see [`super::commands`]), what the desk says. Answers to the person
//! are ephemeral; the public message changes through the outbox like in every other chat.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use serenity::all::{
    ComponentInteractionDataKind, CreateActionRow, CreateAllowedMentions,
    CreateAutocompleteResponse, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateModal, CreateSelectMenu, CreateSelectMenuKind,
    CreateSelectMenuOption, InputTextStyle, Interaction, User,
};
use tokio::task::JoinHandle;

use super::commands::{self, Ask, Button, ANSWER_FIELD};
use super::render::{truncate, CONTENT_LIMIT};
use crate::desk::{AnswerForm, Caller, Desk, Here};
use crate::domain::{Member, MemberRef};

/// Discord drops an interaction not answered within 3 s. Past this, the person sees "earshot is
/// thinking…" and gets the reply as an edit once the desk is done.
pub const DEFER_AFTER: Duration = Duration::from_secs(2);
/// Discord's text inputs take at most 4000 characters.
const INPUT_LIMIT: usize = 4000;
/// Modal titles and input labels take at most 45 characters.
const LABEL_LIMIT: usize = 45;

/// Everything an interaction needs; cheap to clone into each handler task.
#[derive(Clone)]
pub struct Responder {
    pub desk: Desk,
    /// The configured channel: commands typed elsewhere are in a route's channel.
    pub channel: u64,
}

/// What to send back.
#[derive(Debug)]
pub enum Outcome {
    Pong,
    /// A message only the person who asked sees.
    Text(String),
    Form(CreateModal),
    Choices(CreateAutocompleteResponse),
    /// A message only the person sees, with a control to pick from (the saved replies).
    Pick(String, CreateActionRow),
}

/// The outcome, or the running work when it missed [`DEFER_AFTER`].
pub enum Timely {
    Now(Outcome),
    Late(JoinHandle<Outcome>),
}

impl Outcome {
    pub fn response(self) -> CreateInteractionResponse {
        match self {
            Outcome::Pong => CreateInteractionResponse::Pong,
            Outcome::Text(text) => CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content(truncate(&text, CONTENT_LIMIT))
                    .ephemeral(true)
                    .allowed_mentions(CreateAllowedMentions::new()),
            ),
            Outcome::Form(form) => CreateInteractionResponse::Modal(form),
            Outcome::Pick(text, row) => CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content(truncate(&text, CONTENT_LIMIT))
                    .components(vec![row])
                    .ephemeral(true)
                    .allowed_mentions(CreateAllowedMentions::new()),
            ),
            Outcome::Choices(choices) => CreateInteractionResponse::Autocomplete(choices),
        }
    }
}

/// "earshot is thinking…", visible only to the person, to be replaced by the reply.
pub fn deferred() -> CreateInteractionResponse {
    CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true))
}

/// Runs `work`, and hands it back still running if it misses the deadline.
pub async fn in_time(work: impl Future<Output = Outcome> + Send + 'static) -> Timely {
    let mut task = tokio::spawn(work);
    match tokio::time::timeout(DEFER_AFTER, &mut task).await {
        Ok(Ok(outcome)) => Timely::Now(outcome),
        Ok(Err(error)) => {
            tracing::error!(%error, "a Discord interaction handler failed");
            Timely::Now(Outcome::Text(
                "Sorry, earshot failed on that; nothing changed. Try again in a moment.".into(),
            ))
        }
        Err(_) => Timely::Late(task),
    }
}

impl Responder {
    pub async fn respond(self, interaction: Interaction) -> Outcome {
        let prefix = self.desk.prefix().to_string();
        match interaction {
            Interaction::Ping(_) => Outcome::Pong,
            Interaction::Command(command) => {
                let ask = commands::from_command(&command.data, &prefix);
                let users = command.data.resolved.users.clone();
                let resolve = move |who: &MemberRef| {
                    let id = who.0.trim_start_matches("<@").trim_start_matches('!');
                    let id = id.trim_end_matches('>');
                    id.parse::<u64>()
                        .ok()
                        .and_then(|id| users.iter().find(|(user, _)| user.get() == id))
                        .map(|(_, user)| member(user, None))
                        .unwrap_or_else(|| Member::new(who.0.clone(), who.0.clone()))
                };
                let who = caller(&command.user, command.member.as_deref());
                let here = self.here(command.channel_id.get());
                self.act(ask, &who, &resolve, Some(&here)).await
            }
            Interaction::Autocomplete(command) => {
                match commands::from_command(&command.data, &prefix) {
                    Ask::Suggest(typed) => self.suggest(&typed),
                    _ => Outcome::Choices(CreateAutocompleteResponse::new()),
                }
            }
            Interaction::Component(click) => {
                let ask = match &click.data.kind {
                    // The saved reply picked before the answer form: the form opens with it.
                    ComponentInteractionDataKind::StringSelect { values } => {
                        commands::from_reply_pick(&click.data.custom_id, values)
                    }
                    _ => commands::from_button(&click.data.custom_id, &prefix),
                };
                let who = caller(&click.user, click.member.as_ref());
                let here = self.here(click.channel_id.get());
                self.act(ask, &who, &by_name, Some(&here)).await
            }
            Interaction::Modal(form) => {
                let ask = commands::from_modal(&form.data);
                let who = caller(&form.user, form.member.as_ref());
                self.act(ask, &who, &by_name, None).await
            }
            _ => Outcome::Text("earshot does not handle this kind of interaction.".into()),
        }
    }

    async fn act(
        &self,
        ask: Ask,
        who: &Caller,
        resolve: &(dyn Fn(&MemberRef) -> Member + Sync),
        here: Option<&Here>,
    ) -> Outcome {
        match ask {
            Ask::Run(command) => {
                let reply = self
                    .desk
                    .execute_in(who, command, resolve, Utc::now(), here)
                    .await;
                Outcome::Text(reply.text)
            }
            // Discord forms hold text inputs only, so the saved replies are offered first, as
            // a select in a message only the person sees; picking one opens the form with it.
            Ask::AnswerForm(number) => match self.desk.answer_form(who, number, None) {
                Ok(form) if !self.desk.replies().is_empty() => reply_picker(number, &form.replies),
                Ok(form) => Outcome::Form(answer_form(form)),
                Err(reply) => Outcome::Text(reply.text),
            },
            Ask::AnswerWith(number, name) => {
                match self.desk.answer_form(who, number, name.as_deref()) {
                    Ok(form) => Outcome::Form(answer_form(form)),
                    Err(reply) => Outcome::Text(reply.text),
                }
            }
            Ask::Suggest(typed) => self.suggest(&typed),
            Ask::Refuse(text) => Outcome::Text(text),
        }
    }

    /// Where a command typed in `channel` was typed, for the desk.
    fn here(&self, channel: u64) -> Here {
        Here {
            chat: "discord".into(),
            channel: (channel != self.channel && channel != 0).then(|| channel.to_string()),
        }
    }

    fn suggest(&self, typed: &str) -> Outcome {
        Outcome::Choices(commands::suggestions(&self.desk.suggestions(typed), typed))
    }
}

/// "Answer with a saved reply?": a select of the saved replies (each shown filled in for this
/// mention) and "write my own"; the choice opens the answer form with its text.
fn reply_picker(number: u64, filled: &[(String, String)]) -> Outcome {
    let mut options = vec![
        CreateSelectMenuOption::new("Write my own answer", commands::WRITE_OWN)
            .description("an empty form"),
    ];
    for (name, text) in filled.iter().take(commands::MOST_CHOICES - 1) {
        options.push(
            CreateSelectMenuOption::new(truncate(&format!(":{name}"), 100), name.clone())
                .description(truncate(text, 100)),
        );
    }
    let menu = CreateSelectMenu::new(
        commands::reply_pick_id(number),
        CreateSelectMenuKind::String { options },
    )
    .placeholder("Pick a saved reply; you can edit it in the form");
    Outcome::Pick(
        format!("Answer #{number}: start from a saved reply, or write your own."),
        CreateActionRow::SelectMenu(menu),
    )
}

/// The answer form as a Discord modal: prefilled with the desk's draft, and limited to what
/// the network takes.
fn answer_form(form: AnswerForm) -> CreateModal {
    let AnswerForm {
        tracked,
        max_chars,
        draft,
        ..
    } = form;
    let number = tracked.number;
    let mention = &tracked.mention;
    // A saved reply that came out longer than the network takes is shown whole, to be
    // shortened here; the desk refuses it with the count if it is sent as it is.
    let limit = max_chars.max(draft.chars().count()).min(INPUT_LIMIT);
    let mut input = CreateInputText::new(
        InputTextStyle::Paragraph,
        truncate(
            &format!("Reply to {}", mention.author.display()),
            LABEL_LIMIT,
        ),
        ANSWER_FIELD,
    )
    .min_length(1)
    .max_length(u16::try_from(limit).unwrap_or(u16::MAX))
    .placeholder(truncate(
        &format!(
            "At most {limit} characters; posted publicly on {}",
            mention.network
        ),
        100,
    ))
    .required(true);
    if !draft.is_empty() {
        input = input.value(truncate(&draft, INPUT_LIMIT));
    }
    // An answer here replaces the reply under the review: the form starts from it.
    if let Some(reply) = mention
        .review
        .as_ref()
        .and_then(|found| found.reply.as_ref())
    {
        input = input
            .placeholder(truncate(
                &format!("Replaces the reply on {} now", mention.network),
                100,
            ))
            .value(truncate(&reply.text, limit));
    }
    let title = truncate(
        &format!("Answer #{number} on {}", mention.network),
        LABEL_LIMIT,
    );
    CreateModal::new(Button::Answer.custom_id(number), title)
        .components(vec![CreateActionRow::InputText(input)])
}

/// The person behind an interaction, known to `answerers` by their user id and their roles.
fn caller(user: &User, guild_member: Option<&serenity::all::Member>) -> Caller {
    let nick = guild_member.and_then(|m| m.nick.as_deref());
    let roles = guild_member.into_iter().flat_map(|m| m.roles.iter());
    let ids = std::iter::once(user.id.get())
        .chain(roles.map(|role| role.get()))
        .map(|id| id.to_string());
    Caller::new(member(user, nick), "discord").known_as(ids)
}

/// A Discord user as a team member: ids are namespaced so they never meet another chat's.
pub fn member(user: &User, nick: Option<&str>) -> Member {
    let name = nick
        .or(user.global_name.as_deref())
        .unwrap_or(&user.name)
        .to_string();
    Member::new(format!("discord:{}", user.id), name)
}

/// Buttons and forms name no one else.
fn by_name(who: &MemberRef) -> Member {
    Member::new(who.0.clone(), who.0.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slow_work_is_handed_back_to_finish_after_the_deadline() {
        let fast = in_time(async { Outcome::Text("quick".into()) }).await;
        assert!(matches!(fast, Timely::Now(Outcome::Text(text)) if text == "quick"));

        let slow = in_time(async {
            tokio::time::sleep(DEFER_AFTER * 2).await;
            Outcome::Text("slow".into())
        })
        .await;
        let Timely::Late(task) = slow else {
            panic!("a slow handler must be deferred");
        };
        assert!(matches!(task.await.unwrap(), Outcome::Text(text) if text == "slow"));
    }
}
