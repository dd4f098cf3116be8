//! bot-config/earshot.service: the systemd unit the README's "Running it for real" installs.
//! Checked by `systemd-analyze verify` where the machine has it, and by reading it everywhere.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

const UNIT: &str = include_str!("../../bot-config/earshot.service");

/// Every `Key=value` of the unit, per section, in order (a key may repeat).
fn entries(unit: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut sections: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut section = None;
    for (number, line) in unit.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not Key=value: {line}", number + 1));
        let section = section
            .clone()
            .unwrap_or_else(|| panic!("line {}: outside a section", number + 1));
        sections
            .entry(section)
            .or_default()
            .push((key.to_string(), value.to_string()));
    }
    sections
}

fn value<'a>(sections: &'a HashMap<String, Vec<(String, String)>>, key: &str) -> Vec<&'a str> {
    sections
        .values()
        .flatten()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn the_unit_restarts_on_failure_keeps_state_and_secrets_apart_and_is_hardened() {
    let sections = entries(UNIT);
    for name in ["Unit", "Service", "Install"] {
        assert!(sections.contains_key(name), "no [{name}] section");
    }
    for (key, expected) in [
        ("Restart", "on-failure"),
        ("RestartPreventExitStatus", "2"),
        ("StateDirectory", "earshot"),
        ("EnvironmentFile", "/etc/earshot/earshot.env"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("DynamicUser", "yes"),
        ("WantedBy", "multi-user.target"),
    ] {
        assert_eq!(value(&sections, key), vec![expected], "{key}");
    }
    let start = value(&sections, "ExecStart");
    assert_eq!(start.len(), 1);
    assert!(start[0].contains("--log-format json"), "{start:?}");
    assert!(start[0].contains("run --config /etc/earshot/earshot.toml"));
    // No secret may live in the unit itself: `systemctl show` prints it to any local user.
    for line in value(&sections, "Environment") {
        assert!(
            !line.contains("TOKEN") && !line.contains("SECRET"),
            "{line}"
        );
    }
}

#[test]
fn systemd_analyze_verifies_the_unit_where_the_machine_has_it() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed here; the unit was checked by reading it");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    // verify wants the programs the unit starts to exist: point it at the one just built.
    let unit = UNIT.replace("/usr/local/bin/earshot", env!("CARGO_BIN_EXE_earshot"));
    let path = dir.path().join("earshot.service");
    std::fs::write(&path, unit).unwrap();
    let verified = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verified.stderr);
    assert!(verified.status.success(), "{complaints}");
    let ours: Vec<&str> = complaints
        .lines()
        .filter(|line| line.contains("earshot.service"))
        .collect();
    assert!(ours.is_empty(), "systemd-analyze complains: {ours:?}");
}

#[test]
fn a_refused_config_exits_with_2_so_the_service_is_not_restarted_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("earshot.toml");
    std::fs::write(&config, "[store]\npath = \"data\"\n[nonsense]\n").unwrap();
    for command in ["check", "run"] {
        let output = Command::new(env!("CARGO_BIN_EXE_earshot"))
            .arg(command)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{command}: {output:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("nonsense"));
    }
    let missing = Path::new("/nonexistent/earshot.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(["check", "--config"])
        .arg(missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}
