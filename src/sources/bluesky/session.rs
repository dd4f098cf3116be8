//! The app-password session: created once, refreshed when the access token expires, and only
//! created again when the refresh token is refused too. createSession is limited to 30 per
//! 5 minutes and 300 per day per account, so a poll never logs in.

use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Session {
    pub access_jwt: String,
    pub refresh_jwt: String,
    pub did: String,
    pub handle: String,
}

impl std::fmt::Debug for Session {
    // The JWTs are the account's keys for as long as they live: never in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("access_jwt", &"***")
            .field("refresh_jwt", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_never_prints_its_tokens() {
        let session = Session {
            access_jwt: "eyJ.access".into(),
            refresh_jwt: "eyJ.refresh".into(),
            did: "did:plc:abc".into(),
            handle: "acme.bsky.social".into(),
        };
        let printed = format!("{session:?}");
        assert!(!printed.contains("eyJ"), "{printed}");
        assert!(printed.contains("did:plc:abc"));
    }
}
