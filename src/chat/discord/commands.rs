//! The application command and the buttons, both derived from the core's command language: the
//! subcommands and their typed options come from [`command::USAGE`], and whatever a person
//! picks is turned back into the text the core parser reads, so Discord can never accept a
//! command the terminal would not.

use serenity::all::{
    CommandData, CommandDataOption, CommandDataOptionValue, CommandOptionType,
    CreateAutocompleteResponse, CreateCommand, CreateCommandOption, ModalInteractionData,
};
use serenity::model::application::ActionRowComponent;

use super::render::truncate;
use crate::domain::command::{self, USAGE};
use crate::domain::{Command, Tracked};

/// The field of the answer form that holds the text.
pub const ANSWER_FIELD: &str = "text";
/// Discord shows at most 25 suggestions.
pub(crate) const MOST_CHOICES: usize = 25;
/// Choice names and command descriptions take at most 100 characters.
const NAME_LIMIT: usize = 100;
/// Every custom id earshot puts on a button or form starts with this.
const CUSTOM_ID_PREFIX: &str = "earshot";

/// What a person asked for through Discord, before the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    Run(Command),
    /// Open the answer form for #N (after offering the saved replies, if there are any).
    AnswerForm(u64),
    /// Open the answer form for #N with this saved reply filled in (`None`: an empty form).
    AnswerWith(u64, Option<String>),
    /// Suggest mentions for what they typed so far in the number option.
    Suggest(String),
    /// Not understood; the text says why and what would work.
    Refuse(String),
}

/// A button on a mention's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Claim,
    Release,
    Answer,
    Done,
    Ignore,
    Reopen,
}

impl Button {
    const ALL: [Button; 6] = [
        Button::Claim,
        Button::Release,
        Button::Answer,
        Button::Done,
        Button::Ignore,
        Button::Reopen,
    ];

    /// The subcommand the button stands for.
    fn word(self) -> &'static str {
        match self {
            Button::Claim => "claim",
            Button::Release => "release",
            Button::Answer => "answer",
            Button::Done => "done",
            Button::Ignore => "ignore",
            Button::Reopen => "reopen",
        }
    }

    /// `earshot:claim:12`: also the custom id of the answer form (`earshot:answer:12`).
    pub fn custom_id(self, number: u64) -> String {
        format!("{CUSTOM_ID_PREFIX}:{}:{number}", self.word())
    }

    pub fn parse(custom_id: &str) -> Option<(Button, u64)> {
        let mut parts = custom_id.split(':');
        if parts.next() != Some(CUSTOM_ID_PREFIX) {
            return None;
        }
        let word = parts.next()?;
        let number = command::parse_number(parts.next()?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        let button = Button::ALL.into_iter().find(|b| b.word() == word)?;
        Some((button, number))
    }
}

/// The Discord name of the configured command: `/mentions` becomes `mentions`.
pub fn command_name(prefix: &str) -> String {
    prefix.trim_start_matches('/').to_lowercase()
}

/// The application command, one subcommand per entry of the core's usage table.
pub fn definition(prefix: &str) -> CreateCommand {
    let mut definition = CreateCommand::new(command_name(prefix))
        .description("Mentions of the brand: list, claim, answer, close");
    for (name, usage, what) in USAGE {
        let mut sub = CreateCommandOption::new(
            CommandOptionType::SubCommand,
            *name,
            truncate(what, NAME_LIMIT),
        );
        for option in options(usage) {
            sub = sub.add_sub_option(option.create());
        }
        definition = definition.add_option(sub);
    }
    definition
}

/// A slash command (or an autocomplete request for one).
pub fn from_command(data: &CommandData, prefix: &str) -> Ask {
    if let Some(focused) = data.autocomplete() {
        return Ask::Suggest(focused.value.to_string());
    }
    let Some(CommandDataOption {
        name,
        value: CommandDataOptionValue::SubCommand(given),
        ..
    }) = data.options.first()
    else {
        return from_text("help", prefix);
    };
    let Some((_, usage, _)) = USAGE.iter().find(|(sub, ..)| sub == name) else {
        return Ask::Refuse(format!(
            "`{prefix} {name}` is not known here; the command list may be out of date. Try `{prefix} help`."
        ));
    };
    let mut text = name.clone();
    for option in options(usage) {
        let value = given
            .iter()
            .find(|o| o.name == option.name)
            .map(|o| &o.value);
        let word = match value {
            Some(CommandDataOptionValue::Integer(number)) => number.to_string(),
            Some(CommandDataOptionValue::String(text)) => text.clone(),
            Some(CommandDataOptionValue::User(user)) => format!("<@{user}>"),
            _ => continue,
        };
        text.push(' ');
        text.push_str(&word);
    }
    from_text(&text, prefix)
}

