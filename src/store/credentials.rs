//! Credentials a network rotates. X hands out a new refresh token with every refresh and
//! voids the old one, so the newest must survive a restart, or the source is locked out until
//! a person creates a new one; Trustpilot and LinkedIn keep their access tokens here so that a
//! restart does not ask for a new one. A source gets a [`Credentials`] for its own name and nothing
//! else of the store.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::engine::Tree;
use super::{decode, encode, Result, Store};

/// The latest OAuth grant of one source, as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// A fingerprint of the configured refresh token this grant descends from: when the
    /// config names a different one, a person created it on purpose and it wins.
    pub seed: String,
    pub refresh_token: String,
    pub access_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When the refresh token itself expires, where the network says (LinkedIn's year).
    #[serde(default)]
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Grant {
    // Tokens never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("seed", &self.seed)
            .field("refresh_token", &"…")
            .field("access_token", &self.access_token.as_ref().map(|_| "…"))
            .field("expires_at", &self.expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// One source's place in the store for its [`Grant`].
#[derive(Clone)]
pub struct Credentials {
    store: Store,
    source: String,
}

impl Store {
    /// Where the source called `source` keeps its rotating credentials.
    pub fn credentials(&self, source: &str) -> Credentials {
        Credentials {
            store: self.clone(),
            source: source.to_string(),
        }
    }
}

impl Credentials {
    pub fn load(&self) -> Result<Option<Grant>> {
        match self
            .store
            .engine
            .get(Tree::Credentials, self.source.as_bytes())?
        {
            Some(bytes) => Ok(Some(decode("grant", &bytes)?)),
            None => Ok(None),
        }
    }

    /// Stores `grant` and waits until it is on disk: the network has already voided the
    /// previous refresh token, so the new one must not be used before it is safe.
    pub async fn save(&self, grant: &Grant) -> Result<()> {
        self.store
            .engine
            .insert(Tree::Credentials, self.source.as_bytes(), &encode(grant))?;
        self.store.flush().await
    }
}
