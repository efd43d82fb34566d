//! What every engine shares: the [`Store`] interface, its errors and rows, the timestamps.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A store error. Its text names the store (a path, or a URL without its password) and the
/// engine's own message; never a stored value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite's error.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL's error (connecting, or a statement). Shown as its code and message only: a
    /// server's `DETAIL` can quote a row's values.
    #[error("store: {}", postgres_text(.0))]
    Postgres(#[from] ::postgres::Error),
    /// The store can only be read (a file's permissions or owner, a read-only file system, a
    /// database role without write access).
    #[error("store: {0} can only be read; the listener must be able to write it")]
    ReadOnly(String),
    /// The store was written by a newer version of ipnkit.
    #[error("store: schema version {found} is newer than this ipnkit's ({supported})")]
    TooNew {
        /// The version found.
        found: i64,
        /// The version this build writes.
        supported: i64,
    },
    /// `--db` is neither a file path nor a `postgres://` URL that can be read.
    #[error("store: {0}")]
    BadLocation(String),
    /// [`copy`](super::copy) writes only into a store without messages or events.
    #[error("store: {0} already holds messages or events; copy into an empty store")]
    NotEmpty(String),
}

pub(super) fn postgres_text(error: &::postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!(
            "PostgreSQL {} {}: {}",
            db.severity(),
            db.code().code(),
            db.message()
        ),
        None => format!("PostgreSQL: {error}"),
    }
}

/// The listener's store: what the receiving side, the workers, the outbox and the reports do
/// with it. Every engine gives the same answers (`tests/e2e/tests/store.rs` runs one suite on
/// both).
pub trait Store: Send {
    /// Stores a raw body, durably (committed, synced), with PayPal's headers for a webhook
    /// ([`Pending::headers`]; `None` for an IPN); returns its id.
    fn insert(&mut self, body: &[u8], headers: Option<&str>) -> Result<i64, StoreError>;

