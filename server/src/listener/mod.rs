//! A reference IPN and webhook listener: the flow of `ipnkit::host`, run as a service, one module
//! per step: intake (HTTP), the store ([`crate::store`]), postback, certificate (webhooks),
//! settle, outbox and sinks, metrics.
//!
//! - The HTTP layer (`intake`, hyper on tokio) reads each request within limits and
//!   timeouts, keeps whatever does not look like PayPal's (no `verify_sign`) apart as junk, and
//!   stores each real body durably in the [`store`] (SQLite, or PostgreSQL shared
//!   by several listener processes) before it answers `200`.
//! - Postback workers (threads, [`Config::workers`]) each claim one due message at a time with a
//!   lease, post it back, and settle it: a slow or hung postback holds one worker until its
//!   deadline, never the others. An unanswered postback (5xx, timeout, an HTML page, a
//!   redirect, a dropped connection) is retried later with backoff, forever: a message is never
//!   dropped. A message PayPal verified is never posted back again.
//! - A verified message is typed, its order looked up ([`crate::Orders`]) when the rules compare an
//!   amount, and [`ipnkit::Notification::decide`] gives the action; the outcome and its event go to the
//!   store in one transaction. Every verified notification for this merchant becomes an event:
//!   accepted (payments, refunds, reversals, disputes…; `ship` only for a payment whose order
//!   was found and matched), refused (with the violations, once per delivery), or unreadable
//!   (with the error's code and field, kept for `--reprocess`).
//! - One thread hands the outbox to the sink (at least once, each event under its stable id;
//!   once for the events file, whose last line is read after a restart) and prunes old bodies.
//!   Store errors back off and are logged, in every loop.
//! - Restarting loses nothing: stored messages not yet settled, and events not yet sent, are
//!   picked up again.
//! - Webhooks ([`Config::webhooks`]) arrive on their own path: the raw body and PayPal's five
//!   headers are stored together before the `200`; a worker verifies each offline (the
//!   certificate URL judged by the core, the certificate read from the store or fetched once
//!   with the postback's discipline and kept there), at the time it was received, then settles
//!   it as an IPN, with the same delivery keys: an IPN and a webhook about one fact are one
//!   delivery, acted on once. Each event says its `channel`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::store::{self, Counts, Db, Store, StoreError};
use outbox::deliver_events;
use settle::work;
use state::Pool;

mod certificate;
mod config;
mod intake;
mod metrics;
mod outbox;
mod postback;
mod settle;
mod state;

pub use config::{Backoff, Config, HttpLimits, Retention, Sink, Webhooks};
use metrics::Metrics;
use state::{Shared, Wake};

