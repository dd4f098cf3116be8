//! Handles for the DIDs Jetstream names authors by, resolved with `app.bsky.actor.getProfiles`
//! and remembered, so a popular author is looked up once, not on every post.

use std::collections::HashMap;

use super::records::Profile;

/// The most actors `app.bsky.actor.getProfiles` takes per call.
pub(super) const PER_CALL: usize = 25;
/// How many authors are remembered: the active posters who match the rules in a day fit many
/// times over, and at a few hundred bytes each the cache stays a few megabytes at most.
const REMEMBERED: usize = 10_000;
/// What the AppView shows for a handle that no longer resolves to its DID: not a name to show.
const INVALID_HANDLE: &str = "handle.invalid";

/// A handle and display name, as a card shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Known {
    pub handle: String,
    pub name: Option<String>,
}

/// A bounded cache of [`Known`] profiles by DID, in two generations: entries read or written
/// lately live in `recent`; when it is full it becomes `older`, and what was in `older` is
/// forgotten. That keeps the authors in use, like an LRU, at the cost of one map swap.
#[derive(Debug, Default)]
pub(super) struct Profiles {
    recent: HashMap<String, Known>,
    older: HashMap<String, Known>,
}

impl Profiles {
    pub fn get(&mut self, did: &str) -> Option<Known> {
        if let Some(known) = self.recent.get(did) {
            return Some(known.clone());
        }
        let known = self.older.remove(did)?;
        self.insert(did.to_string(), known.clone());
        Some(known)
    }

    pub fn contains(&self, did: &str) -> bool {
        self.recent.contains_key(did) || self.older.contains_key(did)
    }

    /// Remembers `profile`, unless its handle is not one to show.
    pub fn learn(&mut self, profile: Profile) {
        let handle = profile.handle.trim();
        if handle.is_empty() || handle == INVALID_HANDLE || profile.did.is_empty() {
            return;
        }
        let name = profile
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_string);
        let known = Known {
            handle: handle.to_string(),
            name,
        };
        self.insert(profile.did, known);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.recent.len() + self.older.len()
    }

    fn insert(&mut self, did: String, known: Known) {
        if self.recent.len() >= REMEMBERED / 2 {
            self.older = std::mem::take(&mut self.recent);
        }
        self.recent.insert(did, known);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(did: &str, handle: &str, name: Option<&str>) -> Profile {
        Profile {
            did: did.into(),
            handle: handle.into(),
            display_name: name.map(str::to_string),
        }
    }

    #[test]
    fn profiles_are_remembered_and_unusable_handles_are_not() {
        let mut profiles = Profiles::default();
        profiles.learn(profile("did:plc:a", "alice.test", Some("  Alice ")));
        profiles.learn(profile("did:plc:b", "handle.invalid", Some("Bob")));
        profiles.learn(profile("did:plc:c", "", None));
        profiles.learn(profile("did:plc:d", "dora.test", Some("  ")));
        assert_eq!(
            profiles.get("did:plc:a"),
            Some(Known {
                handle: "alice.test".into(),
                name: Some("Alice".into())
            })
        );
        assert_eq!(profiles.get("did:plc:b"), None);
        assert_eq!(profiles.get("did:plc:c"), None);
        assert_eq!(profiles.get("did:plc:d").and_then(|known| known.name), None);
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_the_authors_in_use() {
        let mut profiles = Profiles::default();
        profiles.learn(profile("did:plc:popular", "popular.test", None));
        for n in 0..3 * REMEMBERED {
            profiles.learn(profile(&format!("did:plc:{n}"), "someone.test", None));
            // A popular author posts all the time, so it is read all the time.
            if n % 1000 == 0 {
                assert!(profiles.get("did:plc:popular").is_some(), "at {n}");
            }
            assert!(profiles.len() <= REMEMBERED);
        }
        assert!(profiles.contains("did:plc:popular"));
        assert!(
            !profiles.contains("did:plc:0"),
            "the long-unread is forgotten"
        );
        assert!(profiles.contains(&format!("did:plc:{}", 3 * REMEMBERED - 1)));
    }
}
