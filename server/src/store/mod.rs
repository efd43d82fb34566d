//! The listener's durable store: one interface ([`Store`]), two engines.
//!
//! - **SQLite** ([`Db::Sqlite`], the default): one file, no server, for one listener process.
//! - **PostgreSQL** ([`Db::Postgres`], a `postgres://` URL): for several listener processes
//!   sharing one database (behind a load balancer, or deployed without downtime).
//!
//! Both keep the same tables with the same meaning:
//!
//! - `messages`: every raw body that looks like PayPal's (it carries a `verify_sign`), stored
//!   and committed before the listener answers 200, with its state: `received` (to post back),
//!   `verified` (PayPal said `VERIFIED`; the order lookup or the rules are still to run),
//!   `invalid`, `refused`, `duplicate`, `stale`, `accepted`, `unreadable` (verified, but a value
//!   the typed model cannot read: kept, reported, and run again by `--reprocess`).
//! - `deliveries`: the [`DeliveryKey`](ipnkit::DeliveryKey) of every message acted on, unique,
//!   by lookup id: what duplicate detection reads. The unique key decides races between workers
//!   and between processes.
//! - `reported`: the delivery key of every refusal reported, unique (a refusal is reported once).
//! - `events`: the outbox, written in the same transaction as the message's final state (and
//!   its delivery key), and marked sent once the sink has them. Each event's id is its row id:
//!   a sink sees an event at least once, always under the same id. One process at a time hands
//!   the outbox to its sink ([`Store::lead_events`]).
//! - `junk`: whatever else was posted to the listener's URL (no `verify_sign`, or not a form
//!   body at all): never posted back, its first bytes kept for a while to look at, pruned by age
//!   and by count, written in batches apart from real messages.
//!
//! Work is shared by *claims*: [`Store::claim`] hands one due message to one worker and makes it
//! not due for a lease; a worker (or a process) that dies leaves it due again when the lease
//! ends. The schema is versioned ([`SCHEMA_VERSION`]) and migrated forward when a store is
//! opened; [`copy`] moves a store from one engine to the other.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

mod model;
mod postgres;
mod sqlite;

pub use self::model::{
    Counts, JUNK_BYTES_KEPT, JUNK_ROWS_KEPT, MessageRow, Outcome, Pending, SCHEMA_VERSION,
    Snapshot, Store, StoreError, ms, now_ms, read_webhook_headers, webhook_headers,
};

pub use self::postgres::Postgres;
pub use self::sqlite::Sqlite;

/// Where the store is: `--db`.
#[derive(Clone, PartialEq, Eq)]
pub enum Db {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database: `postgres://user:password@host:port/database?options` (or
    /// `postgresql://`; `host=/run/postgresql` for a Unix socket, as libpq reads it).
    Postgres(String),
}

impl Db {
    /// A file path, or a URL starting with `postgres://` or `postgresql://`.
    pub fn parse(location: &str) -> Result<Db, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            // Read now, so that a malformed URL is refused at start with a clear word.
            location.parse::<::postgres::Config>().map_err(|e| {
                StoreError::BadLocation(format!("a PostgreSQL URL that cannot be read ({e})"))
            })?;
            Ok(Db::Postgres(location.to_owned()))
        } else if location.contains("://") {
            Err(StoreError::BadLocation(
                "a URL that is not postgres:// (give a file path for SQLite, or a postgres:// URL)"
                    .into(),
            ))
        } else if location.is_empty() {
            Err(StoreError::BadLocation("an empty path".into()))
        } else {
            Ok(Db::Sqlite(PathBuf::from(location)))
        }
    }

    /// The engine's name: `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }
}

impl FromStr for Db {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Db, StoreError> {
        Db::parse(s)
    }
}

impl From<PathBuf> for Db {
    fn from(path: PathBuf) -> Db {
        Db::Sqlite(path)
    }
}

impl From<&Path> for Db {
    fn from(path: &Path) -> Db {
        Db::Sqlite(path.to_owned())
    }
}

