//! Where a store lives: a folder (sled) or a PostgreSQL database. The database's address may
//! carry a password; it never reaches `Debug`, `Display` or a log.

use std::fmt;
use std::path::PathBuf;

#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Folder(PathBuf),
    Postgres(DatabaseUrl),
}

/// A `postgres://` address, password and all; shown with the password left out.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Checks that `url` is a `postgres://` or `postgresql://` address. The error never
    /// repeats the address, which may hold a password.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let parsed = url::Url::parse(url).map_err(|error| {
            format!("not a database address ({error}); write it like \"postgres://user:password@host:5432/database\"")
        })?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "`{}:` is not a PostgreSQL address; write it like \"postgres://user:password@host:5432/database\"",
                parsed.scheme()
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("the database address names no host".into());
        }
        Ok(DatabaseUrl(url.to_string()))
    }

    /// The address with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(mut url) = url::Url::parse(&self.0) else {
            return f.write_str("postgres://…");
        };
        if url.password().is_some() {
            let _ = url.set_password(Some("…"));
        }
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key.eq_ignore_ascii_case("password") {
                    "…".to_string()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        // `…` is percent-encoded by the URL type; shown as typed.
        f.write_str(&url.as_str().replace("%E2%80%A6", "…"))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Folder(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Folder(path) => f.debug_tuple("Folder").field(path).finish(),
            Location::Postgres(url) => f.debug_tuple("Postgres").field(url).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let url = DatabaseUrl::parse(
            "postgres://earshot:s3cret@db.internal:5432/earshot?password=s3cret&sslmode=disable",
        )
        .unwrap();
        let shown = format!("{url} {url:?} {:?}", Location::Postgres(url.clone()));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://earshot:…@db.internal:5432/earshot"),
            "{shown}"
        );
        assert!(url.expose().contains("s3cret"));
    }

    #[test]
    fn only_postgres_addresses_are_taken_and_errors_do_not_repeat_them() {
        for bad in ["mysql://u:s3cret@h/db", "postgres://", "s3cret"] {
            let error = DatabaseUrl::parse(bad).unwrap_err();
            assert!(!error.contains("s3cret"), "{error}");
        }
        assert!(DatabaseUrl::parse("postgresql://h/db").is_ok());
    }
}
