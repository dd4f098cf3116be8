//! The import rules ARCHITECTURE.md states, checked on the source text: every `crate::` path
//! in `src/` (in `use` lines and inline) is read, and a path that crosses a forbidden edge fails
//! this test. An existing exception is listed below with the issue that removes it. A chat
//! adapter that imports `crate::store`, in any form, fails it.

use std::path::{Path, PathBuf};

mod networks;

/// Edges that break a rule today, each with its reason. Remove a line when its issue lands.
const EXCEPTIONS: &[(&str, &str)] = &[
    // The Slack section's typed config lives with the adapter that reads it; config builds it.
    ("src/config.rs", "crate::chat::slack"),
    ("src/config/slack.rs", "crate::chat::slack"),
    ("src/config/tests.rs", "crate::chat::slack"),
];

/// What a file may not reach, by where it lives.
fn forbidden(file: &str, path: &str) -> Option<&'static str> {
    // `crate::{store::Store, desk::Desk}` is read as each of its paths.
    if let Some(group) = path
        .strip_prefix("crate::{")
        .and_then(|rest| rest.strip_suffix('}'))
    {
        return top_level(group)
            .into_iter()
            .find_map(|part| forbidden(file, &format!("crate::{}", part.trim())));
    }
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
    // Every chat adapter, the shared `chat/mod.rs` too: what they need from the store, the
    // desk gives them (issue #18 closed the last door, `Desk::store()`).
    let adapter = file.starts_with("src/chat/");
    if adapter && (path.starts_with("crate::store") || path == ".store()") {
        return Some("chat adapters reach the store only through the desk");
    }
    if adapter && path.starts_with("crate::domain::lifecycle::apply") {
        return Some("chat adapters leave the lifecycle's decisions to the desk");
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
    // Any chat adapter, however it names the store.
    for file in [
        "src/chat/shell.rs",
        "src/chat/mod.rs",
        "src/chat/discord/interactions.rs",
        "src/chat/slack/handler.rs",
    ] {
        for path in [
            "crate::store",
            "crate::store::Store",
            "crate::store::{Effect, Store}",
            "crate::store::StoreError",
            ".store()",
        ] {
            assert!(forbidden(file, path).is_some(), "{file} may not use {path}");
        }
        assert!(forbidden(file, "crate::desk::Desk").is_none());
        assert!(forbidden(file, "crate::domain::lifecycle::offers").is_none());
    }
    assert!(forbidden("src/chat/shell.rs", "crate::{desk::Desk, store::Store}").is_some());
    assert!(forbidden("src/chat/shell.rs", "crate::{desk::{Caller, Desk}, domain}").is_none());
    assert_eq!(paths("use crate::store;"), vec!["crate::store"]);
    assert_eq!(
        paths("    let x: crate::store::Result<()> = crate::store::Store::open(p);"),
        vec!["crate::store::Result", "crate::store::Store::open"]
    );
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

/// The parts of a braced group split at its top-level commas.
fn top_level(group: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&group[start..]);
    parts
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
