//! The one command language every chat speaks: `/mentions claim 12` in Slack, Discord or the
//! terminal, and the buttons that stand for the same words.

use std::fmt;

/// Which mentions `list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListFilter {
    /// Still owed an answer: open or claimed.
    #[default]
    Open,
    Mine,
    Claimed,
    All,
}

/// A member named in a command, as typed: `@jane`, `jane`, or a chat's own mention syntax, which the
/// chat adapter resolves to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    /// One page of a list (1 is the first).
    List {
        filter: ListFilter,
        page: u32,
    },
    Show(u64),
    Claim(u64),
    Release(u64),
    Assign(u64, MemberRef),
    /// Without text, chats that have forms open one; the terminal asks for the text.
    Answer(u64, Option<String>),
    Done(u64, Option<String>),
    Ignore(u64, Option<String>),
    Reopen(u64),
    /// No reminders for #N until then.
    Snooze(u64, SnoozeUntil),
    /// What is still owed, as the daily digest would say it now, to the caller only.
    Digest,
    /// How well the team answered over the last so many days.
    Stats {
        days: u32,
    },
    /// The saved replies, for `answer N :name`.
    Replies,
    /// Which process leads, and what waits in the outbox.
    Health,
}

impl Command {
    /// Whether it would post in public under the brand's name, which only answerers may do
    /// (chats that must look up a person's groups to tell ask only then).
    pub fn publishes(&self) -> bool {
        matches!(self, Command::Answer(..))
    }
}

/// How long `snooze` silences a mention, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnoozeUntil {
    /// `2h`, `30m`, `1d`.
    For(std::time::Duration),
    /// The team's next business morning.
    Tomorrow,
    /// `2026-04-01`: the start of that day in the team's time zone.
    Date(chrono::NaiveDate),
}

/// Days `stats` covers unless told otherwise.
pub const DEFAULT_STATS_DAYS: u32 = 7;

/// Why a command could not be understood, with the usage that would work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Unknown subcommand `{given}`. Try `{prefix} help`.")]
    Unknown { given: String, prefix: String },
    #[error("`{sub}` needs a mention number, like `{prefix} {sub} 12`.{usage}", usage = usage_suffix(.usage))]
    MissingNumber {
        sub: &'static str,
        prefix: String,
        usage: &'static str,
    },
    #[error("`{given}` is not a mention number; use the number on the card, like `12` or `#12`.")]
    BadNumber { given: String },
    #[error("Usage: `{prefix} {usage}`")]
    Usage { prefix: String, usage: &'static str },
}

fn usage_suffix(usage: &str) -> String {
    if usage.is_empty() {
        String::new()
    } else {
        format!(" Usage: `{usage}`")
    }
}

fn list_filter(word: &str) -> Option<ListFilter> {
    match word {
        "open" => Some(ListFilter::Open),
        "mine" => Some(ListFilter::Mine),
        "claimed" => Some(ListFilter::Claimed),
        "all" => Some(ListFilter::All),
        _ => None,
    }
}

/// Every subcommand with its usage, in the order `help` shows them.
pub const USAGE: &[(&str, &str, &str)] = &[
    ("help", "help", "show this help"),
    (
        "list",
        "list [open|mine|claimed|all] [page]",
        "mentions still owed an answer (or the chosen set), most urgent first",
    ),
    ("show", "show N", "one mention with its history"),
    ("claim", "claim N", "take #N: you will answer it"),
    ("release", "release N", "give #N back to the team"),
    (
        "assign",
        "assign N @member",
        "claim #N on someone else's behalf",
    ),
    (
        "answer",
        "answer N <text>",
        "post your answer on the network (`:name`: a saved reply)",
    ),
    (
        "done",
        "done N [link or note]",
        "answered elsewhere, nothing left to do",
    ),
    ("ignore", "ignore N [reason]", "needs no answer"),
    ("reopen", "reopen N", "put #N back in the open"),
    (
        "snooze",
        "snooze N 2h|tomorrow|<date>",
        "no reminders for #N until then",
    ),
    ("digest", "digest", "what is still owed, now, to you only"),
    ("stats", "stats [7d|30d]", "how well the team answers"),
    (
        "replies",
        "replies",
        "the saved replies, for `answer N :name`",
    ),
    (
        "health",
        "health",
        "which earshot process leads, and what waits to be delivered",
    ),
];