/// A click on one of a message's buttons.
pub fn from_button(custom_id: &str, prefix: &str) -> Ask {
    match Button::parse(custom_id) {
        Some((Button::Answer, number)) => Ask::AnswerForm(number),
        Some((button, number)) => from_text(&format!("{} {number}", button.word()), prefix),
        None => Ask::Refuse(unknown_control()),
    }
}

/// The custom id of the saved-reply select for #N: `earshot:reply:12`.
pub fn reply_pick_id(number: u64) -> String {
    format!("{CUSTOM_ID_PREFIX}:{REPLY_PICK}:{number}")
}

const REPLY_PICK: &str = "reply";
/// The select's "write my own" value: never a reply name (those have no `+`).
pub const WRITE_OWN: &str = "+own";

/// A saved reply picked for #N from the select [`reply_pick_id`] names; [`WRITE_OWN`] is
/// "write my own".
pub fn from_reply_pick(custom_id: &str, values: &[String]) -> Ask {
    let number = custom_id
        .strip_prefix(CUSTOM_ID_PREFIX)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.strip_prefix(REPLY_PICK))
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|number| command::parse_number(number).ok());
    let Some(number) = number else {
        return Ask::Refuse(unknown_control());
    };
    match values.first().map(String::as_str) {
        None | Some(WRITE_OWN) => Ask::AnswerWith(number, None),
        Some(name) => Ask::AnswerWith(number, Some(name.to_string())),
    }
}

/// The answer form, submitted.
pub fn from_modal(data: &ModalInteractionData) -> Ask {
    let Some((Button::Answer, number)) = Button::parse(&data.custom_id) else {
        return Ask::Refuse(unknown_control());
    };
    let text = data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .find_map(|component| match component {
            ActionRowComponent::InputText(input) if input.custom_id == ANSWER_FIELD => {
                input.value.clone()
            }
            _ => None,
        })
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Ask::Refuse(format!(
            "The answer to #{number} was empty; nothing was sent."
        ));
    }
    Ask::Run(Command::Answer(number, Some(text)))
}

/// Suggestions for the number option: "#12 · @jane · first words", newest first, narrowed by
/// what was typed (a number prefix, or words from the author or the text).
pub fn suggestions(open: &[Tracked], typed: &str) -> CreateAutocompleteResponse {
    let typed = typed.trim().trim_start_matches('#').to_lowercase();
    let mut response = CreateAutocompleteResponse::new();
    for tracked in open
        .iter()
        .rev()
        .filter(|tracked| {
            let mention = &tracked.mention;
            typed.is_empty()
                || tracked.number.to_string().starts_with(&typed)
                || mention.author.display().to_lowercase().contains(&typed)
                || mention.text.to_lowercase().contains(&typed)
        })
        .take(MOST_CHOICES)
    {
        let name = format!(
            "#{} · {} · {}",
            tracked.number,
            tracked.mention.author.display(),
            tracked.mention.excerpt(NAME_LIMIT)
        );
        let number = i64::try_from(tracked.number).unwrap_or(i64::MAX);
        response = response.add_int_choice(truncate(&name, NAME_LIMIT), number);
    }
    response
}

fn from_text(text: &str, prefix: &str) -> Ask {
    match command::parse(text, prefix) {
        Ok(Command::Answer(number, None)) => Ask::AnswerForm(number),
        Ok(command) => Ask::Run(command),
        Err(error) => Ask::Refuse(error.to_string()),
    }
}

fn unknown_control() -> String {
    "This button belongs to an older earshot message; use the command instead.".to_string()
}

/// One typed option of a subcommand, read from its usage (`assign N @member`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct OptionSpec {
    name: String,
    kind: OptionKind,
    description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OptionKind {
    /// `N`: required, suggested from the open mentions.
    Number,
    /// `@member`: a server member, picked from Discord's list.
    Member,
    /// `[open|mine|…]`: one of these words.
    Choice(Vec<String>),
    /// `<text>` or `[note]`: free text. Optional in Discord: an answer without text opens
    /// the form, and the desk explains what else is missing.
    Text,
}

impl OptionSpec {
    fn create(&self) -> CreateCommandOption {
        let description = truncate(&self.description, NAME_LIMIT);
        match &self.kind {
            OptionKind::Number => {
                CreateCommandOption::new(CommandOptionType::Integer, &self.name, description)
                    .required(true)
                    .min_int_value(1)
                    .set_autocomplete(true)
            }
            OptionKind::Member => {
                CreateCommandOption::new(CommandOptionType::User, &self.name, description)
                    .required(true)
            }
            OptionKind::Choice(words) => words.iter().fold(
                CreateCommandOption::new(CommandOptionType::String, &self.name, description),
                |option, word| option.add_string_choice(word, word),
            ),
            OptionKind::Text => {
                CreateCommandOption::new(CommandOptionType::String, &self.name, description)
            }
        }
    }
}

