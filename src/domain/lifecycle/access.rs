//! Who may do what beyond what a mention's state allows: answers go out in public under the
//! brand's name, so each chat may name the people (or their groups) who send them. Every chat
//! asks the same function, through the desk.

use super::{Action, Refusal};

/// What a person may do, as their chat's `answerers` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Named in the chat's `answerers`, or the list is empty: may post answers.
    Answerer,
    /// Everyone else on the team: may claim, assign, close, reopen and snooze, not answer.
    Member,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Answerer, Role::Member];
}

/// A chat's `answerers`: the ids of people and of groups (Slack user groups, Discord roles)
/// allowed to post answers. Empty: everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answerers {
    ids: Vec<String>,
}

impl Answerers {
    pub fn new(ids: impl IntoIterator<Item = impl Into<String>>) -> Answerers {
        Answerers {
            ids: ids.into_iter().map(Into::into).collect(),
        }
    }

    /// Everyone may answer.
    pub fn everyone() -> Answerers {
        Answerers::default()
    }

    /// The role of a person the chat knows by `ids`: their own id and the groups they are in.
    pub fn role_of(&self, ids: &[String]) -> Role {
        if self.ids.is_empty() || ids.iter().any(|id| self.ids.contains(id)) {
            Role::Answerer
        } else {
            Role::Member
        }
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }
}

/// Whether `role` may do `action` to #`number` at all (the state's rules come after, in
/// [`super::apply`]). `chat` names the config section in the refusal.
pub fn permit(role: Role, action: &Action, number: u64, chat: &str) -> Result<(), Refusal> {
    match (role, action) {
        (Role::Member, action) if action.publishes() => Err(Refusal::NotAnAnswerer {
            number,
            chat: chat.to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_lets_everyone_answer_and_a_group_counts_for_its_members() {
        let ids = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
        assert_eq!(Answerers::everyone().role_of(&ids(&["U1"])), Role::Answerer);
        let team = Answerers::new(["U1", "S9"]);
        assert_eq!(team.role_of(&ids(&["U1"])), Role::Answerer);
        assert_eq!(team.role_of(&ids(&["U2", "S9"])), Role::Answerer);
        assert_eq!(team.role_of(&ids(&["U2", "S8"])), Role::Member);
        assert_eq!(team.role_of(&[]), Role::Member);
    }
}