/// The help text for `prefix` (the configured command name, such as `/mentions`).
pub fn help(prefix: &str) -> String {
    let width = USAGE
        .iter()
        .map(|(_, usage, _)| usage.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("Commands:\n");
    for (_, usage, what) in USAGE {
        text.push_str(&format!("  {prefix} {usage:<width$}  {what}\n"));
    }
    text.push_str("N is the number on the card: 12 or #12.");
    text
}

/// Parses the text after the command name: `claim #12`, `answer 3 Thanks for the report!`.
/// `prefix` is only used to write the error messages.
pub fn parse(text: &str, prefix: &str) -> Result<Command, ParseError> {
    let text = text.trim();
    let (sub, rest) = split_word(text);
    let sub_lower = sub.to_lowercase();
    let Some(&(name, usage, _)) = USAGE.iter().find(|(name, ..)| *name == sub_lower) else {
        if sub.is_empty() {
            return Ok(Command::Help);
        }
        return Err(ParseError::Unknown {
            given: sub.to_string(),
            prefix: prefix.to_string(),
        });
    };
    let usage_error = || ParseError::Usage {
        prefix: prefix.to_string(),
        usage,
    };

    match name {
        "help" => Ok(Command::Help),
        "list" => {
            let words: Vec<String> = rest.split_whitespace().map(str::to_lowercase).collect();
            let (filter, page) = match words.as_slice() {
                [] => (ListFilter::Open, None),
                [word] => match list_filter(word) {
                    Some(filter) => (filter, None),
                    None => (ListFilter::Open, Some(word.as_str())),
                },
                [word, page] => (
                    list_filter(word).ok_or_else(usage_error)?,
                    Some(page.as_str()),
                ),
                _ => return Err(usage_error()),
            };
            let page = match page.map(str::parse::<u32>) {
                None => 1,
                Some(Ok(page)) if page >= 1 => page,
                Some(_) => return Err(usage_error()),
            };
            Ok(Command::List { filter, page })
        }
        "digest" if rest.is_empty() => Ok(Command::Digest),
        "digest" => Err(usage_error()),
        "replies" if rest.is_empty() => Ok(Command::Replies),
        "replies" => Err(usage_error()),
        "health" if rest.is_empty() => Ok(Command::Health),
        "health" => Err(usage_error()),
        "stats" => match rest.to_lowercase().as_str() {
            "" => Ok(Command::Stats {
                days: DEFAULT_STATS_DAYS,
            }),
            window => match window.strip_suffix('d').map(str::parse::<u32>) {
                Some(Ok(days)) if (1..=366).contains(&days) => Ok(Command::Stats { days }),
                _ => Err(usage_error()),
            },
        },
        _ => {
            let (number, rest) = split_word(rest);
            if number.is_empty() {
                return Err(ParseError::MissingNumber {
                    sub: name,
                    prefix: prefix.to_string(),
                    usage: "",
                });
            }
            let number = parse_number(number)?;
            let text = (!rest.is_empty()).then(|| rest.to_string());
            match name {
                "show" | "claim" | "release" | "reopen" if text.is_some() => Err(usage_error()),
                "show" => Ok(Command::Show(number)),
                "claim" => Ok(Command::Claim(number)),
                "release" => Ok(Command::Release(number)),
                "reopen" => Ok(Command::Reopen(number)),
                "assign" => {
                    let (member, extra) = split_word(rest);
                    let member = member.strip_prefix('@').unwrap_or(member);
                    if member.is_empty() || !extra.is_empty() {
                        return Err(usage_error());
                    }
                    Ok(Command::Assign(number, MemberRef(member.to_string())))
                }
                "answer" => Ok(Command::Answer(number, text)),
                "done" => Ok(Command::Done(number, text)),
                "ignore" => Ok(Command::Ignore(number, text)),
                "snooze" => parse_snooze(rest)
                    .map(|until| Command::Snooze(number, until))
                    .ok_or_else(usage_error),
                _ => Err(usage_error()),
            }
        }
    }
}

/// `2h`, `tomorrow` or `2026-04-01`.
fn parse_snooze(text: &str) -> Option<SnoozeUntil> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("tomorrow") {
        return Some(SnoozeUntil::Tomorrow);
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(SnoozeUntil::Date(date));
    }
    humantime::parse_duration(text)
        .ok()
        .filter(|duration| !duration.is_zero())
        .map(SnoozeUntil::For)
}