    /// The certificate kept for `url` (as its URL served it), if one was fetched before, by
    /// this process or another.
    fn certificate(&mut self, url: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Keeps the certificate `url` served (the first kept stays: each URL names one
    /// certificate).
    fn keep_certificate(&mut self, url: &str, pem: &[u8]) -> Result<(), StoreError>;

    /// Stores a batch of junk (when, why, the body: its first [`JUNK_BYTES_KEPT`] bytes are
    /// kept) in one transaction, not synced: junk is not PayPal's, and losing the last batch to
    /// a power cut loses nothing anyone relies on.
    fn insert_junk(&mut self, batch: &[(i64, &str, &[u8])]) -> Result<(), StoreError>;

    /// Claims the message due first (oldest due first): it is not due again for `lease` (the
    /// time its work may take: were this worker or its process to die meanwhile, it is picked up
    /// again then). Committed before the message is returned: two workers, in one process or
    /// several, never hold the same message.
    fn claim(&mut self, now: i64, lease: Duration) -> Result<Option<Pending>, StoreError>;

    /// When the next message is due, if any is waiting.
    fn next_due_at(&mut self) -> Result<Option<i64>, StoreError>;

    /// Schedules more work on message `id` at `at` (another postback, or another order lookup).
    fn retry_later(&mut self, id: i64, at: i64, detail: &str) -> Result<(), StoreError>;

    /// Records PayPal's `VERIFIED` for message `id`: it is never posted back again. The claim
    /// stays: the worker that holds it goes on to settle it.
    fn mark_verified(&mut self, id: i64) -> Result<(), StoreError>;

    /// Settles message `id` in a final state other than accepted, with the codes (never values)
    /// saying why, and the field concerned when there is one.
    fn settle(
        &mut self,
        id: i64,
        state: &str,
        detail: &str,
        field: Option<&str>,
    ) -> Result<(), StoreError>;

    /// [`settle`](Store::settle), and puts `event_line` (given the event's id) in the outbox, in
    /// one transaction.
    fn settle_with_event(
        &mut self,
        id: i64,
        state: &str,
        detail: &str,
        field: Option<&str>,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<(), StoreError>;

    /// Refuses message `id` and reports it with `event_line`, once per delivery key: a second
    /// copy of a refused notification (PayPal resends, retries) is a duplicate, not a second
    /// report. Returns `false` for such a copy.
    fn refuse(
        &mut self,
        id: i64,
        key: &str,
        detail: &str,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<bool, StoreError>;

    /// The delivery keys stored under `lookup_id`, oldest first.
    fn keys(&mut self, lookup_id: &str) -> Result<Vec<String>, StoreError>;

    /// Accepts message `id` in one transaction: its state, its delivery key, and its event in
    /// the outbox (`event_line` is given the event's id). Returns `false` when the key was
    /// stored meanwhile, by this process or another (a duplicate after all: no event).
    fn accept(
        &mut self,
        id: i64,
        key: &str,
        lookup_id: &str,
        detail: &str,
        event_line: &dyn Fn(i64) -> String,
    ) -> Result<bool, StoreError>;

    /// Whether this connection hands the outbox to the sink: one at a time, so that events
    /// leave in order and never twice at once. Asked before each pass; taken when free (and
    /// given up when the connection or its process ends).
    fn lead_events(&mut self) -> Result<bool, StoreError>;

    /// Events not yet handed to the sink, oldest first (at most `limit`).
    fn unsent_events(&mut self, limit: usize) -> Result<Vec<(i64, String)>, StoreError>;

    /// Marks an event handed to the sink.
    fn mark_sent(&mut self, event_id: i64) -> Result<(), StoreError>;

    /// Counts of messages by state, and of junk.
    fn counts(&mut self) -> Result<Counts, StoreError>;

    /// Refused messages by their codes (`amount_mismatch`, `order_not_found,status_not_final`…).
    fn refusals(&mut self) -> Result<Vec<(String, i64)>, StoreError>;

    /// When the oldest message still being worked on was received, if any is.
    fn oldest_unsettled_at(&mut self) -> Result<Option<i64>, StoreError>;

    /// Events waiting for the sink.
    fn unsent_count(&mut self) -> Result<i64, StoreError>;

    /// Every message's state, detail (codes) and field, by id (for reports and tests).
    fn outcomes(&mut self) -> Result<Vec<Outcome>, StoreError>;

    /// The raw body of message `id` (empty once pruned).
    fn body(&mut self, id: i64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every event in the outbox, sent or not, in order: id, message id, line (for reports and
    /// tests).
    fn events(&mut self) -> Result<Vec<(i64, i64, String)>, StoreError>;

    /// Erases the raw bodies of settled messages received before `before` (they are personal
    /// data): the row, its state and codes stay, for duplicate detection and reports. Unreadable
    /// messages keep their body until they are reprocessed. Junk older than `junk_before`, and
    /// beyond the newest [`JUNK_ROWS_KEPT`], is deleted. Returns (bodies erased, junk deleted).
    fn prune(&mut self, before: i64, junk_before: i64) -> Result<(usize, usize), StoreError>;

    /// Puts back to work every verified message that could not be read, or whose order was not
    /// known: the current version (and the current order book) reads it again, without another
    /// postback. Their earlier reports stay in the outbox; the new one has a new event id.
    /// Returns how many.
    fn reprocess(&mut self) -> Result<usize, StoreError>;

    /// Everything but junk, for [`copy`](super::copy).
    fn snapshot(&mut self) -> Result<Snapshot, StoreError>;

    /// Writes `snapshot` into this store, ids kept, in one transaction; refused
    /// ([`StoreError::NotEmpty`]) unless the store holds no messages and no events.
    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), StoreError>;
}

/// A store's rows, junk aside ([`Store::snapshot`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Every message, by id.
    pub messages: Vec<MessageRow>,
    /// Delivery keys, oldest first: (key, lookup id, message id).
    pub deliveries: Vec<(String, String, i64)>,
    /// Reported refusals: (key, message id).
    pub reported: Vec<(String, i64)>,
    /// The outbox, by id: (id, message id, line, sent).
    pub events: Vec<(i64, i64, String, bool)>,
}

/// One message row, as [`Snapshot`] carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Its id.
    pub id: i64,
    /// When it was received (ms since the epoch).
    pub received_at: i64,
    /// The raw body (empty once pruned).
    pub body: Vec<u8>,
    /// Its state.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it is due (ms since the epoch).
    pub next_attempt_at: i64,
    /// The codes saying why.
    pub detail: Option<String>,
    /// Whether PayPal verified it.
    pub verified: bool,
    /// The field concerned.
    pub field: Option<String>,
    /// Whether its body was erased.
    pub pruned: bool,
    /// A webhook's headers ([`Pending::headers`]); `None` for an IPN.
    pub headers: Option<String>,
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
    /// For a webhook, PayPal's five headers as received, a JSON object of header name to value
    /// (see [`webhook_headers`](crate::store::webhook_headers)); `None` for an IPN.
    pub headers: Option<String>,
    /// When it was received (ms since the epoch): a webhook's signature is checked against
    /// this clock, so that a delivery stored in time stays in time however long it waits.
    pub received_at: i64,
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

    /// Adds `n` messages in `state` (as the store writes it).
    pub(super) fn add(&mut self, state: &str, n: i64) {
        match state {
            "received" => self.received += n,
            "verified" => self.verified += n,
            "invalid" => self.invalid += n,
            "refused" => self.refused += n,
            "duplicate" => self.duplicate += n,
            "stale" => self.stale += n,
            "accepted" => self.accepted += n,
            _ => self.unreadable += n,
        }
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

/// The schema version this build writes (the same number means the same tables and meaning in
/// both engines).
pub const SCHEMA_VERSION: i64 = 3;

/// The most junk rows kept (the newest), and the most bytes of each kept.
pub const JUNK_ROWS_KEPT: i64 = 10_000;
/// See [`JUNK_ROWS_KEPT`].
pub const JUNK_BYTES_KEPT: usize = 2048;

/// A webhook's headers as the store keeps them ([`Pending::headers`]): a JSON object of
/// PayPal's five header names (`PAYPAL-TRANSMISSION-ID`…) to their values, taken from the
/// request's `headers` (names in any case; every other header left out). Fails with the name
/// of one of the five whose value is not text, which
/// [`ipnkit::webhook::Transmission::from_request`] refuses first.
pub fn webhook_headers<'h>(
    headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
) -> Result<String, &'static str> {
    let mut kept = serde_json::Map::new();
    for (name, value) in headers {
        if let Some(header) = ipnkit::webhook::transmission::HEADERS
            .iter()
            .find(|h| h.eq_ignore_ascii_case(name))
        {
            let value = std::str::from_utf8(value).map_err(|_| *header)?;
            kept.insert((*header).to_owned(), value.into());
        }
    }
    Ok(serde_json::Value::Object(kept).to_string())
}

/// The `(name, value)` pairs of headers [`webhook_headers`] wrote; `None` when the text is not
/// what it writes (a store edited by hand).
pub fn read_webhook_headers(text: &str) -> Option<Vec<(String, String)>> {
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(text).ok()?;
    Some(map.into_iter().collect())
}

/// The first [`JUNK_BYTES_KEPT`] bytes of a junk body, and its length.
pub(super) fn junk_head(body: &[u8]) -> (&[u8], i64) {
    (
        body.get(..JUNK_BYTES_KEPT).unwrap_or(body),
        i64::try_from(body.len()).unwrap_or(i64::MAX),
    )
}

/// `scheme://user:password@host…` → `scheme://user:***@host…`; a `password=` option too.
pub(super) fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let options: Vec<String> = query
                .split('&')
                .map(|option| match option.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => option.to_owned(),
                })
                .collect();
            format!("{path}?{}", options.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}
