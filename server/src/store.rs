//! The listener's durable store: SQLite (bundled, no server), one file.
//!
//! - `messages`: every raw body that looks like PayPal's (it carries a `verify_sign`), stored and
//!   synced before the listener answers 200, with its state: `received` (to post back),
//!   `verified` (PayPal said `VERIFIED`; the order lookup or the rules are still to run),
//!   `invalid`, `refused`, `duplicate`, `stale`, `accepted`, `unreadable` (verified, but a value
//!   the typed model cannot read: kept, reported, and run again by `--reprocess`).
//! - `deliveries`: the [`DeliveryKey`](ipnkit::DeliveryKey) of every message acted on, unique, by
//!   lookup id: what duplicate detection reads.
//! - `events`: the outbox, written in the same transaction as the message's final state (and
//!   its delivery key), and marked sent once the sink has them. Each event's id is its row id:
//!   a sink sees an event at least once, always under the same id.
//! - `junk`: whatever else was posted to the listener's URL (no `verify_sign`, or not a form
//!   body at all): never posted back, its first bytes kept for a while to look at, pruned by age
//!   and by count, written in batches apart from real messages.
//!
//! The schema is versioned (`PRAGMA user_version`) and migrated forward when a store is opened.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// A store error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite's error.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file can only be read (its permissions, its owner, a read-only file system).
    #[error("store: {0} can only be read; the listener must be able to write it and its directory")]
    ReadOnly(String),
    /// The file was written by a newer version of ipnkit.
    #[error("store: schema version {found} is newer than this ipnkit's ({supported})")]
    TooNew {
        /// The version found.
        found: i64,
        /// The version this build writes.
        supported: i64,
    },
}

/// One connection to the store. Open one per thread.
pub struct Store {
    conn: Connection,
}

/// A message claimed for work: a postback, or (once verified) the order lookup and the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its row id.
    pub id: i64,
    /// The raw body, as received.
    pub body: Vec<u8>,
    /// Attempts so far.
    pub attempts: i64,
    /// Whether PayPal has verified it already (then it is not posted back again).
    pub verified: bool,
}

/// Counts of messages by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counts {
    /// Stored, not yet verified (or to retry).
    pub received: i64,
    /// Verified, waiting for the order lookup (or to run the rules again).
    pub verified: i64,
    /// PayPal answered INVALID.
    pub invalid: i64,
    /// Verified, but a business rule was broken (or no order is known).
    pub refused: i64,
    /// Verified, seen already.
    pub duplicate: i64,
    /// Verified, but a later state of the same thing was acted on already: not acted on.
    pub stale: i64,
    /// Verified, checked, new: acted on.
    pub accepted: i64,
    /// Verified, but a value cannot be read (its error code and field are kept).
    pub unreadable: i64,
    /// Not PayPal's: never posted back (kept apart, pruned).
    pub junk: i64,
}

impl Counts {
    /// Messages whose work is not done: to post back, or verified and waiting.
    pub fn unsettled(&self) -> i64 {
        self.received + self.verified
    }