/// `12` or `#12`; mentions are numbered from 1.
pub fn parse_number(word: &str) -> Result<u64, ParseError> {
    let digits = word.strip_prefix('#').unwrap_or(word);
    match digits.parse::<u64>() {
        Ok(number) if number > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(number),
        _ => Err(ParseError::BadNumber {
            given: word.to_string(),
        }),
    }
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(at) => (&text[..at], text[at..].trim()),
        None => (text, ""),
    }
}

impl fmt::Display for ListFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListFilter::Open => "open",
            ListFilter::Mine => "mine",
            ListFilter::Claimed => "claimed",
            ListFilter::All => "all",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(cmd: Command) -> Result<Command, String> {
        Ok(cmd)
    }

    fn list(filter: ListFilter, page: u32) -> Command {
        Command::List { filter, page }
    }

    #[test]
    fn parses_every_command_and_refuses_bad_input() {
        let member = |name: &str| MemberRef(name.to_string());
        let cases: Vec<(&str, Result<Command, String>)> = vec![
            ("", ok(Command::Help)),
            ("help", ok(Command::Help)),
            ("HELP", ok(Command::Help)),
            ("list", ok(list(ListFilter::Open, 1))),
            ("list open", ok(list(ListFilter::Open, 1))),
            ("list mine", ok(list(ListFilter::Mine, 1))),
            ("list Claimed", ok(list(ListFilter::Claimed, 1))),
            ("list all", ok(list(ListFilter::All, 1))),
            ("list all 3", ok(list(ListFilter::All, 3))),
            ("list 2", ok(list(ListFilter::Open, 2))),
            ("list  mine   2", ok(list(ListFilter::Mine, 2))),
            ("list everything", Err("Usage: `/mentions list [open|mine|claimed|all] [page]`".into())),
            ("list all 0", Err("Usage: `/mentions list [open|mine|claimed|all] [page]`".into())),
            ("list all two", Err("Usage: `/mentions list [open|mine|claimed|all] [page]`".into())),
            ("list 2 all", Err("Usage: `/mentions list [open|mine|claimed|all] [page]`".into())),
            ("list all 2 3", Err("Usage: `/mentions list [open|mine|claimed|all] [page]`".into())),
            ("show 12", ok(Command::Show(12))),
            ("show #12", ok(Command::Show(12))),
            ("  claim   #7  ", ok(Command::Claim(7))),
            ("claim 7 now", Err("Usage: `/mentions claim N`".into())),
            ("release 3", ok(Command::Release(3))),
            ("reopen 3", ok(Command::Reopen(3))),
            ("assign 4 @jane", ok(Command::Assign(4, member("jane")))),
            ("assign 4 jane", ok(Command::Assign(4, member("jane")))),
            ("assign 4 <@U024BE7LH>", ok(Command::Assign(4, member("<@U024BE7LH>")))),
            ("assign 4", Err("Usage: `/mentions assign N @member`".into())),
            ("assign 4 @", Err("Usage: `/mentions assign N @member`".into())),
            ("assign 4 @jane @bob", Err("Usage: `/mentions assign N @member`".into())),
            ("answer 5 Thanks,  we're on it!", ok(Command::Answer(5, Some("Thanks,  we're on it!".into())))),
            ("answer 5", ok(Command::Answer(5, None))),
            ("done 6", ok(Command::Done(6, None))),
            ("done 6 https://example.com/reply", ok(Command::Done(6, Some("https://example.com/reply".into())))),
            ("ignore 6 spam", ok(Command::Ignore(6, Some("spam".into())))),
            ("ignore #6", ok(Command::Ignore(6, None))),
            ("claim", Err("`claim` needs a mention number, like `/mentions claim 12`.".into())),
            ("claim twelve", Err("`twelve` is not a mention number; use the number on the card, like `12` or `#12`.".into())),
            ("claim 0", Err("`0` is not a mention number; use the number on the card, like `12` or `#12`.".into())),
            ("claim -3", Err("`-3` is not a mention number; use the number on the card, like `12` or `#12`.".into())),
            ("claim +3", Err("`+3` is not a mention number; use the number on the card, like `12` or `#12`.".into())),
            ("claim ##3", Err("`##3` is not a mention number; use the number on the card, like `12` or `#12`.".into())),
            ("claim 99999999999999999999999", Err("`99999999999999999999999` is not a mention number; use the number on the card, like `12` or `#12`.".into())),
            ("snooze 3 2h", ok(Command::Snooze(3, SnoozeUntil::For(std::time::Duration::from_secs(7200))))),
            ("snooze #3 Tomorrow", ok(Command::Snooze(3, SnoozeUntil::Tomorrow))),
            ("snooze 3 2026-04-01", ok(Command::Snooze(3, SnoozeUntil::Date("2026-04-01".parse().unwrap())))),
            ("snooze 3", Err("Usage: `/mentions snooze N 2h|tomorrow|<date>`".into())),
            ("snooze 3 someday", Err("Usage: `/mentions snooze N 2h|tomorrow|<date>`".into())),
            ("snooze 3 0s", Err("Usage: `/mentions snooze N 2h|tomorrow|<date>`".into())),
            ("digest", ok(Command::Digest)),
            ("digest now", Err("Usage: `/mentions digest`".into())),
            ("stats", ok(Command::Stats { days: 7 })),
            ("health", ok(Command::Health)),
            ("HEALTH", ok(Command::Health)),
            ("stats 30d", ok(Command::Stats { days: 30 })),
            ("stats 0d", Err("Usage: `/mentions stats [7d|30d]`".into())),
            ("stats week", Err("Usage: `/mentions stats [7d|30d]`".into())),
            ("clam 3", Err("Unknown subcommand `clam`. Try `/mentions help`.".into())),
            ("🙂", Err("Unknown subcommand `🙂`. Try `/mentions help`.".into())),
        ];
        for (input, expected) in cases {
            let got = parse(input, "/mentions").map_err(|e| e.to_string());
            assert_eq!(got, expected, "input: {input:?}");
        }
    }

    #[test]
    fn every_subcommand_in_usage_parses() {
        for (name, usage, _) in USAGE {
            let example = usage
                .replace("[open|mine|claimed|all]", "mine")
                .replace("[page]", "2")
                .replace(" N", " 1")
                .replace("@member", "@jane")
                .replace("<text>", "hello")
                .replace("[link or note]", "note")
                .replace("[reason]", "spam")
                .replace("2h|tomorrow|<date>", "tomorrow")
                .replace("[7d|30d]", "30d");
            assert!(parse(&example, "/m").is_ok(), "{name}: {example}");
        }
    }

    #[test]
    fn help_lists_every_subcommand_with_the_prefix() {
        let text = help("/brand");
        for (_, usage, _) in USAGE {
            assert!(text.contains(&format!("/brand {usage}")), "{usage}");
        }
    }
}
