//! The PostgreSQL engine, for several listener processes on one database.
//!
//! - Tables live in their own schema, `ipnkit` (never beside the shop's own tables); its version
//!   is the one row of `ipnkit.schema_version`. Processes starting together migrate one at a
//!   time (a transaction-scoped advisory lock).
//! - A claim is one `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)`: workers in every
//!   process take different messages without waiting for each other, and the lease they write
//!   makes the message due again when a process dies holding it.
//! - Deduplication and refusal reports are unique keys inserted `ON CONFLICT DO NOTHING`: when
//!   two processes settle copies of one notification at once, the database decides which one
//!   acts.
//! - One process at a time hands the outbox to its sink: the one whose events connection holds a
//!   session advisory lock, released by PostgreSQL when that connection or its process ends.
//! - Commits are synchronous (the server's default) except claims and junk, which are written
//!   with `synchronous_commit = off`: losing them in a crash loses no message.
//! - A connection that was lost (a server restart, a network cut) is opened again on the next
//!   call; the call that found it lost fails, and its caller backs off and tries again.
//!
//! TLS is not built in: connect over a Unix socket, loopback, or a private network or tunnel.

use std::collections::HashMap;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls, Statement};

mod sql;
use sql::*;

use super::model::{
    Counts, JUNK_ROWS_KEPT, MessageRow, Outcome, Pending, SCHEMA_VERSION, Snapshot, Store,
    StoreError, junk_head, ms,
};

/// The advisory lock held while migrating (`ipnkit` in ASCII, then 1).
const MIGRATION_LOCK: i64 = 0x6970_6e6b_6974_0001;
/// The advisory lock held by the process that hands the outbox to its sink.
const EVENTS_LOCK: i64 = 0x6970_6e6b_6974_0002;

/// One connection to a PostgreSQL store.
pub struct Postgres {
    config: postgres::Config,
    /// The URL without its password.
    shown: String,
    client: Client,
    statements: HashMap<&'static str, Statement>,
    /// Whether this connection holds [`EVENTS_LOCK`].
    leading: bool,
}

impl Postgres {
    /// Connects to the database at `url` (10 s to connect unless the URL says otherwise),
    /// checks that it can be written, and migrates the `ipnkit` schema to [`SCHEMA_VERSION`].
    pub fn open(url: &str) -> Result<Postgres, StoreError> {
        let mut store = Postgres::connect(url)?;
        store.migrate().map_err(|e| match &e {
            StoreError::Postgres(pg)
                if matches!(
                    pg.code(),
                    Some(&SqlState::INSUFFICIENT_PRIVILEGE | &SqlState::READ_ONLY_SQL_TRANSACTION)
                ) =>
            {
                StoreError::ReadOnly(store.shown.clone())
            }
            _ => e,
        })?;
        Ok(store)
    }