/// The path, or the URL with its password replaced by `***` (logs and errors show this).
impl fmt::Display for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Db::Sqlite(path) => write!(f, "{}", path.display()),
            Db::Postgres(url) => f.write_str(&model::redact(url)),
        }
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Db({self})")
    }
}

/// Opens (creating if needed) the store at `db`, checks that it can be written, and migrates
/// its schema to [`SCHEMA_VERSION`]. One store is one connection, for one thread: [`connect`]
/// opens more.
pub fn open(db: &Db) -> Result<Box<dyn Store>, StoreError> {
    Ok(match db {
        Db::Sqlite(path) => Box::new(Sqlite::open(path)?),
        Db::Postgres(url) => Box::new(Postgres::open(url)?),
    })
}

/// One more connection to a store [`open`] has checked and migrated (no schema work: what a
/// listener opens for its workers and its receiving side, some while under load).
pub fn connect(db: &Db) -> Result<Box<dyn Store>, StoreError> {
    Ok(match db {
        Db::Sqlite(path) => Box::new(Sqlite::connect(path)?),
        Db::Postgres(url) => Box::new(Postgres::connect(url)?),
    })
}

/// Copies every message (body, state, codes, attempts), delivery key, reported refusal and
/// event (sent or not, ids kept) from one store into another, empty one — from SQLite to
/// PostgreSQL, or back. Junk is not copied. Stop the listeners first. Returns what was copied.
pub fn copy(from: &Db, to: &Db) -> Result<Snapshot, StoreError> {
    if let Db::Sqlite(path) = from {
        // Opening creates a missing file: a mistyped path would copy nothing, successfully.
        if !path.is_file() {
            return Err(StoreError::BadLocation(format!(
                "no SQLite store at {} to copy from",
                path.display()
            )));
        }
    }
    let snapshot = open(from)?.snapshot()?;
    open(to)?.restore(&snapshot)?;
    Ok(snapshot)
}

/// Polls `store` every 20 ms, telling `progress` the counts, until no message waits for work or
/// `timeout` has passed; returns the last counts (for demos and benchmarks).
pub fn wait_settled(
    store: &mut dyn Store,
    timeout: Duration,
    progress: &dyn Fn(&Counts),
) -> Result<Counts, StoreError> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let counts = store.counts()?;
        progress(&counts);
        if counts.unsettled() == 0 || std::time::Instant::now() > deadline {
            return Ok(counts);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_a_path_or_a_postgres_url() {
        assert_eq!(
            Db::parse("ipn.sqlite").unwrap(),
            Db::Sqlite("ipn.sqlite".into())
        );
        assert_eq!(Db::parse("postgres://u@h/db").unwrap().engine(), "postgres");
        assert_eq!(
            Db::parse("postgresql://u@h/db").unwrap().engine(),
            "postgres"
        );
        assert!(matches!(
            Db::parse("mysql://u@h/db"),
            Err(StoreError::BadLocation(_))
        ));
        assert!(matches!(Db::parse(""), Err(StoreError::BadLocation(_))));
        assert!(matches!(
            Db::parse("postgres://u@h:notaport/db"),
            Err(StoreError::BadLocation(_))
        ));
    }

    #[test]
    fn a_password_is_never_shown() {
        for (url, shown) in [
            (
                "postgres://ipn:s3cret@db.example:5432/shop",
                "postgres://ipn:***@db.example:5432/shop",
            ),
            (
                "postgres://ipn:s3cret@db/shop?sslmode=require&password=other",
                "postgres://ipn:***@db/shop?sslmode=require&password=***",
            ),
            ("postgres://ipn@db/shop", "postgres://ipn@db/shop"),
            ("postgresql://a:b@c", "postgresql://a:***@c"),
        ] {
            let db = Db::parse(url).unwrap();
            assert_eq!(db.to_string(), shown);
            assert!(!format!("{db:?}").contains("s3cret"));
        }
    }
}
