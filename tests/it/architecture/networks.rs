//! Each network is described in one place: its folder under `src/sources/` (and the line that
//! lists it in `registry.rs`). The central files (the domain, the chats, the config, the app,
//! the store, the desk and the outbox) name no network: they read a network's traits. This
//! test reads their code (test modules left out: a test may use a real network) and fails on
//! a network's kind or label as a match arm, a variant of a network enum, or a path into a
//! network's folder.

use std::path::Path;

use earshot::sources::registry::NETWORKS;

/// Folders that belong to networks: each network's own, what a family of them shares
/// (`sources/google/`, `sources/graph/`), and Meta's webhook endpoint.
const NETWORK_FOLDERS: &[&str] = &["src/sources/", "src/webhooks/meta/"];

#[test]
fn no_central_file_names_a_network() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for file in super::rust_files(&root.join("src")) {
        let name = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if NETWORK_FOLDERS
            .iter()
            .any(|folder| name.starts_with(folder))
            || name.ends_with("/tests.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in code_lines(&text) {
            for problem in naming(line) {
                found.push(format!("{name}:{number}: {problem}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "central files that name a network (describe it in its folder's NetworkTraits):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_network_named_centrally() {
    assert!(!naming(r#"        "Mastodon" => 0x6364FF,"#).is_empty());
    assert!(!naming(r#"        Some("google-play") | None => 350,"#).is_empty());
    assert!(!naming(r#"    Network::Instagram if !handle.is_empty() => {"#).is_empty());
    assert!(!naming(r#"    "twitter" | "tw" => 280,"#).is_empty());
    assert!(!naming("use crate::sources::trustpilot::Trustpilot;").is_empty());
    assert!(naming(r#"    network.colour()"#).is_empty());
    assert!(naming(r#"    "feed" or "x" as plain words in a message"#).is_empty());
    assert!(naming("    let traits = Network::new(&TRAITS);").is_empty());
    let lines: Vec<_> = code_lines("a\n// \"X\" =>\nb // note\n#[cfg(test)]\nmod tests {")
        .map(|(_, line)| line)
        .collect();
    assert_eq!(lines, ["a", "", "b "]);
}

/// What names a network on one line of code.
fn naming(line: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for network in NETWORKS {
        let folder = network.kind().replace('-', "_");
        let mut names = vec![network.kind(), network.traits.label];
        names.extend(network.also_known_as);
        names.dedup();
        for name in names {
            let quoted = format!("\"{name}\"");
            let mut rest = line;
            while let Some(at) = rest.find(&quoted) {
                let before = rest[..at].trim_end();
                let after = rest[at + quoted.len()..].trim_start();
                let arm = after.starts_with("=>")
                    || after.starts_with('|')
                    || after.starts_with(')') && after[1..].trim_start().starts_with("=>")
                    || after.starts_with(')') && after[1..].trim_start().starts_with('|')
                    || before.ends_with('|')
                    || before.ends_with("=>");
                if arm {
                    problems.push(format!("{quoted} as a match arm"));
                }
                rest = &rest[at + quoted.len()..];
            }
        }
        if line.contains(&format!("sources::{folder}::")) {
            problems.push(format!("a path into sources/{folder}/"));
        }
    }
    let mut rest = line;
    while let Some(at) = rest.find("Network::") {
        let tail = &rest[at + "Network::".len()..];
        let variant: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if variant.starts_with(|c: char| c.is_ascii_uppercase()) {
            problems.push(format!("a network enum's variant `Network::{variant}`"));
        }
        rest = tail;
    }
    problems
}

/// The lines of `text` before its test module, numbered from 1, without `//` comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| !line.trim_start().starts_with("#[cfg(test)]"))
        .map(|(index, line)| (index + 1, line.split("//").next().unwrap_or_default()))
}