    /// One more connection to a database [`open`](Postgres::open) has checked and migrated.
    pub fn connect(url: &str) -> Result<Postgres, StoreError> {
        let shown = super::model::redact(url);
        let mut config: postgres::Config = url.parse().map_err(|e| {
            StoreError::BadLocation(format!("a PostgreSQL URL that cannot be read ({e})"))
        })?;
        if config.get_ssl_mode() == SslMode::Require {
            return Err(StoreError::BadLocation(
                "sslmode=require, but TLS to PostgreSQL is not built in: connect over a Unix \
                 socket, loopback, a private network or a tunnel"
                    .into(),
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("ipnkit");
        }
        let client = config.connect(NoTls)?;
        Ok(Postgres {
            config,
            shown,
            client,
            statements: HashMap::new(),
            leading: false,
        })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        // Listeners started together: one migrates, the others wait, then find it done.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let exists: bool = tx
            .query_one(
                "SELECT to_regclass('ipnkit.schema_version') IS NOT NULL",
                &[],
            )?
            .get(0);
        let version: i64 = if exists {
            tx.query_opt("SELECT MAX(version) FROM ipnkit.schema_version", &[])?
                .and_then(|r| r.get::<_, Option<i64>>(0))
                .unwrap_or(0)
        } else {
            0
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < 2 {
            tx.batch_execute(SCHEMA_V2)?;
        }
        if version < 3 {
            tx.batch_execute(SCHEMA_V3)?;
        }
        if !exists {
            tx.batch_execute("CREATE TABLE ipnkit.schema_version (version BIGINT NOT NULL)")?;
        }
        // Written at every start, so that a role that can only read fails here, not on the
        // first message.
        tx.execute("DELETE FROM ipnkit.schema_version", &[])?;
        tx.execute(
            "INSERT INTO ipnkit.schema_version (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The connection, opened again if it was lost (its prepared statements and its lead on
    /// the outbox went with it).
    fn conn(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.is_closed() {
            self.reconnect()?;
        }
        Ok(&mut self.client)
    }

    fn reconnect(&mut self) -> Result<(), StoreError> {
        tracing::warn!(store = %self.shown, "connection lost: connecting again");
        self.statements.clear();
        self.leading = false;
        self.client = self.config.connect(NoTls)?;
        Ok(())
    }

    /// `sql`, prepared once per connection.
    fn prepared(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        self.conn()?;
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let statement = self.prepared(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    /// Settles `id` and, when `event` is given, writes its event: one transaction, with
    /// `first` (a unique key's insert: its row count says whether this copy acts) run first.
    fn settle_in_one(
        &mut self,
        id: i64,
        first: Option<(&'static str, &[&(dyn postgres::types::ToSql + Sync)])>,
        outcome: (&str, &str, Option<&str>),
        otherwise: (&str, &str),
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<bool, StoreError> {
        let set_outcome = self.prepared(SET_OUTCOME)?;
        let next_event_id = self.prepared(NEXT_EVENT_ID)?;
        let insert_event = self.prepared(INSERT_EVENT)?;
        let first = match first {
            Some((sql, params)) => Some((self.prepared(sql)?, params)),
            None => None,
        };
        let mut tx = self.client.transaction()?;
        let acts = match first {
            Some((statement, params)) => tx.execute(&statement, params)? != 0,
            None => true,
        };
        let (state, detail, field) = if acts {
            outcome
        } else {
            (otherwise.0, otherwise.1, None)
        };
        tx.execute(&set_outcome, &[&id, &state, &detail, &field])?;
        if acts {
            let event_id: i64 = tx.query_one(&next_event_id, &[])?.get(0);
            tx.execute(&insert_event, &[&event_id, &id, &event_line(event_id)])?;
        }
        tx.commit()?;
        Ok(acts)
    }
}

/// Whether `error` says the connection is gone: closed, or ended by the server (a shutdown, a
/// restart, an administrator's `pg_terminate_backend`: SQLSTATE class 57P).
fn lost(error: &postgres::Error) -> bool {
    error.is_closed() || error.code().is_some_and(|c| c.code().starts_with("57P"))
}

impl Store for Postgres {
    fn insert(&mut self, body: &[u8], headers: Option<&str>) -> Result<i64, StoreError> {
        // A pooled connection the server ended since its last use (a restart, a failover) is
        // found out here: connect again and store the body, rather than answer 500. (Were the
        // first insert committed before the connection broke, the second copy is a duplicate,
        // as PayPal's own resend after a 500 would be.)
        let statement = self.prepared(INSERT)?;
        match self
            .client
            .query_one(&statement, &[&super::model::now_ms(), &body, &headers])
        {
            Ok(row) => Ok(row.get(0)),
            Err(e) if lost(&e) => {
                self.reconnect()?;
                let statement = self.prepared(INSERT)?;
                Ok(self
                    .client
                    .query_one(&statement, &[&super::model::now_ms(), &body, &headers])?
                    .get(0))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn insert_junk(&mut self, batch: &[(i64, &str, &[u8])]) -> Result<(), StoreError> {
        let statement = self.prepared(INSERT_JUNK)?;
        let mut tx = self.client.transaction()?;
        tx.batch_execute("SET LOCAL synchronous_commit TO OFF")?;
        for (at, reason, body) in batch {
            let (head, length) = junk_head(body);
            tx.execute(&statement, &[at, reason, &length, &head])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn claim(&mut self, now: i64, lease: Duration) -> Result<Option<Pending>, StoreError> {
        let statement = self.prepared(CLAIM)?;
        let mut tx = self.client.transaction()?;
        // A claim lost in a crash leaves the message due at once: nothing to sync for.
        tx.batch_execute("SET LOCAL synchronous_commit TO OFF")?;
        let row = tx.query_opt(&statement, &[&now, &now.saturating_add(ms(lease))])?;
        tx.commit()?;
        Ok(row.map(|r| Pending {
            id: r.get(0),
            body: r.get(1),
            attempts: r.get(2),
            verified: r.get(3),
            headers: r.get(4),
            received_at: r.get(5),
        }))
    }

    fn certificate(&mut self, url: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.query(CERTIFICATE, &[&url])?.first().map(|r| r.get(0)))
    }

    fn keep_certificate(&mut self, url: &str, pem: &[u8]) -> Result<(), StoreError> {
        self.execute(KEEP_CERTIFICATE, &[&url, &pem, &super::model::now_ms()])?;
        Ok(())
    }

    fn next_due_at(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .query(NEXT_DUE, &[])?
            .first()
            .and_then(|r| r.get::<_, Option<i64>>(0)))
    }

    fn retry_later(&mut self, id: i64, at: i64, detail: &str) -> Result<(), StoreError> {
        self.execute(RETRY_LATER, &[&id, &at, &detail])?;
        Ok(())
    }

    fn mark_verified(&mut self, id: i64) -> Result<(), StoreError> {
        self.execute(MARK_VERIFIED, &[&id])?;
        Ok(())
    }

    fn settle(
        &mut self,
        id: i64,
        state: &str,
        detail: &str,
        field: Option<&str>,
    ) -> Result<(), StoreError> {
        self.execute(SET_OUTCOME, &[&id, &state, &detail, &field])?;
        Ok(())
    }

    fn settle_with_event(
        &mut self,
        id: i64,
        state: &str,
        detail: &str,
        field: Option<&str>,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<(), StoreError> {
        self.settle_in_one(
            id,
            None,
            (state, detail, field),
            (state, detail),
            event_line,
        )?;
        Ok(())
    }

    fn refuse(
        &mut self,
        id: i64,
        key: &str,
        detail: &str,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<bool, StoreError> {
        self.settle_in_one(
            id,
            Some((REPORT, &[&key, &id])),
            ("refused", detail, None),
            ("duplicate", "duplicate"),
            event_line,
        )
    }

    fn keys(&mut self, lookup_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .query(KEYS, &[&lookup_id])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn accept(
        &mut self,
        id: i64,
        key: &str,
        lookup_id: &str,
        detail: &str,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<bool, StoreError> {
        self.settle_in_one(
            id,
            Some((DELIVERED, &[&key, &lookup_id, &id])),
            ("accepted", detail, None),
            ("duplicate", "duplicate"),
            event_line,
        )
    }

    fn lead_events(&mut self) -> Result<bool, StoreError> {
        self.conn()?;
        if !self.leading {
            self.leading = self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&EVENTS_LOCK])?
                .get(0);
        }
        Ok(self.leading)
    }

    fn unsent_events(&mut self, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .query(UNSENT, &[&limit])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn mark_sent(&mut self, event_id: i64) -> Result<(), StoreError> {
        self.execute(MARK_SENT, &[&event_id])?;
        Ok(())
    }

    fn counts(&mut self) -> Result<Counts, StoreError> {
        let mut c = Counts::default();
        for row in self.query(
            "SELECT state, COUNT(*) FROM ipnkit.messages GROUP BY state",
            &[],
        )? {
            c.add(row.get(0), row.get(1));
        }
        c.junk = self
            .query("SELECT COUNT(*) FROM ipnkit.junk", &[])?
            .first()
            .map_or(0, |r| r.get(0));
        Ok(c)
    }

    fn refusals(&mut self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(self
            .query(
                "SELECT COALESCE(detail, ''), COUNT(*) FROM ipnkit.messages
                 WHERE state IN ('refused', 'unreadable') GROUP BY 1 ORDER BY 1",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn oldest_unsettled_at(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .query(
                "SELECT MIN(received_at) FROM ipnkit.messages
                 WHERE state IN ('received', 'verified')",
                &[],
            )?
            .first()
            .and_then(|r| r.get(0)))
    }

    fn unsent_count(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .query("SELECT COUNT(*) FROM ipnkit.events WHERE NOT sent", &[])?
            .first()
            .map_or(0, |r| r.get(0)))
    }

    fn outcomes(&mut self) -> Result<Vec<Outcome>, StoreError> {
        Ok(self
            .query(
                "SELECT id, state, detail, field FROM ipnkit.messages ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| Outcome {
                id: r.get(0),
                state: r.get(1),
                detail: r.get(2),
                field: r.get(3),
            })
            .collect())
    }

    fn body(&mut self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .query("SELECT body FROM ipnkit.messages WHERE id = $1", &[&id])?
            .first()
            .map(|r| r.get(0)))
    }

    fn events(&mut self) -> Result<Vec<(i64, i64, String)>, StoreError> {
        Ok(self
            .query(
                "SELECT id, message_id, line FROM ipnkit.events ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn prune(&mut self, before: i64, junk_before: i64) -> Result<(usize, usize), StoreError> {
        let erased = self.execute(
            "UPDATE ipnkit.messages SET body = ''::bytea, headers = NULL, pruned = TRUE
             WHERE NOT pruned AND received_at < $1
               AND state IN ('invalid', 'refused', 'duplicate', 'stale', 'accepted')",
            &[&before],
        )?;
        let mut deleted = self.execute(
            "DELETE FROM ipnkit.junk WHERE received_at < $1",
            &[&junk_before],
        )?;
        deleted += self.execute(
            "DELETE FROM ipnkit.junk WHERE id <= (SELECT id FROM ipnkit.junk
                 ORDER BY id DESC LIMIT 1 OFFSET $1)",
            &[&JUNK_ROWS_KEPT],
        )?;
        Ok((
            usize::try_from(erased).unwrap_or(usize::MAX),
            usize::try_from(deleted).unwrap_or(usize::MAX),
        ))
    }

    fn reprocess(&mut self) -> Result<usize, StoreError> {
        self.conn()?;
        let mut tx = self.client.transaction()?;
        tx.execute(
            "DELETE FROM ipnkit.reported WHERE message_id IN (SELECT id FROM ipnkit.messages
                 WHERE state = 'refused' AND verified AND NOT pruned
                   AND (',' || detail || ',') LIKE '%,order_not_found,%')",
            &[],
        )?;
        let n = tx.execute(
            "UPDATE ipnkit.messages SET state = 'verified', next_attempt_at = 0, attempts = 0
             WHERE verified AND NOT pruned AND (state = 'unreadable'
                OR (state = 'refused' AND (',' || detail || ',') LIKE '%,order_not_found,%'))",
            &[],
        )?;
        tx.commit()?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        self.conn()?;
        // One consistent view of every table.
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let messages = tx
            .query(
                "SELECT id, received_at, body, state, attempts, next_attempt_at, detail,
                        verified, field, pruned, headers
                 FROM ipnkit.messages ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| MessageRow {
                id: r.get(0),
                received_at: r.get(1),
                body: r.get(2),
                state: r.get(3),
                attempts: r.get(4),
                next_attempt_at: r.get(5),
                detail: r.get(6),
                verified: r.get(7),
                field: r.get(8),
                pruned: r.get(9),
                headers: r.get(10),
            })
            .collect();
        let deliveries = tx
            .query(
                "SELECT key, lookup_id, message_id FROM ipnkit.deliveries ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let reported = tx
            .query(
                "SELECT key, message_id FROM ipnkit.reported ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let events = tx
            .query(
                "SELECT id, message_id, line, sent FROM ipnkit.events ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        tx.commit()?;
        Ok(Snapshot {
            messages,
            deliveries,
            reported,
            events,
        })
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.conn()?;
        let mut tx = self.client.transaction()?;
        // No listener may write while the copy goes in.
        tx.batch_execute(
            "LOCK TABLE ipnkit.messages, ipnkit.deliveries, ipnkit.reported, ipnkit.events
             IN EXCLUSIVE MODE",
        )?;
        let held: i64 = tx
            .query_one(
                "SELECT (SELECT COUNT(*) FROM ipnkit.messages)
                      + (SELECT COUNT(*) FROM ipnkit.events)",
                &[],
            )?
            .get(0);
        if held > 0 {
            return Err(StoreError::NotEmpty(self.shown.clone()));
        }
        let insert = tx.prepare(
            "INSERT INTO ipnkit.messages (id, received_at, body, state, attempts,
                 next_attempt_at, detail, verified, field, pruned, headers)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )?;
        for m in &snapshot.messages {
            tx.execute(
                &insert,
                &[
                    &m.id,
                    &m.received_at,
                    &m.body,
                    &m.state,
                    &m.attempts,
                    &m.next_attempt_at,
                    &m.detail,
                    &m.verified,
                    &m.field,
                    &m.pruned,
                    &m.headers,
                ],
            )?;
        }
        let insert = tx.prepare(
            "INSERT INTO ipnkit.deliveries (key, lookup_id, message_id) VALUES ($1, $2, $3)",
        )?;
        for (key, lookup_id, message_id) in &snapshot.deliveries {
            tx.execute(&insert, &[key, lookup_id, message_id])?;
        }
        let insert = tx.prepare("INSERT INTO ipnkit.reported (key, message_id) VALUES ($1, $2)")?;
        for (key, message_id) in &snapshot.reported {
            tx.execute(&insert, &[key, message_id])?;
        }
        let insert = tx.prepare(
            "INSERT INTO ipnkit.events (id, message_id, line, sent) VALUES ($1, $2, $3, $4)",
        )?;
        for (id, message_id, line, sent) in &snapshot.events {
            tx.execute(&insert, &[id, message_id, line, sent])?;
        }
        // New rows take ids after the copied ones.
        tx.batch_execute(
            "SELECT setval(pg_get_serial_sequence('ipnkit.messages', 'id'),
                           COALESCE((SELECT MAX(id) FROM ipnkit.messages), 0) + 1, false);
             SELECT setval(pg_get_serial_sequence('ipnkit.events', 'id'),
                           COALESCE((SELECT MAX(id) FROM ipnkit.events), 0) + 1, false);",
        )?;
        tx.commit()?;
        Ok(())
    }
}
