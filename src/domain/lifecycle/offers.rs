//! What a mention's card offers: the actions that make sense in its state, in the order every
//! chat shows them. Each chat renders the list its own way (Block Kit buttons, Discord
//! components); the list is decided once, here.

use super::State;
use crate::domain::network::{Network, ReplyPath};

/// One control on a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    Claim,
    Release,
    /// Opens the answer form (networks earshot can post on).
    Answer,
    /// A link to answer on the network's own site (networks without a reply API).
    AnswerOnSite(String),
    Done,
    Ignore,
    Reopen,
}

impl Offer {
    /// The word for it in commands and button ids: `claim`, `answer`, ….
    pub fn word(&self) -> &'static str {
        match self {
            Offer::Claim => "claim",
            Offer::Release => "release",
            Offer::Answer | Offer::AnswerOnSite(_) => "answer",
            Offer::Done => "done",
            Offer::Ignore => "ignore",
            Offer::Reopen => "reopen",
        }
    }
}

/// The card's controls for a mention in `state` on `network` (`link`: the post on the site).
/// Only actions the lifecycle allows someone are offered: open mentions can be claimed,
/// claimed ones released (by their holder), both answered and closed; closed ones reopened.
/// While an answer is on its way nothing can be done, so nothing is offered.
pub fn offers(state: &State, network: Network, link: Option<&str>) -> Vec<Offer> {
    let mut offered = match state {
        State::Claimed {
            answering: true, ..
        } => return Vec::new(),
        State::Open => vec![Offer::Claim],
        State::Claimed { .. } => vec![Offer::Release],
        State::Answered { .. } | State::Done { .. } | State::Ignored { .. } => {
            return vec![Offer::Reopen]
        }
    };
    match network.reply_path() {
        ReplyPath::Direct { .. } => offered.push(Offer::Answer),
        ReplyPath::Manual => {
            if let Some(link) = link {
                offered.push(Offer::AnswerOnSite(link.to_string()));
            }
        }
    }
    offered.extend([Offer::Done, Offer::Ignore]);
    offered
}