/// A running listener. [`Listener::stop`] shuts it down gracefully; dropping it does too.
pub struct Listener {
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<tokio::task::JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
    url: String,
    webhook_url: Option<String>,
    db: Db,
    stop: Arc<AtomicBool>,
    wake: Arc<Wake>,
    threads: Vec<thread::JoinHandle<()>>,
    junk_writer: Option<thread::JoinHandle<()>>,
    /// Held until the runtime has stopped: its store connections are closed here, outside any
    /// async task (a PostgreSQL connection closes with a blocking call, which must not run on
    /// the runtime's threads).
    shared: Option<Arc<Shared>>,
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen: {0}")]
    Listen(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Listener {
    /// Opens the store (checking that it can be written), binds the address, and starts
    /// receiving and processing.
    pub fn start(config: Config) -> Result<Listener, StartError> {
        // Every connection first: a store that cannot be opened (or a server without room for
        // them all) fails the start before any thread or task runs. The first checks and
        // migrates the store; the others only connect.
        let first = store::open(&config.db)?;
        let junk_store = store::connect(&config.db)?;
        let worker_stores = (0..config.workers.max(1))
            .map(|_| store::connect(&config.db))
            .collect::<Result<Vec<_>, _>>()?;
        let events_store = store::connect(&config.db)?;
        let socket = std::net::TcpListener::bind(&config.listen)
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let addr = socket
            .local_addr()
            .map_err(|e| StartError::Listen(e.to_string()))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(config.threads.max(1))
            .thread_name("ipnkit-http")
            .enable_all()
            .build()
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let socket = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(socket)
                .map_err(|e| StartError::Listen(e.to_string()))?
        };
        let wake = Arc::new(Wake::default());
        let metrics = Arc::new(Metrics::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (junk, junk_in) = mpsc::channel(1024);
        let shared = Arc::new(Shared {
            pool: Pool {
                db: config.db.clone(),
                idle: Mutex::new(vec![first]),
            },
            junk,
            wake: Arc::clone(&wake),
            metrics: Arc::clone(&metrics),
            limits: config.host.limits(),
            http: config.http,
            webhooks: config.webhooks.as_ref().map(|w| (w.path.clone(), w.limits)),
        });
        let config = Arc::new(config);
        // Were a thread not to start, the ones started stop (the junk writer when `shared`, and
        // with it the channel's sender, is dropped).
        let failed = |e: std::io::Error| {
            stop.store(true, Ordering::SeqCst);
            wake.notify();
            StartError::Listen(e.to_string())
        };
        let junk_writer = thread::Builder::new()
            .name("ipnkit-junk".into())
            .spawn(move || write_junk(junk_store, junk_in))
            .map_err(failed)?;
        let mut threads = Vec::new();
        for (n, store) in worker_stores.into_iter().enumerate() {
            let (config, stop, wake, metrics) = (
                Arc::clone(&config),
                Arc::clone(&stop),
                Arc::clone(&wake),
                Arc::clone(&metrics),
            );
            threads.push(
                thread::Builder::new()
                    .name(format!("ipnkit-postback-{n}"))
                    .spawn(move || work(store, &config, &stop, &wake, &metrics))
                    .map_err(failed)?,
            );
        }
        let (flush_config, flush_stop, flush_wake) =
            (Arc::clone(&config), Arc::clone(&stop), Arc::clone(&wake));
        threads.push(
            thread::Builder::new()
                .name("ipnkit-events".into())
                .spawn(move || {
                    deliver_events(
                        events_store,
                        &flush_config,
                        &flush_stop,
                        &flush_wake,
                        &metrics,
                    )
                })
                .map_err(failed)?,
        );
        // Last, when nothing can fail any more: the server task holds a share of the store
        // connections, which must never be closed on the runtime's threads.
        let (shutdown, shutdown_seen) = watch::channel(false);
        let server = runtime.spawn(intake::serve(socket, Arc::clone(&shared), shutdown_seen));
        Ok(Listener {
            runtime: Some(runtime),
            server: Some(server),
            shutdown,
            url: format!("http://{addr}/ipn"),
            webhook_url: config
                .webhooks
                .as_ref()
                .map(|w| format!("http://{addr}{}", w.path)),
            db: config.db.clone(),
            stop,
            wake,
            threads,
            junk_writer: Some(junk_writer),
            shared: Some(shared),
        })
    }

    /// The URL to deliver IPN messages to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL to deliver webhooks to, when this listener takes them.
    pub fn webhook_url(&self) -> Option<&str> {
        self.webhook_url.as_deref()
    }

    /// Counts of stored messages by state.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        store::connect(&self.db)?.counts()
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully ([`stop`](Listener::stop)).
    pub fn run_until_signal(self) -> std::io::Result<()> {
        if let Some(runtime) = &self.runtime {
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let mut term = signal(SignalKind::terminate())?;
                let mut int = signal(SignalKind::interrupt())?;
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                    _ = int.recv() => tracing::info!("SIGINT: shutting down"),
                }
                Ok::<(), std::io::Error>(())
            })?;
        }
        self.stop();
        Ok(())
    }

    /// Stops accepting, lets requests in flight finish, lets each worker finish its message,
    /// hands what is in the outbox to the sink, and returns.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.runtime.is_none() {
            return; // stopped already (`stop`, then `drop`)
        }
        let _ = self.shutdown.send(true);
        if let (Some(runtime), Some(server)) = (&self.runtime, self.server.take()) {
            let _ = runtime.block_on(server);
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
        drop(self.shared.take());
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(junk) = self.junk_writer.take() {
            let _ = junk.join();
        }
        tracing::info!("stopped");
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Writes junk in batches until every sender is gone.
fn write_junk(mut store: Box<dyn Store>, mut incoming: mpsc::Receiver<(i64, &'static str, Bytes)>) {
    let mut batch = Vec::new();
    while incoming.blocking_recv_many(&mut batch, 256) > 0 {
        let rows: Vec<(i64, &str, &[u8])> = batch
            .iter()
            .map(|(at, reason, body)| (*at, *reason, &body[..]))
            .collect();
        if let Err(error) = store.insert_junk(&rows) {
            tracing::warn!(%error, n = rows.len(), "junk not kept");
            thread::sleep(Duration::from_millis(500));
        }
        batch.clear();
    }
}
