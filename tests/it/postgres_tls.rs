//! TLS to the database: with `sslmode=require` the store connects only over TLS and only to a
//! server whose certificate checks out (here against the test cluster's own CA, named with
//! `sslrootcert=`); without it the certificate is refused, with a line that says why.

use earshot::store::{DatabaseUrl, Location, Store};

use crate::backend::{Backend, Place};

/// The CA tests/postgres/setup.sh made for the test server, if it made one.
fn test_ca() -> Option<std::path::PathBuf> {
    // Another server (EARSHOT_TEST_POSTGRES) has a CA of its own, unknown here.
    if std::env::var_os("EARSHOT_TEST_POSTGRES").is_some() {
        return None;
    }
    let ca =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/postgres/.cluster/tls/ca.crt");
    ca.exists().then_some(ca)
}

fn with_options(place: &Place, options: &str) -> Location {
    let url = format!("{}?{options}", place.url().unwrap());
    Location::Postgres(DatabaseUrl::parse(&url).unwrap())
}

#[test]
fn sslmode_require_connects_over_verified_tls_only() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let Some(ca) = test_ca() else {
        eprintln!("the test server has no TLS (setup.sh found no openssl): skipping the TLS test");
        return;
    };
    let place = backend.place();
    let trusted = with_options(
        &place,
        &format!("sslmode=require&sslrootcert={}", ca.display()),
    );
    let store = Store::open_at(&trusted, vec![]).expect("a verified TLS connection");
    assert_eq!(store.count().unwrap(), 0);
    // The location as shown never carries more than the address did.
    assert!(trusted.to_string().contains("sslmode=require"), "{trusted}");

    // The system's roots do not know the test CA: refused, never used unverified.
    let unverified = with_options(&place, "sslmode=require");
    let refused = Store::open_at(&unverified, vec![])
        .err()
        .expect("an unknown issuer is refused");
    let said = refused.to_string();
    assert!(said.contains("cannot reach the database"), "{said}");
    assert!(
        said.to_lowercase().contains("certificate") || said.contains("TLS") || said.contains("tls"),
        "{said}"
    );

    let missing = with_options(&place, "sslmode=require&sslrootcert=/nonexistent/ca.pem");
    let said = Store::open_at(&missing, vec![]).err().unwrap().to_string();
    assert!(said.contains("sslrootcert=/nonexistent/ca.pem"), "{said}");
}
