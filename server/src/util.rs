//! Small helpers every part of the server uses.

use std::sync::Mutex;
use std::time::Duration;

/// The lock, even when a thread panicked holding it: the data it guards stays consistent
/// (counters and queues, each change made under the lock in one step).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The listener's HTTP client, for postbacks, order lookups and the URL sink: one deadline for
/// the whole exchange, and a redirect is never followed. PayPal's answer is the response to the
/// postback itself (a 3xx is an unexpected answer, retried later, whoever it points to); the
/// shop's answers come from the URLs it configured.
pub fn client(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}
