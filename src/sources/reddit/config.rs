//! A Reddit source's `[[sources]]` keys.

use std::any::Any;
use std::sync::Arc;

use super::{
    default_user_agent, Reddit, Settings, Watch, DEFAULT_API_URL, DEFAULT_EVERY, DEFAULT_TOKEN_URL,
};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// How Reddit takes answers.
/// Reddit takes comments of up to 10,000 characters.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 10_000 },
    colour: 0xFF4500,
    ..NetworkTraits::new("reddit", "Reddit")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &[
        "watch",
        "api_url",
        "token_url",
        "client_id",
        "client_secret",
        "username",
        "password",
        "user_agent",
    ],
    every: DEFAULT_EVERY,
    parse,
};

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let username = keys.required("username", "the brand's Reddit account")?;
    let watch = keys.watch(&["mentions"], Watch::parse)?;
    Ok(Box::new(Settings {
        client_id: keys.required("client_id", "the id of the Reddit \"script\" app")?,
        client_secret: keys.secret("client_secret", "the secret of the Reddit app")?,
        password: keys.secret("password", "the password of the brand's Reddit account")?,
        user_agent: match keys.string("user_agent")? {
            Some(agent) => agent,
            None => default_user_agent(&username),
        },
        username,
        watch,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
        token_url: keys.base_url("token_url", DEFAULT_TOKEN_URL)?,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("/u/{}, {} watch(es)", self.username, self.watch.len())
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(Reddit::new(
            context.name,
            self.clone(),
            context.every,
            context.http,
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
