//! What the intake (HTTP) and the workers share: store connections, the wake-up, the counters;
//! and the pause after failures in a loop.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ipnkit::Limits;
use ipnkit::webhook::WebhookLimits;
use tokio::sync::mpsc;

use super::config::HttpLimits;
use super::metrics::{Metrics, render};
use crate::store::{self, Db, Store, StoreError, ms};
use crate::util::lock;

/// Store connections for the receiving side, opened as needed and reused.
pub(crate) struct Pool {
    pub(super) db: Db,
    pub(super) idle: Mutex<Vec<Box<dyn Store>>>,
}

impl Pool {
    pub(crate) fn with<T>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = lock(&self.idle).pop();
        let mut store = match idle {
            Some(store) => store,
            None => store::connect(&self.db)?,
        };
        let result = work(store.as_mut());
        lock(&self.idle).push(store);
        result
    }
}

/// Wakes sleeping workers when a message arrives.
#[derive(Default)]
pub(crate) struct Wake {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Wake {
    pub(crate) fn notify(&self) {
        *lock(&self.generation) += 1;
        self.changed.notify_all();
    }

    pub(super) fn wait(&self, timeout: Duration) {
        let guard = lock(&self.generation);
        let seen = *guard;
        let _ = self
            .changed
            .wait_timeout_while(guard, timeout, |g| *g == seen);
    }
}

/// What the HTTP layer shares with the rest.
pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) junk: mpsc::Sender<(i64, &'static str, Bytes)>,
    pub(crate) wake: Arc<Wake>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) limits: Limits,
    pub(crate) http: HttpLimits,
    /// The webhook path and its limits, when webhooks are taken.
    pub(crate) webhooks: Option<(String, WebhookLimits)>,
}

impl Shared {
    /// The counters in Prometheus' text format.
    pub(crate) fn render_metrics(&self) -> Result<String, StoreError> {
        let (counts, refusals, oldest, unsent) = self.pool.with(|s| {
            Ok((
                s.counts()?,
                s.refusals()?,
                s.oldest_unsettled_at()?,
                s.unsent_count()?,
            ))
        })?;
        Ok(render(&self.metrics, &counts, &refusals, oldest, unsent))
    }
}

/// Failures in a loop (the store's, the sink's): a pause that doubles from 100 ms up to 30 s
/// while they last.
pub(super) struct Trouble {
    pause: Duration,
}

impl Trouble {
    pub(super) fn new() -> Trouble {
        Trouble {
            pause: Duration::ZERO,
        }
    }

    /// The pause after one more failure in a row.
    pub(super) fn next_pause(&mut self) -> Duration {
        self.pause = (self.pause * 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
        self.pause
    }

    /// A store error: logged, and the pause before trying again.
    pub(super) fn failed(&mut self, what: &str, error: &StoreError) -> Duration {
        let pause = self.next_pause();
        tracing::error!(%error, pause_ms = ms(pause), "{what}");
        pause
    }

    pub(super) fn ok(&mut self) {
        self.pause = Duration::ZERO;
    }
}
