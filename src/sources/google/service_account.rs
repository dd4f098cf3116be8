//! A Google service account (Google Play): its JSON key file, read once at start-up, and the
//! OAuth "JWT bearer" grant: an RS256-signed assertion (issuer the account's e-mail, audience
//! the file's `token_uri`, an hour's lifetime) exchanged for an access token, which is cached
//! and renewed before it expires. The signing is `jsonwebtoken`'s (ring underneath).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::token_endpoint;
use crate::net::oauth::TokenCache;
use crate::net::{Auth, Failure, Secret, Transport};

/// How long an assertion is valid: Google accepts at most an hour.
const ASSERTION_LIFETIME_SECS: i64 = 3600;
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The parts of a service-account key file earshot uses.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key_id: Option<String>,
    /// The PEM private key (PKCS#8), checked to be a usable RSA key when the file is read.
    private_key: Secret,
    /// Where Google wants the assertion sent, and its audience.
    pub token_uri: String,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &self.private_key)
            .field("token_uri", &self.token_uri)
            .finish()
    }
}

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    token_uri: Option<String>,
}

impl ServiceAccount {
    /// Reads a key file's text; the error says what is wrong with it.
    pub fn from_json(text: &str) -> Result<ServiceAccount, String> {
        let file: KeyFile = serde_json::from_str(text).map_err(|error| {
            format!("is not a service-account key file (JSON expected: {error})")
        })?;
        match file.kind.as_deref() {
            Some("service_account") => {}
            Some(other) => {
                return Err(format!(
                    "is a `{other}` credential, not a service account's key (\"type\": \"service_account\"); create a JSON key for a service account"
                ))
            }
            None => return Err("has no \"type\"; expected a service account's JSON key".into()),
        }
        let client_email = file
            .client_email
            .filter(|email| email.contains('@'))
            .ok_or("has no \"client_email\"")?;
        let private_key = file
            .private_key
            .filter(|key| !key.trim().is_empty())
            .ok_or("has no \"private_key\"")?;
        EncodingKey::from_rsa_pem(private_key.as_bytes()).map_err(|error| {
            format!("has a \"private_key\" that is not an RSA key in PEM form ({error})")
        })?;
        let token_uri = file
            .token_uri
            .unwrap_or_else(|| super::DEFAULT_TOKEN_URL.to_string());
        match url::Url::parse(&token_uri) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(format!(
                    "has a \"token_uri\" that is not an http(s) URL: `{token_uri}`"
                ))
            }
        }
        Ok(ServiceAccount {
            client_email,
            private_key_id: file.private_key_id.filter(|id| !id.is_empty()),
            private_key: Secret::new(private_key),
            token_uri,
        })
    }

    /// The signed assertion for `scope`, issued at `now`.
    pub fn assertion(&self, scope: &str, now: DateTime<Utc>) -> Result<String, Failure> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            scope: &'a str,
            aud: &'a str,
            iat: i64,
            exp: i64,
        }
        let key =
            EncodingKey::from_rsa_pem(self.private_key.expose().as_bytes()).map_err(|error| {
                Failure::Permanent(format!("the service account's key cannot sign ({error})"))
            })?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.private_key_id.clone();
        let iat = now.timestamp();
        let claims = Claims {
            iss: &self.client_email,
            scope,
            aud: &self.token_uri,
            iat,
            exp: iat + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &key).map_err(|error| {
            Failure::Permanent(format!(
                "cannot sign the service account's assertion ({error})"
            ))
        })
    }
}

pub struct ServiceAccountGrant<'a> {
    pub source: &'a str,
    pub account: &'a ServiceAccount,
    /// The full scope URL ("https://www.googleapis.com/auth/androidpublisher").
    pub scope: &'a str,
    /// Where the assertion goes: the file's `token_uri`, or the config's `token_url`.
    pub token_url: &'a str,
    /// What the account must be allowed to do, for the refusal: "Reply to reviews in Play Console".
    pub needs: &'a str,
    pub transport: &'a Transport,
    pub cache: &'a TokenCache,
}

#[async_trait]
impl Auth for ServiceAccountGrant<'_> {
    async fn token(&self) -> Result<Secret, Failure> {
        let now = self.transport.budget().now();
        self.cache.get(now, || self.exchange()).await
    }

    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure> {
        self.cache.renew(stale, || self.exchange()).await
    }
}

impl ServiceAccountGrant<'_> {
    async fn exchange(&self) -> Result<(Secret, DateTime<Utc>), Failure> {
        let assertion = self
            .account
            .assertion(self.scope, self.transport.budget().now())?;
        let issued = token_endpoint(self.token_url)
            .exchange(
                self.transport,
                &[("grant_type", JWT_BEARER), ("assertion", &assertion)],
                |error, description| self.refused(error, description),
            )
            .await?;
        Ok((issued.access_token, issued.expires_at))
    }

    fn refused(&self, error: &str, description: &str) -> String {
        let (source, email, needs) = (self.source, &self.account.client_email, self.needs);
        match error {
            "invalid_grant" => format!(
                "Google refused the service account {email} of source `{source}` (invalid_grant{description}): its key may have been deleted or disabled; create a new JSON key (Google Cloud console → IAM & Admin → Service accounts → {email} → Keys → Add key), point `service_account` at it, and check that this machine's clock is right"
            ),
            "invalid_client" | "unauthorized_client" | "access_denied" => format!(
                "Google refused the service account {email} of source `{source}` ({error}{description}): the account is disabled or deleted, or not allowed to {needs}"
            ),
            _ => format!("Google's token endpoint refused source `{source}` ({error}{description})"),
        }
    }
}