    /// Each state's name (as the store writes it) and count, junk last.
    pub fn by_state(&self) -> [(&'static str, i64); 9] {
        [
            ("received", self.received),
            ("verified", self.verified),
            ("invalid", self.invalid),
            ("refused", self.refused),
            ("duplicate", self.duplicate),
            ("stale", self.stale),
            ("accepted", self.accepted),
            ("unreadable", self.unreadable),
            ("junk", self.junk),
        ]
    }

    /// Messages settled in a final state.
    pub fn settled(&self) -> i64 {
        self.invalid + self.refused + self.duplicate + self.stale + self.accepted + self.unreadable
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A duration in milliseconds, for arithmetic on the store's timestamps.
pub fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// The most junk rows kept (the newest), and the most bytes of each kept.
pub const JUNK_ROWS_KEPT: i64 = 10_000;
/// See [`JUNK_ROWS_KEPT`].
pub const JUNK_BYTES_KEPT: usize = 2048;

impl Store {
    /// Opens (creating if needed) the store at `path`, checks that it can be written, and
    /// migrates its schema to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(StoreError::ReadOnly(path.display().to_string()));
        }
        conn.busy_timeout(Duration::from_secs(30))?;
        // WAL lets the receiver append while the workers read; FULL syncs every commit, so a
        // stored message survives a crash or power loss.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| read_only(e.into(), path))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::ReadOnly(path.display().to_string()));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut store = Store { conn };
        store.migrate().map_err(|e| read_only(e, path))?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        // BEGIN IMMEDIATE takes the write lock: a store that cannot be written fails here, at
        // start, rather than on the first message.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            // Version 1: the first schema (created without a version number).
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS messages (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     received_at INTEGER NOT NULL,
                     body BLOB NOT NULL,
                     state TEXT NOT NULL DEFAULT 'received',
                     attempts INTEGER NOT NULL DEFAULT 0,
                     next_attempt_at INTEGER NOT NULL DEFAULT 0,
                     detail TEXT
                 );
                 CREATE INDEX IF NOT EXISTS messages_due ON messages(state, next_attempt_at);
                 CREATE TABLE IF NOT EXISTS deliveries (
                     key TEXT PRIMARY KEY,
                     lookup_id TEXT NOT NULL,
                     message_id INTEGER NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS deliveries_lookup ON deliveries(lookup_id);
                 CREATE TABLE IF NOT EXISTS events (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     message_id INTEGER NOT NULL,
                     line TEXT NOT NULL,
                     sent INTEGER NOT NULL DEFAULT 0
                 );",
            )?;
        }
        if version < 2 {
            // Version 2: verified messages wait apart from unverified ones; the field an
            // unreadable message failed on; pruned bodies; junk apart from messages.
            tx.execute_batch(
                "ALTER TABLE messages ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE messages ADD COLUMN field TEXT;
                 ALTER TABLE messages ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;
                 CREATE INDEX IF NOT EXISTS events_unsent ON events(sent, id);
                 CREATE INDEX IF NOT EXISTS messages_received ON messages(received_at);
                 CREATE TABLE reported (
                     key TEXT PRIMARY KEY,
                     message_id INTEGER NOT NULL
                 );
                 CREATE TABLE junk (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     received_at INTEGER NOT NULL,
                     reason TEXT NOT NULL,
                     length INTEGER NOT NULL,
                     head BLOB NOT NULL
                 );",
            )?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a raw body, durably; returns its id.
    pub fn insert(&self, body: &[u8]) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO messages (received_at, body) VALUES (?1, ?2)",
            params![now_ms(), body],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Stores a batch of junk (when, why, the body: its first [`JUNK_BYTES_KEPT`] bytes are kept)
    /// in one transaction, not synced one by one: junk is not PayPal's, and losing the last
    /// batch to a power cut loses nothing anyone relies on.
    pub fn insert_junk(&mut self, batch: &[(i64, &str, &[u8])]) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = (|| {
            let tx = self.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO junk (received_at, reason, length, head) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (at, reason, body) in batch {
                    let head = body.get(..JUNK_BYTES_KEPT).unwrap_or(body);
                    let length = i64::try_from(body.len()).unwrap_or(i64::MAX);
                    stmt.execute(params![at, reason, length, head])?;
                }
            }
            tx.commit()
        })();
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(result?)
    }

    /// Claims the message due first: it is not due again for `lease` (the time its work may take:
    /// were this process to die meanwhile, it is picked up again then). Oldest due first. The
    /// claim is one write transaction, committed before the message is returned: two workers
    /// never hold the same message.
    pub fn claim(&mut self, now: i64, lease: Duration) -> Result<Option<Pending>, StoreError> {
        // A claim need not survive a power cut (the message is then simply due at once): its
        // commit is not synced, so that claims do not compete with received bodies for fsyncs.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let claimed = self.claim_unsynced(now, lease);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        claimed
    }

