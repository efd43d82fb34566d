//! The SQLite engine: one file (WAL, every commit synced), for one listener process. The
//! schema version is SQLite's `PRAGMA user_version`.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::model::{
    Counts, JUNK_ROWS_KEPT, MessageRow, Outcome, Pending, SCHEMA_VERSION, Snapshot, Store,
    StoreError, junk_head, ms, now_ms,
};

/// One connection to a SQLite store.
pub struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    /// Opens (creating if needed) the store at `path`, checks that it can be written, and
    /// migrates its schema to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let mut store = Sqlite::connect(path)?;
        store.migrate().map_err(|e| read_only(e, path))?;
        Ok(store)
    }

    /// One more connection to a store [`open`](Sqlite::open) has checked and migrated.
    pub fn connect(path: &Path) -> Result<Sqlite, StoreError> {
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
        Ok(Sqlite { conn })
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
        if version < 3 {
            // Version 3: webhooks (PayPal's five headers kept beside the body; a message
            // without them is an IPN), and the certificates their signatures are checked with.
            tx.execute_batch(
                "ALTER TABLE messages ADD COLUMN headers TEXT;
                 CREATE TABLE certificates (
                     url TEXT PRIMARY KEY,
                     pem BLOB NOT NULL,
                     fetched_at INTEGER NOT NULL
                 );",
            )?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(())
    }

    fn claim_unsynced(&mut self, now: i64, lease: Duration) -> Result<Option<Pending>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let pending = tx
            .prepare_cached(
                "SELECT id, body, attempts, verified, headers, received_at FROM messages
                 WHERE state IN ('received', 'verified') AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, id LIMIT 1",
            )?
            .query_row(params![now], |r| {
                Ok(Pending {
                    id: r.get(0)?,
                    body: r.get(1)?,
                    attempts: r.get(2)?,
                    verified: r.get::<_, i64>(3)? != 0,
                    headers: r.get(4)?,
                    received_at: r.get(5)?,
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
}

impl Store for Sqlite {
    fn insert(&mut self, body: &[u8], headers: Option<&str>) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO messages (received_at, body, headers) VALUES (?1, ?2, ?3)",
            params![now_ms(), body, headers],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn certificate(&mut self, url: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT pem FROM certificates WHERE url = ?1",
                params![url],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn keep_certificate(&mut self, url: &str, pem: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO certificates (url, pem, fetched_at) VALUES (?1, ?2, ?3)",
            params![url, pem, now_ms()],
        )?;
        Ok(())
    }

    fn insert_junk(&mut self, batch: &[(i64, &str, &[u8])]) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = (|| {
            let tx = self.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO junk (received_at, reason, length, head) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (at, reason, body) in batch {
                    let (head, length) = junk_head(body);
                    stmt.execute(params![at, reason, length, head])?;
                }
            }
            tx.commit()
        })();
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(result?)
    }

    fn claim(&mut self, now: i64, lease: Duration) -> Result<Option<Pending>, StoreError> {
        // A claim need not survive a power cut (the message is then simply due at once): its
        // commit is not synced, so that claims do not compete with received bodies for fsyncs.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let claimed = self.claim_unsynced(now, lease);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        claimed
    }

    fn next_due_at(&mut self) -> Result<Option<i64>, StoreError> {
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

    fn retry_later(&mut self, id: i64, at: i64, detail: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE messages SET attempts = attempts + 1, next_attempt_at = ?2, detail = ?3
             WHERE id = ?1",
            params![id, at, detail],
        )?;
        Ok(())
    }

    fn mark_verified(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE messages SET state = 'verified', verified = 1, attempts = 0, detail = NULL
             WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }

    fn settle(
        &mut self,
        id: i64,
        state: &str,
        detail: &str,
        field: Option<&str>,
    ) -> Result<(), StoreError> {
        set_outcome(&self.conn, id, state, detail, field)
    }

    fn settle_with_event(
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

    fn refuse(
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

    fn keys(&mut self, lookup_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key FROM deliveries WHERE lookup_id = ?1 ORDER BY rowid")?;
        let rows = stmt.query_map(params![lookup_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }

    fn accept(
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

    fn lead_events(&mut self) -> Result<bool, StoreError> {
        // One process per SQLite file: its events thread always leads.
        Ok(true)
    }

    fn unsent_events(&mut self, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, line FROM events WHERE sent = 0 ORDER BY id LIMIT ?1")?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn mark_sent(&mut self, event_id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE events SET sent = 1 WHERE id = ?1",
            params![event_id],
        )?;
        Ok(())
    }

    fn counts(&mut self) -> Result<Counts, StoreError> {
        let mut c = Counts::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM messages GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            c.add(&state, n);
        }
        c.junk = self
            .conn
            .query_row("SELECT COUNT(*) FROM junk", [], |r| r.get(0))?;
        Ok(c)
    }

    fn refusals(&mut self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT COALESCE(detail, ''), COUNT(*) FROM messages
             WHERE state IN ('refused', 'unreadable') GROUP BY 1 ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn oldest_unsettled_at(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT MIN(received_at) FROM messages WHERE state IN ('received', 'verified')",
            [],
            |r| r.get(0),
        )?)
    }

    fn unsent_count(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM events WHERE sent = 0", [], |r| {
                r.get(0)
            })?)
    }

    fn outcomes(&mut self) -> Result<Vec<Outcome>, StoreError> {
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

    fn body(&mut self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT body FROM messages WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn events(&mut self) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, message_id, line FROM events ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn prune(&mut self, before: i64, junk_before: i64) -> Result<(usize, usize), StoreError> {
        let erased = self.conn.execute(
            "UPDATE messages SET body = x'', headers = NULL, pruned = 1
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

    fn reprocess(&mut self) -> Result<usize, StoreError> {
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

    fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        let tx = self.conn.transaction()?;
        let messages = tx
            .prepare(
                "SELECT id, received_at, body, state, attempts, next_attempt_at, detail,
                        verified, field, pruned, headers
                 FROM messages ORDER BY id",
            )?
            .query_map([], |r| {
                Ok(MessageRow {
                    id: r.get(0)?,
                    received_at: r.get(1)?,
                    body: r.get(2)?,
                    state: r.get(3)?,
                    attempts: r.get(4)?,
                    next_attempt_at: r.get(5)?,
                    detail: r.get(6)?,
                    verified: r.get::<_, i64>(7)? != 0,
                    field: r.get(8)?,
                    pruned: r.get::<_, i64>(9)? != 0,
                    headers: r.get(10)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let deliveries = tx
            .prepare("SELECT key, lookup_id, message_id FROM deliveries ORDER BY rowid")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let reported = tx
            .prepare("SELECT key, message_id FROM reported ORDER BY rowid")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let events = tx
            .prepare("SELECT id, message_id, line, sent FROM events ORDER BY id")?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? != 0))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(Snapshot {
            messages,
            deliveries,
            reported,
            events,
        })
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let held: i64 = tx.query_row(
            "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM events)",
            [],
            |r| r.get(0),
        )?;
        if held > 0 {
            return Err(StoreError::NotEmpty(
                tx.path().unwrap_or("the SQLite store").to_owned(),
            ));
        }
        for m in &snapshot.messages {
            tx.execute(
                "INSERT INTO messages (id, received_at, body, state, attempts, next_attempt_at,
                                       detail, verified, field, pruned, headers)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    m.id,
                    m.received_at,
                    m.body,
                    m.state,
                    m.attempts,
                    m.next_attempt_at,
                    m.detail,
                    m.verified,
                    m.field,
                    m.pruned,
                    m.headers
                ],
            )?;
        }
        for (key, lookup_id, message_id) in &snapshot.deliveries {
            tx.execute(
                "INSERT INTO deliveries (key, lookup_id, message_id) VALUES (?1, ?2, ?3)",
                params![key, lookup_id, message_id],
            )?;
        }
        for (key, message_id) in &snapshot.reported {
            tx.execute(
                "INSERT INTO reported (key, message_id) VALUES (?1, ?2)",
                params![key, message_id],
            )?;
        }
        for (id, message_id, line, sent) in &snapshot.events {
            tx.execute(
                "INSERT INTO events (id, message_id, line, sent) VALUES (?1, ?2, ?3, ?4)",
                params![id, message_id, line, sent],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
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