/// The options in a usage line, in order: `done N [link or note]` gives `number` and `note`.
fn options(usage: &str) -> Vec<OptionSpec> {
    let mut specs = Vec::new();
    for token in tokens(usage).into_iter().skip(1) {
        let inner = token.trim_matches(|c| matches!(c, '[' | ']' | '<' | '>'));
        let spec = if token == "N" {
            OptionSpec {
                name: "number".into(),
                kind: OptionKind::Number,
                description: "the number on the card, like 12".into(),
            }
        } else if let Some(name) = token.strip_prefix('@') {
            OptionSpec {
                name: name.to_string(),
                kind: OptionKind::Member,
                description: "who takes it".into(),
            }
        } else if inner.contains('|') {
            OptionSpec {
                name: "filter".into(),
                kind: OptionKind::Choice(inner.split('|').map(str::to_string).collect()),
                description: format!("which mentions: {}", inner.replace('|', ", ")),
            }
        } else {
            let name = inner.rsplit(' ').next().unwrap_or(inner).to_string();
            let description = match name.as_str() {
                "text" => "your answer; leave it out to write it in a form".to_string(),
                "page" => "which page of the list, from 1".to_string(),
                _ => inner.to_string(),
            };
            OptionSpec {
                name,
                kind: OptionKind::Text,
                description,
            }
        };
        specs.push(spec);
    }
    specs
}

