//! App Store Connect's bearer token: a JWT signed with the team's `.p8` key (ES256), with the
//! issuer id as `iss`, the key id as `kid` and `appstoreconnect-v1` as audience. Apple refuses
//! tokens that live longer than 20 minutes, so each is made for a quarter of an hour and a new
//! one is signed shortly before it lapses (or once when Apple refuses one).

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::net::{Auth, Clock, Failure, Secret};

/// How long a token is valid: under Apple's 20 minutes, with room for a clock that runs fast.
pub const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);
/// A token this close to its expiry is replaced before it is sent, so none lapses in flight.
const RENEW_BEFORE: chrono::Duration = chrono::Duration::minutes(2);
pub const AUDIENCE: &str = "appstoreconnect-v1";

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    aud: &'a str,
}

pub(super) struct Signer {
    issuer_id: String,
    key_id: String,
    key: EncodingKey,
    clock: Clock,
    cached: Mutex<Option<(Secret, DateTime<Utc>)>>,
}

impl Signer {
    /// `pem` was checked when the config was read; a key that still fails here is reported on
    /// every request instead of stopping the app.
    pub fn new(
        issuer_id: &str,
        key_id: &str,
        pem: &Secret,
        clock: Clock,
    ) -> Result<Signer, String> {
        let key = EncodingKey::from_ec_pem(pem.expose().as_bytes())
            .map_err(|error| format!("the App Store Connect key is unreadable: {error}"))?;
        Ok(Signer {
            issuer_id: issuer_id.to_string(),
            key_id: key_id.to_string(),
            key,
            clock,
            cached: Mutex::new(None),
        })
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    fn sign(&self) -> Result<(Secret, DateTime<Utc>), Failure> {
        let now = (self.clock)();
        let expires = now + TOKEN_LIFETIME;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = Claims {
            iss: &self.issuer_id,
            iat: now.timestamp(),
            exp: expires.timestamp(),
            aud: AUDIENCE,
        };
        let token = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|error| {
            Failure::Permanent(format!(
                "cannot sign the App Store Connect token with the configured key: {error}"
            ))
        })?;
        Ok((Secret::new(token), expires))
    }

    fn fresh(&self, cached: &mut Option<(Secret, DateTime<Utc>)>) -> Result<Secret, Failure> {
        let (token, expires) = self.sign()?;
        *cached = Some((token.clone(), expires));
        Ok(token)
    }
}

#[async_trait]
impl Auth for Signer {
    async fn token(&self) -> Result<Secret, Failure> {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, expires)) = cached.as_ref() {
            if *expires - RENEW_BEFORE > (self.clock)() {
                return Ok(token.clone());
            }
        }
        self.fresh(&mut cached)
    }

    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure> {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, _)) = cached.as_ref() {
            if token != stale {
                return Ok(token.clone());
            }
        }
        self.fresh(&mut cached)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/app_store")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    #[tokio::test]
    async fn tokens_are_es256_for_apple_and_renewed_before_they_lapse() {
        let now = Arc::new(Mutex::new(Utc::now()));
        let reading = now.clone();
        let clock: Clock = Arc::new(move || *reading.lock().unwrap());
        let pem = Secret::new(fixture("AuthKey_TEST000001.p8"));
        let signer = Signer::new(
            "57246542-96fe-1a63-e053-0824d011072a",
            "TEST000001",
            &pem,
            clock,
        )
        .unwrap();
        let first = signer.token().await.unwrap();
        let public = fixture("AuthKey_TEST000001.pub.pem");
        let key = jsonwebtoken::DecodingKey::from_ec_pem(public.as_bytes()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&["57246542-96fe-1a63-e053-0824d011072a"]);
        let decoded =
            jsonwebtoken::decode::<serde_json::Value>(first.expose(), &key, &validation).unwrap();
        assert_eq!(decoded.header.kid.as_deref(), Some("TEST000001"));
        let claims = decoded.claims;
        let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
        assert!(lifetime <= 20 * 60, "{lifetime}");

        *now.lock().unwrap() += chrono::Duration::minutes(10);
        assert_eq!(signer.token().await.unwrap(), first, "still fresh");
        *now.lock().unwrap() += chrono::Duration::minutes(4);
        let second = signer.token().await.unwrap();
        assert_ne!(second, first, "renewed before it lapses");
        let third = signer.renew(&second).await.unwrap();
        assert_ne!(third, second, "a refused token is replaced");
        assert_eq!(signer.renew(&second).await.unwrap(), third, "once");
    }
}
