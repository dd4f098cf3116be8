//! Who did something to a mention: a person on the team, or earshot itself.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Member;

/// Who acted. earshot acts on its own when the outbox settles an answer, an answer is found
/// elsewhere, a stale claim is handed back, a review is edited or a copied text expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub enum Actor {
    Member(Member),
    System,
}

impl Actor {
    /// The person, when a person acted.
    pub fn member(&self) -> Option<&Member> {
        match self {
            Actor::Member(member) => Some(member),
            Actor::System => None,
        }
    }

    /// What lists and stats call them: the member's name, or "earshot".
    pub fn name(&self) -> &str {
        match self {
            Actor::Member(member) => &member.name,
            Actor::System => SYSTEM,
        }
    }

    /// Whether this is `member`.
    pub fn is(&self, member: &Member) -> bool {
        self.member() == Some(member)
    }
}

impl From<Member> for Actor {
    fn from(member: Member) -> Actor {
        Actor::Member(member)
    }
}

impl From<&Member> for Actor {
    fn from(member: &Member) -> Actor {
        Actor::Member(member.clone())
    }
}

impl From<&Actor> for Actor {
    fn from(actor: &Actor) -> Actor {
        actor.clone()
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Member(member) => member.fmt(f),
            Actor::System => f.write_str(SYSTEM),
        }
    }
}

/// How earshot names itself, in records and in what it writes.
const SYSTEM: &str = "earshot";

/// An actor in a stored record: a member as it always was (`{"id", "name"}`), earshot as the
/// string `"earshot"`. Schema version 2 wrote earshot as a member with the id "earshot", which
/// reads as a member here; the upgrade to version 3 rewrites those records (`store::upgrade`).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Member(Member),
    System(System),
}

#[derive(Serialize, Deserialize)]
enum System {
    #[serde(rename = "earshot")]
    Earshot,
}

impl From<Stored> for Actor {
    fn from(stored: Stored) -> Actor {
        match stored {
            Stored::Member(member) => Actor::Member(member),
            Stored::System(System::Earshot) => Actor::System,
        }
    }
}

impl From<Actor> for Stored {
    fn from(actor: Actor) -> Stored {
        match actor {
            Actor::Member(member) => Stored::Member(member),
            Actor::System => Stored::System(System::Earshot),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_member_is_stored_as_before_and_earshot_as_its_name() {
        let jane = Actor::Member(Member::new("U1", "jane"));
        assert_eq!(
            serde_json::to_value(&jane).unwrap(),
            json!({"id": "U1", "name": "jane"})
        );
        assert_eq!(
            serde_json::to_value(&Actor::System).unwrap(),
            json!("earshot")
        );
        for actor in [jane, Actor::System] {
            let bytes = serde_json::to_vec(&actor).unwrap();
            assert_eq!(serde_json::from_slice::<Actor>(&bytes).unwrap(), actor);
        }
        assert!(serde_json::from_value::<Actor>(json!("someone")).is_err());
    }

    #[test]
    fn earshot_is_named_without_an_at_and_is_no_member() {
        let jane = Member::new("U1", "jane");
        assert_eq!(Actor::from(&jane).to_string(), "@jane");
        assert_eq!(Actor::System.to_string(), "earshot");
        assert_eq!(Actor::System.name(), "earshot");
        assert!(Actor::from(&jane).is(&jane));
        assert!(!Actor::System.is(&Member::new("earshot", "earshot")));
    }
}