/// Words of a usage line, keeping `[link or note]` in one piece.
fn tokens(usage: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = None;
    let mut depth = 0;
    for (at, c) in usage.char_indices() {
        match c {
            '[' | '<' => depth += 1,
            ']' | '>' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if let Some(from) = start.take() {
                tokens.push(&usage[from..at]);
            }
        } else if start.is_none() {
            start = Some(at);
        }
    }
    if let Some(from) = start {
        tokens.push(&usage[from..]);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::domain::{Author, ListFilter, MemberRef, Mention, MentionKey, State};

    fn data(value: Value) -> CommandData {
        serde_json::from_value(value).unwrap()
    }

    fn slash(sub: &str, options: Value) -> CommandData {
        data(json!({
            "id": "3000", "name": "mentions", "type": 1,
            "options": [{"name": sub, "type": 1, "options": options}]
        }))
    }

    #[test]
    fn usage_lines_become_typed_options() {
        let names = |usage| -> Vec<(String, OptionKind)> {
            options(usage)
                .into_iter()
                .map(|o| (o.name, o.kind))
                .collect()
        };
        assert_eq!(names("help"), vec![]);
        assert_eq!(
            names("assign N @member"),
            vec![
                ("number".into(), OptionKind::Number),
                ("member".into(), OptionKind::Member)
            ]
        );
        assert_eq!(
            names("done N [link or note]"),
            vec![
                ("number".into(), OptionKind::Number),
                ("note".into(), OptionKind::Text)
            ]
        );
        assert_eq!(
            names("list [open|mine|claimed|all] [page]"),
            vec![
                (
                    "filter".into(),
                    OptionKind::Choice(vec![
                        "open".into(),
                        "mine".into(),
                        "claimed".into(),
                        "all".into()
                    ])
                ),
                ("page".into(), OptionKind::Text)
            ]
        );
    }

    #[test]
    fn the_definition_mirrors_every_subcommand() {
        let definition = serde_json::to_value(definition("/Mentions")).unwrap();
        assert_eq!(definition["name"], json!("mentions"));
        let subs = definition["options"].as_array().unwrap();
        assert_eq!(subs.len(), USAGE.len());
        let claim = subs.iter().find(|s| s["name"] == "claim").unwrap();
        assert_eq!(claim["type"], json!(1));
        let number = &claim["options"][0];
        assert_eq!(number["name"], json!("number"));
        assert_eq!(number["type"], json!(4));
        assert_eq!(number["required"], json!(true));
        assert_eq!(number["autocomplete"], json!(true));
        let assign = subs.iter().find(|s| s["name"] == "assign").unwrap();
        assert_eq!(assign["options"][1]["type"], json!(6));
    }

    #[test]
    fn slash_commands_become_core_commands() {
        let cases = vec![
            (slash("claim", json!([{"name": "number", "type": 4, "value": 12}])), Ask::Run(Command::Claim(12))),
            (slash("list", json!([{"name": "filter", "type": 3, "value": "mine"}])), Ask::Run(Command::List { filter: ListFilter::Mine, page: 1 })),
            (slash("list", json!([])), Ask::Run(Command::List { filter: ListFilter::Open, page: 1 })),
            (
                slash("done", json!([{"name": "number", "type": 4, "value": 3}, {"name": "note", "type": 3, "value": "https://x.example/1"}])),
                Ask::Run(Command::Done(3, Some("https://x.example/1".into()))),
            ),
            (
                slash("assign", json!([{"name": "number", "type": 4, "value": 3}, {"name": "member", "type": 6, "value": "42"}])),
                Ask::Run(Command::Assign(3, MemberRef("<@42>".into()))),
            ),
            (
                slash("answer", json!([{"name": "number", "type": 4, "value": 5}, {"name": "text", "type": 3, "value": "Thanks!\nWe are on it."}])),
                Ask::Run(Command::Answer(5, Some("Thanks!\nWe are on it.".into()))),
            ),
            (slash("answer", json!([{"name": "number", "type": 4, "value": 5}])), Ask::AnswerForm(5)),
            (slash("claim", json!([{"name": "number", "type": 4, "value": 0}])), Ask::Refuse("`0` is not a mention number; use the number on the card, like `12` or `#12`.".into())),
            (slash("frobnicate", json!([])), Ask::Refuse("`/mentions frobnicate` is not known here; the command list may be out of date. Try `/mentions help`.".into())),
            (
                slash("show", json!([{"name": "number", "type": 4, "value": "1", "focused": true}])),
                Ask::Suggest("1".into()),
            ),
        ];
        for (data, expected) in cases {
            assert_eq!(from_command(&data, "/mentions"), expected, "{data:?}");
        }
    }

    #[test]
    fn buttons_and_forms_become_core_commands() {
        assert_eq!(
            Button::parse(&Button::Done.custom_id(7)),
            Some((Button::Done, 7))
        );
        assert_eq!(
            from_button("earshot:claim:7", "/m"),
            Ask::Run(Command::Claim(7))
        );
        assert_eq!(
            from_button("earshot:ignore:7", "/m"),
            Ask::Run(Command::Ignore(7, None))
        );
        assert_eq!(from_button("earshot:answer:7", "/m"), Ask::AnswerForm(7));
        for bad in [
            "earshot:claim:x",
            "earshot:claim:7:8",
            "other:claim:7",
            "earshot:fly:7",
            "",
        ] {
            assert!(matches!(from_button(bad, "/m"), Ask::Refuse(_)), "{bad}");
        }
        let form: ModalInteractionData = serde_json::from_value(json!({
            "custom_id": "earshot:answer:7",
            "components": [{"type": 1, "components": [{"type": 4, "custom_id": "text", "value": "Fixed now, sorry!"}]}]
        }))
        .unwrap();
        assert_eq!(
            from_modal(&form),
            Ask::Run(Command::Answer(7, Some("Fixed now, sorry!".into())))
        );
    }

    #[test]
    fn suggestions_list_open_mentions_newest_first_and_narrow_by_what_was_typed() {
        let mention = |number: u64, handle: &str, text: &str| Tracked {
            number,
            mention: Mention {
                key: MentionKey::new("s", number.to_string()),
                network: crate::sources::bluesky::TRAITS.network(),
                author: Author {
                    handle: handle.into(),
                    name: None,
                    profile: None,
                },
                text: text.into(),
                link: None,
                created_at: chrono::Utc::now(),
                matched: vec![],
                language: None,
                in_reply_to: None,
                direct: false,
                review: None,
            },
            state: State::Open,
            received_at: chrono::Utc::now(),
            follow_up_of: None,
            priority: Default::default(),
            place: Default::default(),
            copy: Default::default(),
        };
        let open = vec![
            mention(2, "jane", "Acme lids leak"),
            mention(12, "bob", "Love the new Acme roast"),
            mention(30, "carol", "x".repeat(300).as_str()),
        ];
        let choices = |typed| {
            serde_json::to_value(suggestions(&open, typed)).unwrap()["choices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap().to_string(),
                        c["value"].as_i64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let all = choices("");
        assert_eq!(all.iter().map(|c| c.1).collect::<Vec<_>>(), [30, 12, 2]);
        assert_eq!(all[1].0, "#12 · @bob · Love the new Acme roast");
        assert!(all[0].0.chars().count() <= 100);
        assert_eq!(choices("#1").iter().map(|c| c.1).collect::<Vec<_>>(), [12]);
        assert_eq!(choices("LIDS").iter().map(|c| c.1).collect::<Vec<_>>(), [2]);
    }
}
