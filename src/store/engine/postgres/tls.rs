//! TLS to the database, as the address asks: `sslmode=prefer` (TLS when the server offers it)
//! or `sslmode=require`; an address without `sslmode` connects as before, in plain text. The
//! server's certificate is always verified, against the system's roots or the CA file that
//! `sslrootcert=<file>` names (libpq's `verify-full`: a certificate that does not check out is
//! refused, never used unverified). tokio-postgres does not read `sslrootcert`, so it is taken
//! out of the address here.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::store::{Result, StoreError};

/// What the address says about TLS.
pub(super) struct Wanted {
    /// The address without the options only earshot reads.
    pub url: String,
    /// `sslmode` was given: connect with TLS as it says.
    pub tls: bool,
    pub root: Option<PathBuf>,
}

pub(super) fn wanted(url: &str) -> Result<Wanted> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // A key=value connection string: the driver reads it (and its sslmode) itself.
        return Ok(Wanted {
            url: url.to_string(),
            tls: url.contains("sslmode=") && !url.contains("sslmode=disable"),
            root: None,
        });
    };
    let mut root = None;
    let mut tls = false;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(key, value)| {
            if key == "sslrootcert" {
                root = Some(PathBuf::from(value.as_ref()));
                return None;
            }
            if key == "sslmode" && value != "disable" {
                tls = true;
            }
            Some((key.into_owned(), value.into_owned()))
        })
        .collect();
    if root.is_some() && !tls {
        return Err(StoreError::Postgres(
            "the database address names sslrootcert but no sslmode; add sslmode=require".into(),
        ));
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(Wanted {
        url: parsed.to_string(),
        tls,
        root,
    })
}

/// A connector that verifies the server against the system's roots and `root`.
pub(super) fn connector(
    root: Option<&PathBuf>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        // A system root rustls cannot read is one fewer to trust, not a reason to fail.
        let _ = roots.add(certificate);
    }
    if let Some(path) = root {
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|found| found.collect())
            .map_err(|error| {
                StoreError::Postgres(format!(
                    "cannot read the CA certificates in sslrootcert={}: {error}",
                    path.display()
                ))
            })?;
        if certificates.is_empty() {
            return Err(StoreError::Postgres(format!(
                "sslrootcert={} holds no PEM certificate",
                path.display()
            )));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|error| {
                StoreError::Postgres(format!("sslrootcert={}: {error}", path.display()))
            })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| StoreError::Postgres(format!("cannot set up TLS: {error}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslrootcert_is_earshots_and_sslmode_asks_for_tls() {
        let plain = wanted("postgres://u:p@db/earshot").unwrap();
        assert!(!plain.tls);
        assert_eq!(plain.url, "postgres://u:p@db/earshot");
        let tls = wanted(
            "postgres://u:p@db/earshot?sslmode=require&sslrootcert=/etc/ca.pem&connect_timeout=5",
        )
        .unwrap();
        assert!(tls.tls);
        assert_eq!(tls.root, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(
            tls.url,
            "postgres://u:p@db/earshot?sslmode=require&connect_timeout=5"
        );
        assert!(!wanted("postgres://db/e?sslmode=disable").unwrap().tls);
        let refused = wanted("postgres://db/e?sslrootcert=/ca.pem").err().unwrap();
        assert!(
            refused.to_string().contains("add sslmode=require"),
            "{refused}"
        );
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let missing = connector(Some(&PathBuf::from("/nonexistent/ca.pem")))
            .err()
            .unwrap();
        assert!(
            missing
                .to_string()
                .contains("sslrootcert=/nonexistent/ca.pem"),
            "{missing}"
        );
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let refused = connector(Some(&empty)).err().unwrap();
        assert!(
            refused.to_string().contains("holds no PEM certificate"),
            "{refused}"
        );
    }
}
