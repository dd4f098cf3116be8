//! The import rules ARCHITECTURE.md states, checked on the source text: every `crate::` path
//! in `src/` (in `use` lines and inline) is read, and a path that crosses a forbidden edge fails
//! this test. An existing exception is listed below with the issue that removes it.

use std::path::{Path, PathBuf};

mod networks;

/// Edges that break a rule today, each with its reason. Remove a line when its issue lands.
const EXCEPTIONS: &[(&str, &str)] = &[
    // Issue #18: Discord's autocomplete and card refresh read the store through the desk's
    // handle instead of asking the desk.
    (
        "src/chat/discord/interactions.rs",
        "crate::store::StoreError",
    ),
    ("src/chat/discord/interactions.rs", ".store()"),
    // The Slack section's typed config lives with the adapter that reads it; config builds it.
    ("src/config.rs", "crate::chat::slack"),
    ("src/config/slack.rs", "crate::chat::slack"),
    ("src/config/tests.rs", "crate::chat::slack"),
];

/// What a file may not reach, by where it lives.
fn forbidden(file: &str, path: &str) -> Option<&'static str> {
    let top = path
        .strip_prefix("crate::")
        .map(|rest| rest.split("::").next().unwrap_or(rest));
    if file.starts_with("src/domain/") {
        if let Some(top) = top {
            if top != "domain" {
                return Some("domain is pure: it imports nothing outside domain");
            }
        }
    }
    if file == "src/config.rs" || file.starts_with("src/config/") {
        let adapter = [
            "crate::chat::slack",
            "crate::chat::discord",
            "crate::chat::shell",
        ];
        if adapter.iter().any(|adapter| path.starts_with(adapter)) {
            return Some("config does not import chat adapters");
        }
    }
    let adapter = file.starts_with("src/chat/") && file != "src/chat/mod.rs";
    if adapter && (path.starts_with("crate::store") || path == ".store()") {
        return Some("chat adapters reach the store only through the desk");
    }
    if file.starts_with("src/sources/") && path.starts_with("crate::store") {
        let narrow = [
            "crate::store::Credentials",
            "crate::store::{Credentials, Grant}",
        ];
        if !narrow.contains(&path) {
            return Some("sources reach the store only through the narrow Credentials handle");
        }
    }
    None
}

#[test]
fn no_module_imports_across_a_forbidden_edge() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    let mut used_exceptions = Vec::new();
    for file in rust_files(&root.join("src")) {
        let name = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for path in paths(code) {
                let Some(rule) = forbidden(&name, &path) else {
                    continue;
                };
                let excepted = EXCEPTIONS
                    .iter()
                    .find(|(file, prefix)| *file == name && path.starts_with(prefix));
                match excepted {
                    Some(exception) => used_exceptions.push(*exception),
                    None => violations.push(format!("{name}:{}: `{path}`: {rule}", number + 1)),
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "forbidden imports:\n{}",
        violations.join("\n")
    );
    for exception in EXCEPTIONS {
        assert!(
            used_exceptions.contains(exception),
            "{exception:?} is no longer needed: remove it from EXCEPTIONS"
        );
    }
}

#[test]
fn the_checker_catches_what_it_should() {
    assert!(forbidden("src/domain/mention.rs", "crate::store::Store").is_some());
    assert!(forbidden("src/domain/mention.rs", "crate::domain::text").is_none());
    assert!(forbidden("src/config.rs", "crate::chat::discord::Discord").is_some());
    assert!(forbidden("src/chat/slack/mod.rs", "crate::store::Store").is_some());
    assert!(forbidden("src/chat/slack/mod.rs", ".store()").is_some());
    assert!(forbidden("src/sources/reddit/mod.rs", "crate::store::Store").is_some());
    assert!(forbidden("src/sources/x/mod.rs", "crate::store::Credentials").is_none());
    assert_eq!(
        paths("use crate::store::{Credentials, Grant};"),
        vec!["crate::store::{Credentials, Grant}"]
    );
    assert_eq!(
        paths("let a = crate::net::wait::clamp(b); self.desk.store().list()"),
        vec!["crate::net::wait::clamp", ".store()"]
    );
}

/// The `crate::` paths on a line (a braced group kept whole), and `.store()` calls.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at..];
        let mut end = 0;
        let mut depth = 0;
        for (index, c) in tail.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth > 0 => depth -= 1,
                c if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == ':') => break,
                _ => {}
            }
            end = index + c.len_utf8();
        }
        found.push(tail[..end].trim_end_matches(':').to_string());
        rest = &tail[end..];
    }
    if code.contains(".store()") {
        found.push(".store()".to_string());
    }
    found
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}
