//! The store's tests on both backends: `on_both!` makes each test twice, `sled` and `postgres`
//! (`cargo test --test it store::` runs both; `::postgres` one). A PostgreSQL test gets a
//! database of its own on the server tests/postgres/setup.sh starts (EARSHOT_TEST_POSTGRES
//! names another); EARSHOT_SKIP_POSTGRES=1 skips the PostgreSQL variants, saying so once.

use std::sync::atomic::{AtomicUsize, Ordering};

use earshot::store::{DatabaseUrl, Location, Store};

/// The server tests/postgres/setup.sh starts.
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:54329/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sled,
    Postgres,
}

impl Backend {
    /// The PostgreSQL backend, unless EARSHOT_SKIP_POSTGRES=1.
    pub fn postgres() -> Option<Backend> {
        if std::env::var("EARSHOT_SKIP_POSTGRES").as_deref() == Ok("1") {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                eprintln!("EARSHOT_SKIP_POSTGRES=1: skipping the PostgreSQL variants of the store's tests")
            });
            return None;
        }
        Some(Backend::Postgres)
    }

    /// A new, empty store's place: a temporary folder, or a new database with earshot's tables.
    pub fn place(self) -> Place {
        match self {
            Backend::Sled => {
                let dir = tempfile::tempdir().unwrap();
                Place {
                    location: Location::Folder(dir.path().join("earshot")),
                    _dir: Some(dir),
                    database: None,
                }
            }
            Backend::Postgres => {
                let place = Place::database();
                Store::migrate(&place.location).expect("earshot migrate on a new database");
                place
            }
        }
    }
}

/// Where a test's store lives; a database is dropped with it.
pub struct Place {
    pub location: Location,
    _dir: Option<tempfile::TempDir>,
    database: Option<String>,
}

impl Place {
    /// A new database on the test server, without earshot's tables.
    pub fn database() -> Place {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "earshot_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_micros() % 1_000_000
        );
        admin(&format!("CREATE DATABASE {name}"));
        let mut url = url::Url::parse(&server()).unwrap();
        url.set_path(&name);
        Place {
            location: Location::Postgres(DatabaseUrl::parse(url.as_str()).unwrap()),
            _dir: None,
            database: Some(name),
        }
    }

    pub fn open(&self, chats: Vec<String>) -> Store {
        Store::open_at(&self.location, chats).expect("open the test store")
    }

    /// The database's address, for a test's own SQL.
    pub fn url(&self) -> Option<String> {
        match &self.location {
            Location::Postgres(url) => Some(url.expose().to_string()),
            Location::Folder(_) => None,
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some(name) = &self.database {
            admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn server() -> String {
    std::env::var("EARSHOT_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_string())
}

/// Runs `sql` on the server's maintenance database, on a thread of its own (a test may be
/// inside a runtime already).
fn admin(sql: &str) {
    sql_on(&server(), sql);
}

/// Runs `sql` (one or more statements) on the database `url`.
pub fn sql_on(url: &str, sql: &str) {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|error| {
                    panic!("the test PostgreSQL server at {url} does not answer ({error}); start it with `bash tests/postgres/setup.sh`, or set EARSHOT_SKIP_POSTGRES=1")
                });
            tokio::spawn(connection);
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|error| panic!("{sql}: {error}"));
        });
    })
    .join()
    .unwrap();
}

/// Makes the test `name` twice, in a module of that name: `sled` and `postgres`, each with
/// `backend` set to its [`Backend`].
macro_rules! on_both {
    ($(#[$attr:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$attr])*
            async fn sled() {
                let $backend = $crate::backend::Backend::Sled;
                $body
            }
            $(#[$attr])*
            async fn postgres() {
                let Some($backend) = $crate::backend::Backend::postgres() else {
                    return;
                };
                $body
            }
        }
    };
    ($(#[$attr:meta])* fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$attr])*
            fn sled() {
                let $backend = $crate::backend::Backend::Sled;
                $body
            }
            $(#[$attr])*
            fn postgres() {
                let Some($backend) = $crate::backend::Backend::postgres() else {
                    return;
                };
                $body
            }
        }
    };
}

impl crate::common::Setup {
    /// Points the setup's config at `place` when it is a database (a folder store stays the
    /// setup's own `data`).
    pub fn store_in(self, place: &Place) -> Self {
        if let Some(url) = place.url() {
            let config = std::fs::read_to_string(self.config()).unwrap();
            let config = config.replacen("path = \"data\"", &format!("url = \"{url}\""), 1);
            std::fs::write(self.config(), config).unwrap();
        }
        self
    }
}
