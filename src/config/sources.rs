//! The `[[sources]]` sections: what every source has (`kind`, `name`, `every`, `rules`) is read
//! here; the rest is the network's, read by its folder through [`registry::NETWORKS`].

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::keys::Keys;
use super::{
    check_rules, expand_env, ConfigError, EnvString, RawRulesOverride, RawSource, RulesConfig,
    SourceConfig, COMMON_KEYS, SHORTEST_POLL,
};
use crate::sources::registry;

type Invalid<'a> = dyn Fn(Option<Range<usize>>, &str, String) -> ConfigError + 'a;

pub(super) fn sources(
    raw: Vec<Spanned<RawSource>>,
    base: &Path,
    global: &RulesConfig,
    invalid: &Invalid<'_>,
    misread: &Invalid<'_>,
    misread_key: &Invalid<'_>,
) -> Result<Vec<SourceConfig>, ConfigError> {
    // A source's name defaults to its kind when it is the only one of that kind.
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    for section in &raw {
        if let Some(toml::Value::String(kind)) = section.get_ref().get("kind").map(Spanned::get_ref)
        {
            *per_kind.entry(kind.clone()).or_default() += 1;
        }
    }
    let all_keys = registry::all_keys();
    let mut sources: Vec<SourceConfig> = Vec::new();
    for (index, section) in raw.into_iter().enumerate() {
        let span = section.span();
        let mut table = section.into_inner();
        let key = |field: &str| format!("sources[{index}].{field}");
        let text = |field: &str, value: &Spanned<toml::Value>| match value.get_ref() {
            toml::Value::String(text) => expand_env(text, |name| std::env::var(name).ok())
                .map_err(|message| invalid(Some(value.span()), &key(field), message)),
            other => Err(invalid(
                Some(value.span()),
                &key(field),
                format!("expected a string, found {}", other.type_str()),
            )),
        };

        let kinds = registry::kinds().join(", ");
        let Some(kind_value) = table.remove("kind") else {
            return Err(invalid(
                Some(span),
                &key("kind"),
                format!("a source needs `kind`: one of {kinds}"),
            ));
        };
        let kind = text("kind", &kind_value)?;
        let Some(network) = registry::network(&kind) else {
            return Err(invalid(
                Some(kind_value.span()),
                &key("kind"),
                format!("unknown source kind `{kind}`; expected one of: {kinds}"),
            ));
        };

        let name_value = table.remove("name");
        let (name, name_span) = match &name_value {
            Some(value) => (text("name", value)?, value.span()),
            None if per_kind.get(&kind).copied() == Some(1) => (kind.clone(), span.clone()),
            None => {
                return Err(invalid(
                    Some(span),
                    &key("name"),
                    format!("there are several {kind} sources; give each a unique `name` (it keys the mentions the source finds)"),
                ))
            }
        };
        if !valid_name(&name) {
            return Err(invalid(
                Some(name_span),
                &key("name"),
                format!("`{name}` is not a usable name; use letters, digits, `-` and `_` (it keys the mentions this source finds)"),
            ));
        }
        if sources.iter().any(|source| source.name == name) {
            return Err(invalid(
                Some(name_span),
                &key("name"),
                format!("another source is already called `{name}`; names must be unique"),
            ));
        }

        let every = match table.remove("every") {
            Some(value) => {
                let raw = text("every", &value)?;
                let every = humantime::parse_duration(raw.trim()).map_err(|error| {
                    misread(
                        Some(value.span()),
                        &key("every"),
                        format!("`{raw}` is not a duration ({error}); write it like \"30s\", \"5m\" or \"1h\""),
                    )
                })?;
                if every < SHORTEST_POLL {
                    return Err(invalid(
                        Some(value.span()),
                        &key("every"),
                        format!(
                            "polling every {} is too often; use at least {}",
                            humantime::format_duration(every),
                            humantime::format_duration(SHORTEST_POLL)
                        ),
                    ));
                }
                every
            }
            None => network.every,
        };

        let rules = match table.remove("rules") {
            Some(value) => {
                let at = value.span();
                let overrides =
                    RawRulesOverride::deserialize(value.into_inner()).map_err(|error| {
                        invalid(
                            Some(at),
                            &key("rules"),
                            error.to_string().trim().to_string(),
                        )
                    })?;
                let or_global = |values: Option<Vec<EnvString>>, global: &Vec<String>| {
                    values.map_or_else(
                        || global.clone(),
                        |values| values.into_iter().map(|s| s.0).collect(),
                    )
                };
                RulesConfig {
                    keywords: or_global(overrides.keywords, &global.keywords),
                    exclude: or_global(overrides.exclude, &global.exclude),
                    own_accounts: or_global(overrides.own_accounts, &global.own_accounts),
                }
            }
            None => global.clone(),
        };

        let keys = Keys::new(network.kind(), span.clone(), base, table);
        let takes: Vec<&str> = network.keys.to_vec();
        let known: Vec<&str> = all_keys.iter().copied().chain(COMMON_KEYS).collect();
        if let Some(error) = keys.foreign(&takes, &known) {
            let report = if error.unknown { misread_key } else { invalid };
            return Err(report(error.span, &key(&error.key), error.message));
        }
        let spec = (network.parse)(&keys)
            .map_err(|error| invalid(error.span, &key(&error.key), error.message))?;
        check_rules(&rules, &|message| {
            invalid(Some(span.clone()), &key("rules"), message)
        })?;
        sources.push(SourceConfig {
            name,
            kind: network.kind(),
            every,
            rules,
            spec: Arc::from(spec),
        });
    }
    Ok(sources)
}

pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
