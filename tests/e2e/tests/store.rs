//! One suite, both engines: the store's promises (claims, leases, unique keys deciding races,
//! the outbox and its one leader, reprocessing, pruning, migrations, copying between engines)
//! checked on SQLite and on a real PostgreSQL server started for the run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use ipnkit_e2e::TestPostgres;
use ipnkit_server::store::{self, Db, SCHEMA_VERSION, Store, StoreError, copy};
use ipnkit_server::{Config, Listener, StartError};

const LEASE: Duration = Duration::from_secs(30);

/// Fresh, empty stores of one engine.
trait Engine {
    fn fresh(&self, name: &str) -> Db;
}

struct Sqlite(PathBuf);

impl Engine for Sqlite {
    fn fresh(&self, name: &str) -> Db {
        let path = self.0.join(format!("{name}.sqlite"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Db::Sqlite(path)
    }
}

impl Engine for TestPostgres {
    fn fresh(&self, name: &str) -> Db {
        Db::Postgres(self.database(name))
    }
}

fn open(db: &Db) -> Box<dyn Store> {
    store::open(db).unwrap_or_else(|e| panic!("open {db}: {e}"))
}

fn line(id: i64) -> String {
    format!("{{\"id\":{id}}}")
}

fn claims_hand_each_message_to_one_worker_until_its_lease_ends(engine: &dyn Engine) {
    let db = engine.fresh("claims");
    let mut s = open(&db);
    let first = s.insert(b"verify_sign=a&n=1", None).unwrap();
    let second = s.insert(b"verify_sign=a&n=2", None).unwrap();
    assert!(second > first);
    let now = 1_000;
    let got = s.claim(now, LEASE).unwrap().unwrap();
    assert_eq!((got.id, got.attempts, got.verified), (first, 0, false));
    assert_eq!(got.body, b"verify_sign=a&n=1");
    assert_eq!(s.claim(now, LEASE).unwrap().unwrap().id, second);
    assert_eq!(s.claim(now, LEASE).unwrap(), None, "both are leased");
    // A worker that died: its message is due again when the lease ends.
    let later = now + store::ms(LEASE);
    assert_eq!(s.claim(later, LEASE).unwrap().unwrap().id, first);
    s.retry_later(second, 5, "http_5xx").unwrap();
    assert_eq!(s.next_due_at().unwrap(), Some(5));
    let again = s.claim(later, LEASE).unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (second, 1));
    s.mark_verified(second).unwrap();
    assert_eq!(s.counts().unwrap().verified, 1);
    let verified = s.claim(later * 2, LEASE).unwrap();
    assert!(verified.is_some_and(|p| p.verified || p.id == first));
}

fn concurrent_workers_never_claim_one_message_twice(engine: &dyn Engine) {
    let db = engine.fresh("concurrent_claims");
    let mut s = open(&db);
    let n = 200;
    let ids: HashSet<i64> = (0..n)
        .map(|i| {
            s.insert(format!("verify_sign=a&n={i}").as_bytes(), None)
                .unwrap()
        })
        .collect();
    let start = Arc::new(Barrier::new(6));
    let claimed: Vec<Vec<i64>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let (db, start) = (db.clone(), Arc::clone(&start));
                scope.spawn(move || {
                    let mut s = open(&db);
                    start.wait();
                    let mut mine = Vec::new();
                    while let Some(p) = s.claim(10, LEASE).unwrap() {
                        mine.push(p.id);
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let all: Vec<i64> = claimed.iter().flatten().copied().collect();
    assert_eq!(all.len(), n, "{} claims for {n} messages", all.len());
    assert_eq!(all.iter().copied().collect::<HashSet<_>>(), ids);
}

fn a_unique_key_decides_which_copy_acts(engine: &dyn Engine) {
    let db = engine.fresh("accept_race");
    let mut s = open(&db);
    let copies: Vec<i64> = (0..8)
        .map(|_| s.insert(b"verify_sign=a&txn_id=T1", None).unwrap())
        .collect();
    let start = Arc::new(Barrier::new(copies.len()));
    let acted: Vec<bool> = thread::scope(|scope| {
        let racers: Vec<_> = copies
            .iter()
            .map(|&id| {
                let (db, start) = (db.clone(), Arc::clone(&start));
                scope.spawn(move || {
                    let mut s = open(&db);
                    start.wait();
                    s.accept(id, "payment:T1:Completed", "T1", "ok", &line)
                        .unwrap()
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(acted.iter().filter(|a| **a).count(), 1, "{acted:?}");
    let c = s.counts().unwrap();
    assert_eq!((c.accepted, c.duplicate), (1, 7), "{c:?}");
    let events = s.events().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].2,
        line(events[0].0),
        "the line carries its event id"
    );
    assert_eq!(s.keys("T1").unwrap(), vec!["payment:T1:Completed"]);
    assert!(s.keys("T2").unwrap().is_empty());
}

fn a_refusal_is_reported_once_per_key(engine: &dyn Engine) {
    let db = engine.fresh("refusals");
    let mut s = open(&db);
    let (a, b, c) = (
        s.insert(b"verify_sign=a&x=1", None).unwrap(),
        s.insert(b"verify_sign=a&x=1", None).unwrap(),
        s.insert(b"verify_sign=a&x=2", None).unwrap(),
    );
    assert!(s.refuse(a, "k1", "amount_mismatch", &line).unwrap());
    assert!(!s.refuse(b, "k1", "amount_mismatch", &line).unwrap());
    assert!(s.refuse(c, "k2", "order_not_found", &line).unwrap());
    let u = s.insert(b"verify_sign=u", None).unwrap();
    s.settle_with_event(u, "unreadable", "bad_amount", Some("mc_gross"), &line)
        .unwrap();
    let counts = s.counts().unwrap();
    assert_eq!(
        (counts.refused, counts.duplicate, counts.unreadable),
        (2, 1, 1)
    );
    assert_eq!(
        s.refusals().unwrap(),
        vec![
            ("amount_mismatch".to_owned(), 1),
            ("bad_amount".to_owned(), 1),
            ("order_not_found".to_owned(), 1)
        ]
    );
    let outcome = s.outcomes().unwrap().pop().unwrap();
    assert_eq!(outcome.field.as_deref(), Some("mc_gross"));
    assert_eq!(s.events().unwrap().len(), 3);

    // The outbox: oldest first, marked sent one by one.
    let unsent = s.unsent_events(2).unwrap();
    assert_eq!(unsent.len(), 2);
    assert!(unsent[0].0 < unsent[1].0);
    s.mark_sent(unsent[0].0).unwrap();
    assert_eq!(s.unsent_count().unwrap(), 2);
    assert_eq!(s.unsent_events(10).unwrap()[0].0, unsent[1].0);

    // Reprocessing: the unreadable one and the one without an order go back to work (verified,
    // not posted back again); the amount mismatch stays refused; the refusal may be reported
    // again.
    for id in [a, c] {
        s.mark_verified(id).unwrap();
    }
    s.refuse(a, "k1b", "amount_mismatch", &line).unwrap();
    s.settle(c, "refused", "order_not_found", None).unwrap();
    s.mark_verified(u).unwrap();
    s.settle(u, "unreadable", "bad_amount", Some("mc_gross"))
        .unwrap();
    assert_eq!(s.reprocess().unwrap(), 2);
    let c2 = s.counts().unwrap();
    assert_eq!(
        (c2.verified, c2.refused, c2.unreadable),
        (2, 1, 0),
        "{c2:?}"
    );
    assert!(s.refuse(c, "k2", "order_not_found", &line).unwrap());
}

fn pruning_erases_settled_bodies_and_old_junk(engine: &dyn Engine) {
    let db = engine.fresh("prune");
    let mut s = open(&db);
    let settled = s.insert(b"verify_sign=a&payer_email=x", None).unwrap();
    let waiting = s.insert(b"verify_sign=a&payer_email=y", None).unwrap();
    s.settle(settled, "invalid", "invalid", None).unwrap();
    s.insert_junk(&[
        (1, "no_verify_sign", b"old"),
        (i64::MAX / 2, "not_a_form", &[0xff; 4000]),
    ])
    .unwrap();
    assert_eq!(s.counts().unwrap().junk, 2);
    let future = store::now_ms() + 1_000;
    assert_eq!(s.prune(future, 2).unwrap(), (1, 1));
    assert_eq!(s.body(settled).unwrap().unwrap(), b"");
    assert_eq!(
        s.body(waiting).unwrap().unwrap(),
        b"verify_sign=a&payer_email=y"
    );
    assert_eq!(s.body(999_999).unwrap(), None);
    assert_eq!(s.counts().unwrap().junk, 1);
    assert_eq!(s.prune(future, 2).unwrap(), (0, 0), "nothing twice");
    assert!(s.oldest_unsettled_at().unwrap().is_some());
}

fn one_connection_at_a_time_leads_the_outbox(engine: &dyn Engine, shared: bool) {
    let db = engine.fresh("leader");
    let mut first = open(&db);
    let mut second = open(&db);
    assert!(first.lead_events().unwrap());
    assert!(first.lead_events().unwrap(), "it keeps the lead");
    if shared {
        assert!(!second.lead_events().unwrap());
        drop(first);
        // The lead is released with the connection (the server notices the closed socket).
        ipnkit_e2e::wait_for(Duration::from_secs(10), "the lead to pass", || {
            second.lead_events().unwrap().then_some(())
        });
    } else {
        // One process per SQLite file: every connection leads.
        assert!(second.lead_events().unwrap());
    }
}

fn opening_again_keeps_everything(engine: &dyn Engine) {
    let db = engine.fresh("reopen");
    let id = open(&db).insert(b"verify_sign=a", None).unwrap();
    // Several processes starting at once: each migrates or finds it done.
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| open(&db).counts().unwrap());
        }
    });
    assert_eq!(open(&db).body(id).unwrap().unwrap(), b"verify_sign=a");
}

fn copying_moves_every_row_and_keeps_ids(from: &dyn Engine, to: &dyn Engine) {
    let (a, b) = (from.fresh("copy_from"), to.fresh("copy_to"));
    let mut s = open(&a);
    let m1 = s.insert(b"verify_sign=a&txn_id=C1", None).unwrap();
    let m2 = s.insert(b"verify_sign=a&txn_id=C2", None).unwrap();
    let m3 = s.insert(b"verify_sign=a&txn_id=C3", None).unwrap();
    s.insert(br#"{"id":"WH-C4"}"#, Some(HEADERS)).unwrap();
    s.keep_certificate("https://api.paypal.com/c", b"pem")
        .unwrap();
    assert!(s.accept(m1, "k1", "C1", "ok", &line).unwrap());
    assert!(s.refuse(m2, "k2", "amount_mismatch", &line).unwrap());
    s.retry_later(m3, 42, "timeout").unwrap();
    let sent = s.unsent_events(1).unwrap()[0].0;
    s.mark_sent(sent).unwrap();
    let before = s.snapshot().unwrap();

    let copied = copy(&a, &b).unwrap();
    assert_eq!(copied, before);
    let mut t = open(&b);
    assert_eq!(t.snapshot().unwrap(), before, "every row, ids kept");
    assert_eq!(t.counts().unwrap(), s.counts().unwrap());
    assert_eq!(t.keys("C1").unwrap(), vec!["k1"]);
    assert_eq!(t.unsent_count().unwrap(), 1);
    // New rows come after the copied ones; a copied key still decides.
    assert!(t.insert(b"verify_sign=a&new=1", None).unwrap() > m3 + 1);
    assert!(!t.accept(m3, "k1", "C1", "ok", &line).unwrap());
    assert!(t.accept(m3, "k3", "C3", "ok", &line).unwrap());
    let newest = t.events().unwrap().pop().unwrap().0;
    assert!(newest > before.events.iter().map(|e| e.0).max().unwrap());
    // Never into a store that holds messages; never from a file that is not there.
    assert!(matches!(copy(&a, &b), Err(StoreError::NotEmpty(_))));
    let missing = Db::Sqlite(std::env::temp_dir().join("ipnkit-no-such-store.sqlite"));
    assert!(matches!(
        copy(&missing, &b),
        Err(StoreError::BadLocation(_))
    ));
    assert!(
        !std::env::temp_dir()
            .join("ipnkit-no-such-store.sqlite")
            .exists()
    );
}

/// PayPal's five headers as a listener stores them.
const HEADERS: &str = r#"{"PAYPAL-AUTH-ALGO":"SHA256withRSA","PAYPAL-CERT-URL":"https://api.paypal.com/v1/notifications/certs/CERT-1","PAYPAL-TRANSMISSION-ID":"t-1","PAYPAL-TRANSMISSION-SIG":"c2ln","PAYPAL-TRANSMISSION-TIME":"2026-12-07T10:00:00Z"}"#;

fn webhooks_keep_their_headers_and_certificates(engine: &dyn Engine) {
    let db = engine.fresh("webhooks");
    let mut s = open(&db);
    let before = store::now_ms();
    let hook = s.insert(br#"{"id":"WH-1"}"#, Some(HEADERS)).unwrap();
    let ipn = s.insert(b"verify_sign=a", None).unwrap();
    let claimed = s.claim(store::now_ms(), LEASE).unwrap().unwrap();
    assert_eq!(claimed.id, hook);
    assert_eq!(claimed.headers.as_deref(), Some(HEADERS));
    assert!(claimed.received_at >= before && claimed.received_at <= store::now_ms());
    let pairs = store::read_webhook_headers(claimed.headers.as_deref().unwrap()).unwrap();
    assert_eq!(pairs.len(), 5);
    let claimed = s.claim(store::now_ms(), LEASE).unwrap().unwrap();
    assert_eq!((claimed.id, claimed.headers), (ipn, None));
    // Each certificate URL's certificate, kept once: the first kept stays.
    let url = "https://api.paypal.com/v1/notifications/certs/CERT-1";
    assert_eq!(s.certificate(url).unwrap(), None);
    s.keep_certificate(url, b"PEM one").unwrap();
    s.keep_certificate(url, b"PEM two").unwrap();
    assert_eq!(open(&db).certificate(url).unwrap().unwrap(), b"PEM one");
    // Pruned with the body.
    s.settle(hook, "invalid", "signature_mismatch", None)
        .unwrap();
    s.prune(store::now_ms() + 1_000, 0).unwrap();
    let rows = s.snapshot().unwrap().messages;
    let row = rows.iter().find(|m| m.id == hook).unwrap();
    assert_eq!(
        (row.body.as_slice(), row.headers.as_deref()),
        (&b""[..], None)
    );
}

/// A store of the previous version (2: before webhooks), made by taking version 3's additions
/// away, is migrated in place: its messages kept, the new column and table added.
fn a_version_2_store_is_migrated_in_place(engine: &dyn Engine, downgrade: &dyn Fn(&Db)) {
    let db = engine.fresh("v2");
    let id = open(&db).insert(b"verify_sign=old", None).unwrap();
    downgrade(&db);
    let mut s = open(&db);
    assert_eq!(s.body(id).unwrap().unwrap(), b"verify_sign=old");
    let hook = s.insert(b"{}", Some(HEADERS)).unwrap();
    assert!(hook > id);
    s.keep_certificate("u", b"pem").unwrap();
    assert_eq!(s.certificate("u").unwrap().unwrap(), b"pem");
    assert_eq!(SCHEMA_VERSION, 3);
}

fn suite(engine: &dyn Engine, shared: bool) {
    webhooks_keep_their_headers_and_certificates(engine);
    claims_hand_each_message_to_one_worker_until_its_lease_ends(engine);
    concurrent_workers_never_claim_one_message_twice(engine);
    a_unique_key_decides_which_copy_acts(engine);
    a_refusal_is_reported_once_per_key(engine);
    pruning_erases_settled_bodies_and_old_junk(engine);
    one_connection_at_a_time_leads_the_outbox(engine, shared);
    opening_again_keeps_everything(engine);
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipnkit-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sqlite_keeps_the_stores_promises() {
    let dir = temp_dir("sqlite");
    suite(&Sqlite(dir.clone()), false);
    a_version_2_store_is_migrated_in_place(&Sqlite(dir.clone()), &|db| {
        let Db::Sqlite(path) = db else { panic!("{db}") };
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(
            "ALTER TABLE messages DROP COLUMN headers; DROP TABLE certificates;
             PRAGMA user_version = 2;",
        )
        .unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_keeps_the_stores_promises_and_copies_to_and_from_sqlite() {
    let pg = TestPostgres::start();
    suite(&pg, true);
    a_version_2_store_is_migrated_in_place(&pg, &|db| {
        let Db::Postgres(url) = db else {
            panic!("{db}")
        };
        let name = url.rsplit('/').next().unwrap();
        pg.sql(
            name,
            "ALTER TABLE ipnkit.messages DROP COLUMN headers; DROP TABLE ipnkit.certificates;
             UPDATE ipnkit.schema_version SET version = 2;",
        );
    });
    let dir = temp_dir("copy");
    copying_moves_every_row_and_keeps_ids(&Sqlite(dir.clone()), &pg);
    // And back (a PostgreSQL store to a SQLite file).
    let back = Sqlite(dir.join("back"));
    std::fs::create_dir_all(&back.0).unwrap();
    copying_moves_every_row_and_keeps_ids(&pg, &back);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_refuses_what_it_cannot_use_and_survives_a_lost_connection() {
    let pg = TestPostgres::start();
    let db = pg.fresh("edges");
    let url = match &db {
        Db::Postgres(url) => url.clone(),
        Db::Sqlite(_) => unreachable!(),
    };
    let mut s = open(&db);
    s.insert(b"verify_sign=a", None).unwrap();

    // A connection the server ended (a restart, a failover): the call that finds it fails, the
    // next one connects again.
    pg.sql(
        "edges",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'ipnkit' AND pid <> pg_backend_pid()",
    );
    // Storing a body finds it out and connects again at once (no 500 for PayPal).
    let stored = s.insert(b"verify_sign=b", None).unwrap();
    pg.sql(
        "edges",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'ipnkit' AND pid <> pg_backend_pid()",
    );
    let _ = s.counts();
    assert_eq!(
        ipnkit_e2e::wait_for(Duration::from_secs(5), "a new connection", || s
            .counts()
            .ok()),
        s.counts().unwrap()
    );
    assert_eq!(s.counts().unwrap().received, 2);
    assert_eq!(s.body(stored).unwrap().unwrap(), b"verify_sign=b");

    // A role that can only read is refused at start, saying so.
    pg.sql(
        "edges",
        "CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA ipnkit TO reader;
         GRANT SELECT ON ALL TABLES IN SCHEMA ipnkit TO reader",
    );
    let reader = Db::Postgres(url.replace("ipnkit@", "reader:hunter2@"));
    match store::open(&reader) {
        Err(StoreError::ReadOnly(shown)) => {
            assert!(shown.contains("reader:***@"), "{shown}");
        }
        Err(e) => panic!("not ReadOnly: {e}"),
        Ok(_) => panic!("a read-only role was accepted"),
    }

    // A listener that cannot open every connection it needs (a role limited to 3) fails to
    // start, saying why, and leaves nothing running or connected.
    pg.sql(
        "edges",
        "CREATE ROLE limited LOGIN CONNECTION LIMIT 3;
         GRANT ALL ON SCHEMA ipnkit TO limited;
         GRANT ALL ON ALL TABLES IN SCHEMA ipnkit TO limited",
    );
    let limited = Db::Postgres(url.replace("ipnkit@", "limited@"));
    let config =
        Config::for_stand_in("http://127.0.0.1:1", limited, &["shop@example.net"]).unwrap();
    match Listener::start(config) {
        Err(StartError::Store(e)) => assert!(e.to_string().contains("PostgreSQL"), "{e}"),
        Err(e) => panic!("not a store error: {e}"),
        Ok(_) => panic!("started with 3 connections"),
    }
    ipnkit_e2e::wait_for(Duration::from_secs(10), "its connections to close", || {
        (pg.sql(
            "edges",
            "SELECT COUNT(*) FROM pg_stat_activity WHERE usename = 'limited'",
        ) == "0")
            .then_some(())
    });

    // A newer schema is refused, never written over.
    pg.sql("edges", "UPDATE ipnkit.schema_version SET version = 99");
    match store::open(&db) {
        Err(StoreError::TooNew { found, supported }) => {
            assert_eq!((found, supported), (99, SCHEMA_VERSION));
        }
        Err(e) => panic!("not TooNew: {e}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }

    // TLS asked for: refused at start, saying why.
    let tls = Db::parse(&format!("{url}?sslmode=require")).unwrap();
    let error = store::open(&tls).err().unwrap().to_string();
    assert!(error.contains("TLS"), "{error}");

    // Nothing listening: a clear error, soon.
    let nowhere = Db::parse("postgres://ipnkit:pw@127.0.0.1:1/none?connect_timeout=2").unwrap();
    let error = store::open(&nowhere).err().unwrap().to_string();
    assert!(error.contains("PostgreSQL"), "{error}");
    assert!(!error.contains("pw"), "{error}");
}
