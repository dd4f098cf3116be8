//! The app-password session: created once, refreshed when the access token expires, and only
//! created again when the refresh token is refused too. createSession is limited to 30 per
//! 5 minutes and 300 per day per account, so a poll never logs in.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Session {
    pub access_jwt: String,
    pub refresh_jwt: String,
    pub did: String,
    pub handle: String,
}
