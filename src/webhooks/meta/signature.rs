//! `X-Hub-Signature-256: sha256=<hex>`: Meta's HMAC-SHA256 of the raw body under the app
//! secret. A request without it, or with one that does not match, is refused before its body
//! is read.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::net::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-Hub-Signature-256 header")]
    Missing,
    #[error("the request's X-Hub-Signature-256 does not match its body")]
    Mismatch,
}

/// Checks `header` (the `X-Hub-Signature-256` value) over `body`.
pub fn verify(
    app_secret: &Secret,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let given = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(decode_hex)
        .ok_or(SignatureError::Mismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header Meta sends with `body` (and what tests send).
pub fn sign(app_secret: &Secret, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!(
        "sha256={}",
        crate::sources::graph::hex(&mac.finalize().into_bytes())
    )
}

/// Whether two secrets are equal, in time that does not depend on where they differ (the
/// handshake's verify token): both are MACed under one key and the MACs compared.
pub fn same_secret(expected: &Secret, given: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(expected.expose().as_bytes()) else {
        return false;
    };
    mac.update(expected.expose().as_bytes());
    let want = mac.finalize().into_bytes();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(expected.expose().as_bytes()) else {
        return false;
    };
    mac.update(given.as_bytes());
    mac.verify_slice(&want).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_over_the_raw_body_verifies_and_anything_else_does_not() {
        let secret = Secret::new("app-secret");
        let body = br#"{"object":"page","entry":[]}"#;
        let header = sign(&secret, body);
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert_eq!(verify(&secret, body, Some(&header)), Ok(()));
        assert_eq!(
            verify(
                &secret,
                body,
                Some(&header.to_uppercase().replace("SHA256=", "sha256="))
            ),
            Ok(()),
            "hex in either case"
        );
        assert_eq!(verify(&secret, body, None), Err(SignatureError::Missing));
        let tampered = br#"{"object":"page","entry":[{}]}"#;
        assert_eq!(
            verify(&secret, tampered, Some(&header)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&Secret::new("other"), body, Some(&header)),
            Err(SignatureError::Mismatch)
        );
        for bad in [
            "",
            "sha256=",
            "sha1=abc",
            "sha256=zz",
            &header[..header.len() - 2],
        ] {
            assert_eq!(
                verify(&secret, body, Some(bad)),
                Err(SignatureError::Mismatch),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_verify_token_must_match_exactly() {
        let token = Secret::new("my-token");
        assert!(same_secret(&token, "my-token"));
        assert!(!same_secret(&token, "my-token "));
        assert!(!same_secret(&token, ""));
        assert!(!same_secret(&token, "my-tokem"));
    }
}
