//! The listener's durable store: SQLite (bundled, no server), one file.
//!
//! - `messages`: every raw body, stored (and synced) before the listener answers 200, with its
//!   state: `received` (to verify), `invalid`, `refused`, `duplicate`, `stale`, `accepted`,
//!   `unreadable`.
//! - `deliveries`: the [`DeliveryKey`](ipnkit::DeliveryKey) of every message acted on, unique, by
//!   lookup id: what duplicate detection reads.
//! - `events`: the outbox of accepted events, written in the same transaction as the state and
//!   the key, and marked sent once the sink has them (at-least-once to the sink, exactly-once in
//!   the store).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

/// A store error: SQLite's, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// One connection to the store. Open one per thread.
pub struct Store {
    conn: Connection,
}

/// A message waiting for (another) postback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its row id.
    pub id: i64,
    /// The raw body, as received.
    pub body: Vec<u8>,
    /// Postbacks tried so far.
    pub attempts: i64,
}

/// Counts of messages by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counts {
    /// Stored, not yet verified (or to retry).
    pub received: i64,
    /// PayPal answered INVALID.
    pub invalid: i64,
    /// Verified, but a business rule was broken.
    pub refused: i64,
    /// Verified, seen already.
    pub duplicate: i64,
    /// Verified, but a later state of the same thing was acted on already: not acted on.
    pub stale: i64,
    /// Verified, checked, new: acted on.
    pub accepted: i64,
    /// Not a message ipnkit can read (its error code is kept).
    pub unreadable: i64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // WAL lets the receiver append while the worker reads; FULL syncs every commit, so a
        // stored message survives a crash or power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
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
        Ok(Store { conn })
    }

    /// Stores a raw body, durably; returns its id.
    pub fn insert(&self, body: &[u8]) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO messages (received_at, body) VALUES (?1, ?2)",
            params![now_ms(), body],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Messages due for a postback, oldest first.
    pub fn due(&self, now: i64, limit: usize) -> Result<Vec<Pending>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, body, attempts FROM messages
             WHERE state = 'received' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![now, limit], |r| {
            Ok(Pending {
                id: r.get(0)?,
                body: r.get(1)?,
                attempts: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// When the next message is due, if any is waiting.
    pub fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT MIN(next_attempt_at) FROM messages WHERE state = 'received'",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Schedules another postback of message `id` at `at`.
    pub fn retry_later(&self, id: i64, at: i64, detail: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE messages SET attempts = attempts + 1, next_attempt_at = ?2, detail = ?3
             WHERE id = ?1",
            params![id, at, detail],
        )?;
        Ok(())
    }

    /// Settles message `id` in a final state other than accepted.
    pub fn settle(&self, id: i64, state: &str, detail: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE messages SET state = ?2, detail = ?3, attempts = attempts + 1 WHERE id = ?1",
            params![id, state, detail],
        )?;
        Ok(())
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
    /// the outbox. Returns `false` when the key was stored meanwhile (a duplicate after all).
    pub fn accept(
        &mut self,
        id: i64,
        key: &str,
        lookup_id: &str,
        event_line: &str,
        detail: &str,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO deliveries (key, lookup_id, message_id) VALUES (?1, ?2, ?3)",
            params![key, lookup_id, id],
        )?;
        if inserted == 0 {
            tx.execute(
                "UPDATE messages SET state = 'duplicate', detail = 'duplicate', attempts = attempts + 1 WHERE id = ?1",
                params![id],
            )?;
            tx.commit()?;
            return Ok(false);
        }
        tx.execute(
            "UPDATE messages SET state = 'accepted', detail = ?2, attempts = attempts + 1 WHERE id = ?1",
            params![id, detail],
        )?;
        tx.execute(
            "INSERT INTO events (message_id, line) VALUES (?1, ?2)",
            params![id, event_line],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Events not yet handed to the sink, oldest first.
    pub fn unsent_events(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, line FROM events WHERE sent = 0 ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
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

    /// Counts of messages by state.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let mut c = Counts::default();
        let mut stmt = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM messages GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            match state.as_str() {
                "received" => c.received = n,
                "invalid" => c.invalid = n,
                "refused" => c.refused = n,
                "duplicate" => c.duplicate = n,
                "stale" => c.stale = n,
                "accepted" => c.accepted = n,
                _ => c.unreadable += n,
            }
        }
        Ok(c)
    }

    /// Every settled message's state and detail, by id (for reports and tests).
    pub fn outcomes(&self) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, state, detail FROM messages ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The raw body of message `id`.
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
}
