//! The config of following mentions up: `[priority]`, `[digest]`, `[sla]` and `[report]`.
//! Each is off until its section is present, except the priority lexicon, which defaults to
//! `priority-lexicon.toml` beside the config (or the shipped one when that file is absent).

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use chrono::Weekday;
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::{EnvString, Every};
use crate::domain::business_hours::BusinessHours;
use crate::domain::schedule::{parse_time, parse_timezone, parse_weekday, Daily};
use crate::domain::sla::Sla;
use crate::domain::storm::StormPolicy;
use crate::domain::Lexicon;

const DEFAULT_LEXICON_FILE: &str = "priority-lexicon.toml";

/// Everything the digest, reminders, answered-detection and reports need from the config.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub lexicon: Lexicon,
    /// The team's time zone: the digest's, else the SLA's, else UTC.
    pub timezone: Tz,
    /// The team's hours ("always" without `[sla]`): what "tomorrow" means for `snooze`.
    pub hours: BusinessHours,
    pub digest: Option<Daily>,
    pub sla: Option<Sla>,
    pub report: Option<Daily>,
    /// Storm mode: on by default, off with `[storm] enabled = false`.
    pub storm: Option<StormPolicy>,
}

impl Default for FollowUp {
    fn default() -> FollowUp {
        FollowUp {
            lexicon: Lexicon::default(),
            timezone: Tz::UTC,
            hours: BusinessHours::always(Tz::UTC),
            digest: None,
            sla: None,
            report: None,
            storm: Some(StormPolicy::default()),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPriority {
    lexicon: Option<Spanned<EnvString>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    at: Spanned<EnvString>,
    timezone: Option<Spanned<EnvString>>,
    days: Option<Spanned<Vec<EnvString>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSla {
    claim_within: Spanned<Every>,
    answer_within: Spanned<Every>,
    business_hours: Option<Spanned<EnvString>>,
    timezone: Option<Spanned<EnvString>>,
    #[serde(default)]
    escalate_to: Vec<EnvString>,
    release_claims_after: Option<Spanned<Every>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReport {
    day: Spanned<EnvString>,
    at: Option<Spanned<EnvString>>,
}

/// What went wrong, where (a byte span in the file) and under which key.
pub(super) type Problem = (Option<Range<usize>>, String, String);

pub(super) fn follow_up(
    base: &Path,
    priority: Option<RawPriority>,
    digest: Option<RawDigest>,
    sla: Option<RawSla>,
    report: Option<RawReport>,
) -> Result<FollowUp, Problem> {
    let problem =
        |span: Range<usize>, key: &str, message: String| (Some(span), key.to_string(), message);
    let lexicon = lexicon(base, priority.unwrap_or_default())?;

    let zone = |value: &Option<Spanned<EnvString>>, key: &str| -> Result<Option<Tz>, Problem> {
        value
            .as_ref()
            .map(|value| {
                parse_timezone(&value.get_ref().0)
                    .map_err(|message| problem(value.span(), key, message))
            })
            .transpose()
    };
    let digest_zone = digest
        .as_ref()
        .map(|d| zone(&d.timezone, "digest.timezone"))
        .transpose()?
        .flatten();
    let sla_zone = sla
        .as_ref()
        .map(|s| zone(&s.timezone, "sla.timezone"))
        .transpose()?
        .flatten();
    let timezone = digest_zone.or(sla_zone).unwrap_or(Tz::UTC);

    let digest = match digest {
        Some(raw) => {
            let at = parse_time(&raw.at.get_ref().0)
                .map_err(|m| problem(raw.at.span(), "digest.at", m))?;
            let days = match &raw.days {
                Some(days) => {
                    let mut parsed = Vec::new();
                    for day in days.get_ref() {
                        parsed.push(
                            parse_weekday(&day.0)
                                .map_err(|m| problem(days.span(), "digest.days", m))?,
                        );
                    }
                    if parsed.is_empty() {
                        return Err(problem(days.span(), "digest.days", "no days: the digest would never be sent; remove [digest] to turn it off".into()));
                    }
                    parsed
                }
                None => vec![
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                ],
            };
            Some(Daily {
                at,
                timezone: digest_zone.unwrap_or(timezone),
                days,
            })
        }
        None => None,
    };

    let sla_timezone = sla_zone.unwrap_or(timezone);
    let mut hours = BusinessHours::always(sla_timezone);
    let sla = match sla {
        Some(raw) => {
            if let Some(text) = &raw.business_hours {
                hours = BusinessHours::parse(&text.get_ref().0, sla_timezone)
                    .map_err(|m| problem(text.span(), "sla.business_hours", m))?;
            }
            let positive =
                |value: &Spanned<Every>, key: &str| -> Result<chrono::Duration, Problem> {
                    let duration = value.get_ref().0;
                    if duration < Duration::from_secs(60) {
                        return Err(problem(value.span(), key, "use at least 1m".into()));
                    }
                    chrono::Duration::from_std(duration)
                        .map_err(|_| problem(value.span(), key, "too long".into()))
                };
            Some(Sla {
                claim_within: positive(&raw.claim_within, "sla.claim_within")?,
                answer_within: positive(&raw.answer_within, "sla.answer_within")?,
                hours: hours.clone(),
                escalate_to: raw.escalate_to.into_iter().map(|s| s.0).collect(),
                release_claims_after: raw
                    .release_claims_after
                    .as_ref()
                    .map(|value| positive(value, "sla.release_claims_after"))
                    .transpose()?,
            })
        }
        None => None,
    };

    let report = match report {
        Some(raw) => Some(Daily {
            at: match &raw.at {
                Some(at) => {
                    parse_time(&at.get_ref().0).map_err(|m| problem(at.span(), "report.at", m))?
                }
                None => digest.as_ref().map_or(chrono::NaiveTime::MIN, |d| d.at),
            },
            timezone,
            days: vec![parse_weekday(&raw.day.get_ref().0)
                .map_err(|m| problem(raw.day.span(), "report.day", m))?],
        }),
        None => None,
    };

    Ok(FollowUp {
        lexicon,
        timezone,
        hours,
        digest,
        sla,
        report,
        storm: Some(StormPolicy::default()),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorm {
    #[serde(default = "yes")]
    enabled: bool,
    threshold: Option<Spanned<usize>>,
    window: Option<Spanned<Every>>,
    backlog: Option<Spanned<usize>>,
    calm: Option<Spanned<Every>>,
    alert: Option<Vec<EnvString>>,
}

fn yes() -> bool {
    true
}

/// `[storm]`: absent means the defaults (threshold 20 in 5m, backlog 50, calm 15m).
pub(super) fn storm(raw: Option<RawStorm>) -> Result<Option<StormPolicy>, Problem> {
    let Some(raw) = raw else {
        return Ok(Some(StormPolicy::default()));
    };
    if !raw.enabled {
        return Ok(None);
    }
    let mut policy = StormPolicy::default();
    let problem = |span: Range<usize>, key: &str, message: &str| {
        (Some(span), key.to_string(), message.to_string())
    };
    let count = |value: &Spanned<usize>, key: &str| -> Result<usize, Problem> {
        match *value.get_ref() {
            0 | 1 => Err(problem(
                value.span(),
                key,
                "use at least 2; `enabled = false` turns storm mode off",
            )),
            n => Ok(n),
        }
    };
    let period = |value: &Spanned<Every>, key: &str| -> Result<chrono::Duration, Problem> {
        let duration = value.get_ref().0;
        if duration < Duration::from_secs(60) {
            return Err(problem(value.span(), key, "use at least 1m"));
        }
        chrono::Duration::from_std(duration).map_err(|_| problem(value.span(), key, "too long"))
    };
    if let Some(value) = &raw.threshold {
        policy.threshold = count(value, "storm.threshold")?;
    }
    if let Some(value) = &raw.backlog {
        policy.backlog = count(value, "storm.backlog")?;
    }
    if let Some(value) = &raw.window {
        policy.window = period(value, "storm.window")?;
    }
    if let Some(value) = &raw.calm {
        policy.calm = period(value, "storm.calm")?;
    }
    if let Some(alert) = raw.alert {
        policy.alert = alert.into_iter().map(|s| s.0).collect();
    }
    Ok(Some(policy))
}

fn lexicon(base: &Path, raw: RawPriority) -> Result<Lexicon, Problem> {
    let (path, span) = match &raw.lexicon {
        Some(file) => (base.join(&file.get_ref().0), Some(file.span())),
        None => (base.join(DEFAULT_LEXICON_FILE), None),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // Only a lexicon the config names must exist.
        Err(_) if span.is_none() => return Ok(Lexicon::default()),
        Err(error) => {
            return Err((
                span,
                "priority.lexicon".into(),
                format!("cannot read {}: {error}", path.display()),
            ))
        }
    };
    // The language files it names are read from its own folder.
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |name: &str| {
        let file = folder.join(name);
        std::fs::read_to_string(&file)
            .map_err(|error| format!("cannot read {}: {error}", file.display()))
    };
    Lexicon::load(&text, read).map_err(|message| {
        (
            span,
            "priority.lexicon".into(),
            format!("{} is not a usable lexicon: {message}", path.display()),
        )
    })
}