    fn claim_unsynced(&mut self, now: i64, lease: Duration) -> Result<Option<Pending>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let pending = tx
            .prepare_cached(
                "SELECT id, body, attempts, verified FROM messages
                 WHERE state IN ('received', 'verified') AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, id LIMIT 1",
            )?
            .query_row(params![now], |r| {
                Ok(Pending {
                    id: r.get(0)?,
                    body: r.get(1)?,
                    attempts: r.get(2)?,
                    verified: r.get::<_, i64>(3)? != 0,
                })
            })
            .optional()?;
        if let Some(p) = &pending {
            tx.execute(
                "UPDATE messages SET next_attempt_at = ?2 WHERE id = ?1",
                params![p.id, now.saturating_add(ms(lease))],
            )?;
        }
        tx.commit()?;
        Ok(pending)
    }

    /// When the next message is due, if any is waiting.
    pub fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT MIN(next_attempt_at) FROM messages WHERE state IN ('received', 'verified')",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Schedules more work on message `id` at `at` (another postback, or another order lookup).
    pub fn retry_later(&self, id: i64, at: i64, detail: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE messages SET attempts = attempts + 1, next_attempt_at = ?2, detail = ?3
             WHERE id = ?1",
            params![id, at, detail],
        )?;
        Ok(())
    }

    /// Records PayPal's `VERIFIED` for message `id`: it is never posted back again. The claim
    /// stays: the worker that holds it goes on to settle it.
    pub fn mark_verified(&self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE messages SET state = 'verified', verified = 1, attempts = 0, detail = NULL
             WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// Settles message `id` in a final state other than accepted, with the codes (never values)
    /// saying why, and the field concerned when there is one.
    pub fn settle(
        &self,
        id: i64,
        state: &str,
        detail: &str,
        field: Option<&str>,
    ) -> Result<(), StoreError> {
        set_outcome(&self.conn, id, state, detail, field)
    }

    /// [`settle`](Store::settle), and puts `event_line` in the outbox, in one transaction.
    pub fn settle_with_event(
        &mut self,
        id: i64,
        state: &str,
        detail: &str,
        field: Option<&str>,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        set_outcome(&tx, id, state, detail, field)?;
        insert_event(&tx, id, event_line)?;
        tx.commit()?;
        Ok(())
    }

    /// Refuses message `id` and reports it with `event_line`, once per delivery key: a second
    /// copy of a refused notification (PayPal resends, retries) is a duplicate, not a second
    /// report. Returns `false` for such a copy.
    pub fn refuse(
        &mut self,
        id: i64,
        key: &str,
        detail: &str,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO reported (key, message_id) VALUES (?1, ?2)",
            params![key, id],
        )?;
        let (state, detail) = if inserted == 0 {
            ("duplicate", "duplicate")
        } else {
            ("refused", detail)
        };
        set_outcome(&tx, id, state, detail, None)?;
        if inserted != 0 {
            insert_event(&tx, id, event_line)?;
        }
        tx.commit()?;
        Ok(inserted != 0)
    }

    /// The delivery keys stored under `lookup_id`, oldest first.
    pub fn keys(&self, lookup_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key FROM deliveries WHERE lookup_id = ?1 ORDER BY rowid")?;
        let rows = stmt.query_map(params![lookup_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }

    /// Accepts message `id` in one transaction: its state, its delivery key, and its event in
    /// the outbox (`event_line` is given the event's id). Returns `false` when the key was
    /// stored meanwhile (a duplicate after all: no event).
    pub fn accept(
        &mut self,
        id: i64,
        key: &str,
        lookup_id: &str,
        detail: &str,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO deliveries (key, lookup_id, message_id) VALUES (?1, ?2, ?3)",
            params![key, lookup_id, id],
        )?;
        if inserted == 0 {
            set_outcome(&tx, id, "duplicate", "duplicate", None)?;
            tx.commit()?;
            return Ok(false);
        }
        set_outcome(&tx, id, "accepted", detail, None)?;
        insert_event(&tx, id, event_line)?;
        tx.commit()?;
        Ok(true)
    }

    /// Events not yet handed to the sink, oldest first (at most `limit`).
    pub fn unsent_events(&self, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, line FROM events WHERE sent = 0 ORDER BY id LIMIT ?1")?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Marks an event handed to the sink.
    pub fn mark_sent(&self, event_id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE events SET sent = 1 WHERE id = ?1",
            params![event_id],
        )?;
        Ok(())
    }

    /// Counts of messages by state, and of junk.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let mut c = Counts::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM messages GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            match state.as_str() {
                "received" => c.received = n,
                "verified" => c.verified = n,
                "invalid" => c.invalid = n,
                "refused" => c.refused = n,
                "duplicate" => c.duplicate = n,
                "stale" => c.stale = n,
                "accepted" => c.accepted = n,
                _ => c.unreadable += n,
            }
        }
        c.junk = self
            .conn
            .query_row("SELECT COUNT(*) FROM junk", [], |r| r.get(0))?;
        Ok(c)
    }

    /// Refused messages by their codes (`amount_mismatch`, `order_not_found,status_not_final`…).
    pub fn refusals(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT COALESCE(detail, ''), COUNT(*) FROM messages
             WHERE state IN ('refused', 'unreadable') GROUP BY 1 ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// When the oldest message still being worked on was received, if any is.
    pub fn oldest_unsettled_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT MIN(received_at) FROM messages WHERE state IN ('received', 'verified')",
            [],
            |r| r.get(0),
        )?)
    }

    /// Events waiting for the sink.
    pub fn unsent_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM events WHERE sent = 0", [], |r| {
                r.get(0)
            })?)
    }

    /// Every message's state, detail (codes) and field, by id (for reports and tests).
    pub fn outcomes(&self) -> Result<Vec<Outcome>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, state, detail, field FROM messages ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Outcome {
                id: r.get(0)?,
                state: r.get(1)?,
                detail: r.get(2)?,
                field: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The raw body of message `id` (empty once pruned).
    pub fn body(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT body FROM messages WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every event line in the outbox, sent or not, in order (for reports and tests).
    pub fn events(&self) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, message_id, line FROM events ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Erases the raw bodies of settled messages received before `before` (they are personal
    /// data): the row, its state and codes stay, for duplicate detection and reports. Unreadable
    /// messages keep their body until they are reprocessed. Junk older than `junk_before`, and
    /// beyond the newest [`JUNK_ROWS_KEPT`], is deleted. Returns (bodies erased, junk deleted).
    pub fn prune(&self, before: i64, junk_before: i64) -> Result<(usize, usize), StoreError> {
        let erased = self.conn.execute(
            "UPDATE messages SET body = x'', pruned = 1
             WHERE pruned = 0 AND received_at < ?1
               AND state IN ('invalid', 'refused', 'duplicate', 'stale', 'accepted')",
            params![before],
        )?;
        let mut deleted = self.conn.execute(
            "DELETE FROM junk WHERE received_at < ?1",
            params![junk_before],
        )?;
        deleted += self.conn.execute(
            "DELETE FROM junk WHERE id <= (SELECT id FROM junk ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            params![JUNK_ROWS_KEPT],
        )?;
        Ok((erased, deleted))
    }

    /// Puts back to work every verified message that could not be read, or whose order was not
    /// known: the current version (and the current order book) reads it again, without another
    /// postback. Their earlier reports stay in the outbox; the new one has a new event id.
    /// Returns how many.
    pub fn reprocess(&mut self) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM reported WHERE message_id IN (SELECT id FROM messages
                 WHERE state = 'refused' AND verified = 1 AND pruned = 0
                   AND (',' || detail || ',') LIKE '%,order_not_found,%')",
            [],
        )?;
        let n = tx.execute(
            "UPDATE messages SET state = 'verified', next_attempt_at = 0, attempts = 0
             WHERE verified = 1 AND pruned = 0 AND (state = 'unreadable'
                OR (state = 'refused' AND (',' || detail || ',') LIKE '%,order_not_found,%'))",
            [],
        )?;
        tx.commit()?;
        Ok(n)
    }
}

