//! Slack members as the core knows them: a [`Member`] with the Slack user id and the name
//! people see, and which of the user groups named in `answerers` they are in (the desk
//! decides who may answer).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use slack_morphism::prelude::*;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::api::Api;
use crate::domain::{Member, MemberRef};

/// A looked-up name is good for this long (people rename themselves rarely).
const NAME_TTL: Duration = Duration::from_secs(60 * 60);
/// A user group's members are re-read this often, so changes to the group apply soon.
const GROUP_TTL: Duration = Duration::from_secs(5 * 60);
/// Name look-ups happen inside Slack's 3-second acknowledgement window; a slow one falls back
/// to the id rather than missing the window.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1_500);

pub struct People {
    /// Users (`U...`, `W...`) and user groups (`S...`) allowed to answer; only the groups are
    /// read here, to look up their members.
    answerers: Vec<String>,
    names: Mutex<HashMap<String, (String, Instant)>>,
    groups: Mutex<HashMap<String, (HashSet<String>, Instant)>>,
}

impl People {
    pub fn new(answerers: Vec<String>) -> People {
        People {
            answerers,
            names: Mutex::new(HashMap::new()),
            groups: Mutex::new(HashMap::new()),
        }
    }

    /// The member behind a Slack user id, named as Slack shows them.
    pub async fn member(&self, api: &Api, id: &str, fallback: Option<&str>) -> Member {
        if let Some((name, at)) = self.names.lock().await.get(id) {
            if at.elapsed() < NAME_TTL {
                return Member::new(id, name.clone());
            }
        }
        let user_id = SlackUserId::new(id.to_string());
        let looked_up = tokio::time::timeout(LOOKUP_TIMEOUT, api.user(&user_id)).await;
        match looked_up {
            Ok(Ok(user)) => {
                let name = display_name(&user).unwrap_or_else(|| id.to_string());
                self.names
                    .lock()
                    .await
                    .insert(id.to_string(), (name.clone(), Instant::now()));
                Member::new(id, name)
            }
            Ok(Err(error)) => {
                tracing::warn!(user = id, %error, "cannot look up a Slack user's name");
                Member::new(id, fallback.unwrap_or(id))
            }
            Err(_) => Member::new(id, fallback.unwrap_or(id)),
        }
    }

    /// The member a command names: `<@U123>` or `<@U123|jane>`, as Slack writes a mention
    /// in a slash command. `None` for a bare name, which Slack did not resolve to anyone.
    pub async fn named(&self, api: &Api, who: &MemberRef) -> Option<Member> {
        let id = mentioned_user(&who.0)?;
        let label = who
            .0
            .split_once('|')
            .map(|(_, label)| label.trim_end_matches('>'));
        Some(self.member(api, id, label).await)
    }

    /// The user groups named in `answerers` that `user` belongs to: with their id, what the
    /// desk weighs against `answerers`. Only groups are looked up, and only when asked.
    pub async fn groups_of(&self, api: &Api, user: &str) -> Vec<String> {
        let mut groups = Vec::new();
        for group in self.answerers.iter().filter(|a| a.starts_with('S')) {
            if self.group_members(api, group).await.contains(user) {
                groups.push(group.clone());
            }
        }
        groups
    }

    async fn group_members(&self, api: &Api, group: &str) -> HashSet<String> {
        if let Some((members, at)) = self.groups.lock().await.get(group) {
            if at.elapsed() < GROUP_TTL {
                return members.clone();
            }
        }
        let id = SlackUserGroupId::new(group.to_string());
        match tokio::time::timeout(LOOKUP_TIMEOUT, api.group_members(&id)).await {
            Ok(Ok(users)) => {
                let members: HashSet<String> = users.into_iter().map(|u| u.0).collect();
                self.groups
                    .lock()
                    .await
                    .insert(group.to_string(), (members.clone(), Instant::now()));
                members
            }
            Ok(Err(error)) => {
                tracing::warn!(group, %error, "cannot read a Slack user group's members; treating it as empty");
                HashSet::new()
            }
            Err(_) => HashSet::new(),
        }
    }
}

/// The user id in `<@U123>` / `<@U123|name>`.
pub fn mentioned_user(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("<@")?.strip_suffix('>')?;
    let id = inner.split('|').next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
}

/// The name Slack shows: the display name, else the real name, else the username.
fn display_name(user: &SlackUser) -> Option<String> {
    let profile = user.profile.as_ref();
    [
        profile.and_then(|p| p.display_name.clone()),
        profile.and_then(|p| p.real_name.clone()),
        user.real_name.clone(),
        user.name.clone(),
    ]
    .into_iter()
    .flatten()
    .map(|name| name.trim().to_string())
    .find(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::mentioned_user;

    #[test]
    fn reads_slack_user_mentions() {
        assert_eq!(mentioned_user("<@U024BE7LH>"), Some("U024BE7LH"));
        assert_eq!(mentioned_user("<@U024BE7LH|jane>"), Some("U024BE7LH"));
        assert_eq!(mentioned_user("jane"), None);
        assert_eq!(mentioned_user("<@>"), None);
        assert_eq!(mentioned_user("<@U1 x>"), None);
        assert_eq!(mentioned_user("<!channel>"), None);
    }
}
