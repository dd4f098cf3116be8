//! Webhooks: networks that push changes to earshot instead of (or beside) being polled. Each
//! endpoint checks that a request is the network's (a signature over the raw body) before it
//! reads anything, turns the body into [`Push`]es addressed by [`Hook`], and hands them to a
//! [`Receive`]r, which runs them through the sources and the same rules -> store path as a
//! poll (`app::Pushes`). Polls stay on as the safety net.
//!
//! `meta/`: Meta's webhooks for Facebook Pages and Instagram (`/meta/webhooks`).

pub mod meta;

use async_trait::async_trait;

use crate::sources::{Hook, Push};

/// Takes what a webhook brought, and answers once it is stored.
#[async_trait]
pub trait Receive: Send + Sync {
    /// Stores the mentions in `pushes`; how many are new. `Err` says why some could not be
    /// read or stored now: the endpoint then asks the network to send them again (what was
    /// stored is not stored twice).
    async fn receive(&self, pushes: Vec<(Hook, Push)>) -> Result<usize, String>;
}
