//! Requests safe to make twice (a postback, an order lookup, an event under its stable id), made
//! again at once on a new connection when the kept-alive one they were written on was closed
//! under them. PayPal, shops and collectors all close idle connections on their side; a
//! client's pool can only check one before it writes, not while.

use std::time::Duration;

/// How a request is made: on whatever connection the client has (a kept-alive one first), or on
/// a new one within what is left of its deadline.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Connection {
    /// The client's choice: a pooled connection if it has one.
    Any,
    /// A new connection, and this much time left.
    New(Duration),
}

impl Connection {
    /// `call`, made as this says.
    pub(crate) fn apply<B>(self, call: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match self {
            Connection::Any => call,
            // No pooled connection is younger than zero: a new one is made.
            Connection::New(left) => call
                .config()
                .max_idle_age(Duration::ZERO)
                .timeout_global(Some(left))
                .build(),
        }
    }
}

/// Makes a request with `send`; one that met a connection closed under it (a kept-alive
/// connection the other side closed just then: PayPal, a shop, a collector all close idle ones)
/// had no answer at all, and is made again at once on a new connection within what is left of
/// `timeout`, after `again` is told why. Every request made this way is safe to make twice: a
/// postback, an order lookup, an event under its stable id.
pub(crate) fn on_a_live_connection<T>(
    timeout: Duration,
    send: impl Fn(Connection) -> Result<T, ureq::Error>,
    again: impl FnOnce(&ureq::Error),
) -> Result<T, ureq::Error> {
    let started = std::time::Instant::now();
    match send(Connection::Any) {
        Err(error) if met_a_closed_connection(&error) => {
            again(&error);
            send(Connection::New(timeout.saturating_sub(started.elapsed())))
        }
        other => other,
    }
}

/// Whether a request failed on a connection the other side had closed, before any answer: the
/// request may not even have reached it.
fn met_a_closed_connection(error: &ureq::Error) -> bool {
    matches!(error, ureq::Error::Io(e) if matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::UnexpectedEof
    ))
}