/// One message's outcome, as [`Store::outcomes`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The message's id.
    pub id: i64,
    /// Its state.
    pub state: String,
    /// The codes saying why (never values).
    pub detail: Option<String>,
    /// The field concerned, when there is one.
    pub field: Option<String>,
}

/// Message `id`'s outcome: its state, the codes saying why, the field concerned (or none), and
/// one more attempt counted.
fn set_outcome(
    conn: &Connection,
    id: i64,
    state: &str,
    detail: &str,
    field: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE messages SET state = ?2, detail = ?3, field = ?4, attempts = attempts + 1
         WHERE id = ?1",
        params![id, state, detail, field],
    )?;
    Ok(())
}

fn insert_event(
    tx: &rusqlite::Transaction<'_>,
    message_id: i64,
    line: &dyn Fn(i64) -> String,
) -> Result<(), StoreError> {
    // The event's id is its row id, which the line carries: insert, then write the line.
    tx.execute(
        "INSERT INTO events (message_id, line) VALUES (?1, '')",
        params![message_id],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE events SET line = ?2 WHERE id = ?1",
        params![id, line(id)],
    )?;
    Ok(())
}

/// A read-only store shows itself as SQLite's "readonly" errors: said plainly, with the path.
fn read_only(e: StoreError, path: &Path) -> StoreError {
    match &e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
            ) =>
        {
            StoreError::ReadOnly(path.display().to_string())
        }
        _ => e,
    }
}
