//! The listener's intake: its HTTP layer, for the open internet (hyper on tokio). Every body
//! that looks like PayPal's is stored before the answer; the rest is kept apart as junk.
//!
//! - Headers: at most `HttpLimits::header_bytes` in all and `HttpLimits::max_headers` of
//!   them (hyper answers 431 and closes past either), read within
//!   `HttpLimits::header_timeout`; the same timeout closes an idle keep-alive connection.
//! - Body: a declared `Content-Length` over the limit is answered 413 before a byte is read;
//!   otherwise the body is read up to the limit (413 past it, whatever was declared), within
//!   `HttpLimits::body_timeout` (408), and nothing is allocated from what a client declares. A
//!   body that ends before its declared length (the connection closed) is never stored.
//! - At most `HttpLimits::max_connections` connections at once: past it a new connection is
//!   closed at once (PayPal delivers it again later), counted and logged. An accept error (out
//!   of file descriptors) is logged and the loop goes on after a pause: it never exits.
//! - Graceful shutdown: stop accepting, let requests in flight finish (their bodies stored),
//!   then close.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch};

use super::state::Shared;
use crate::store::now_ms;

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: &'static str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

/// A 200 with `body` of `content_type`.
fn typed(body: String, content_type: &'static str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

/// Answers and closes the connection (the rest of the request is not read).
fn answer_and_close(status: StatusCode, body: &'static str) -> Answer {
    let mut response = answer(status, body);
    response
        .headers_mut()
        .insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
    response
}

/// Accepts connections until `shutdown` turns true, then finishes what is in flight.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = shared.http;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.header_bytes.max(8192))
        .max_header_size(limits.header_bytes)
        .max_headers(limits.max_headers);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut accept_errors = 0u32;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok((stream, peer)) => {
                accept_errors = 0;
                (stream, peer)
            }
            Err(error) => {
                // Out of file descriptors, most likely: wait for connections to close.
                accept_errors = accept_errors.saturating_add(1);
                shared.metrics.accept_errors.fetch_add(1, Ordering::Relaxed);
                if accept_errors.is_power_of_two() {
                    tracing::error!(%error, times = accept_errors, "cannot accept a connection");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            let n = shared
                .metrics
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            if (n + 1).is_power_of_two() {
                tracing::warn!(
                    max = limits.max_connections,
                    refused = n + 1,
                    "connection limit reached: closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let service = hyper::service::service_fn(move |request| {
            let shared = Arc::clone(&shared);
            async move { Ok::<_, Infallible>(handle(request, &shared, peer).await) }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A connection's errors (a client gone, a timeout, a head too large) end it; hyper
            // has answered what can be answered.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown: requests still in flight after the grace period were cut");
        }
    }
}

async fn handle(
    request: Request<Incoming>,
    shared: &Arc<Shared>,
    peer: std::net::SocketAddr,
) -> Answer {
    // Health and counters are for the operator: asked from this machine (a Prometheus agent,
    // a load balancer's local check, a reverse proxy), never from the internet, where each
    // scrape's queries would be work anyone could make the store do.
    let local = peer.ip().is_loopback();
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/health") if local => return health(shared).await,
        (&Method::GET, "/metrics") if local => return metrics(shared).await,
        (&Method::GET, "/health" | "/metrics") => return answer(StatusCode::NOT_FOUND, ""),
        (&Method::POST, _) => {}
        _ => return answer(StatusCode::METHOD_NOT_ALLOWED, "POST the IPN body here\n"),
    }
    let metrics = &shared.metrics;
    let _receiving = InFlight::new(&metrics.receiving);
    let (parts, body) = request.into_parts();
    if let Some((path, limits)) = &shared.webhooks
        && parts.uri.path() == path
    {
        let body = match read_body(shared, &parts.headers, body, limits.max_body_bytes).await {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        return match webhook_headers(&body, &parts.headers, *limits) {
            Ok(headers) => store(shared, body, Some(headers)).await,
            Err(error) => {
                // Not a delivery PayPal signed (a header missing, repeated or malformed): kept
                // apart as junk, answered with the code and the header (never a value), so that
                // whoever sent it sees which.
                keep_junk(shared, error.code(), body);
                let text = format!("{} {}\n", error.code(), error.field().unwrap_or(""));
                let mut refused = Response::new(Full::new(Bytes::from(text)));
                *refused.status_mut() = StatusCode::BAD_REQUEST;
                refused
            }
        };
    }
    let body = match read_body(shared, &parts.headers, body, shared.limits.max_body_bytes).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let junk = match ipnkit::Body::parse_with(&body, shared.limits) {
        Err(error) => Some(error.code()),
        Ok(parsed) if !parsed.has_verify_sign() => Some("no_verify_sign"),
        Ok(_) => None,
    };
    if let Some(reason) = junk {
        keep_junk(shared, reason, body);
        return answer(StatusCode::OK, "");
    }
    store(shared, body, None).await
}

/// Reads a request's body within `limit` and the body timeout, or the answer refusing it.
async fn read_body(
    shared: &Shared,
    headers: &hyper::HeaderMap,
    body: Incoming,
    limit: usize,
) -> Result<Bytes, Answer> {
    let metrics = &shared.metrics;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        metrics.too_large.fetch_add(1, Ordering::Relaxed);
        return Err(answer_and_close(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body over the limit\n",
        ));
    }
    let read = tokio::time::timeout(
        shared.http.body_timeout,
        Limited::new(body, limit).collect(),
    )
    .await;
    match read {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            metrics.too_large.fetch_add(1, Ordering::Relaxed);
            Err(answer_and_close(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body over the limit\n",
            ))
        }
        Ok(Err(_)) => {
            // Cut short (the client closed before its Content-Length), or malformed chunks:
            // never stored, whatever arrived.
            metrics.truncated.fetch_add(1, Ordering::Relaxed);
            Err(answer_and_close(
                StatusCode::BAD_REQUEST,
                "incomplete body\n",
            ))
        }
        Err(_) => {
            metrics.body_timeouts.fetch_add(1, Ordering::Relaxed);
            Err(answer_and_close(
                StatusCode::REQUEST_TIMEOUT,
                "body too slow\n",
            ))
        }
    }
}

/// PayPal's five headers as the store keeps them, once the core has read them as a
/// transmission: what is stored is what can be verified later.
fn webhook_headers(
    body: &[u8],
    headers: &hyper::HeaderMap,
    limits: ipnkit::webhook::WebhookLimits,
) -> Result<String, ipnkit::Error> {
    let pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    ipnkit::webhook::Transmission::from_request(body, &pairs, limits)?;
    crate::store::webhook_headers(pairs.iter().copied())
        .map_err(|header| ipnkit::Error::InvalidHeader { header })
}

/// Junk: kept apart from real messages, written in batches; when the writer is behind, junk is
/// counted and dropped rather than queued without bound.
fn keep_junk(shared: &Shared, reason: &'static str, body: Bytes) {
    shared.metrics.junk.fetch_add(1, Ordering::Relaxed);
    if shared.junk.try_send((now_ms(), reason, body)).is_err() {
        shared.metrics.junk_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Stores a delivery durably, then answers: 200 once it is committed, 500 (PayPal delivers it
/// again) when it cannot be.
async fn store(shared: &Arc<Shared>, body: Bytes, headers: Option<String>) -> Answer {
    let metrics = &shared.metrics;
    let webhook = headers.is_some();
    let stored = {
        let shared = Arc::clone(shared);
        tokio::task::spawn_blocking(move || {
            shared
                .pool
                .with(|store| store.insert(&body, headers.as_deref()))
        })
        .await
    };
    match stored {
        Ok(Ok(id)) => {
            metrics.received.fetch_add(1, Ordering::Relaxed);
            if webhook {
                metrics.webhooks_received.fetch_add(1, Ordering::Relaxed);
            }
            tracing::debug!(message_id = id, "stored");
            shared.wake.notify();
            answer(StatusCode::OK, "")
        }
        Ok(Err(error)) => {
            metrics.store_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(%error, "cannot store a message: answered 500 (PayPal sends it again)");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "")
        }
        Err(_) => {
            metrics.store_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!("storing a message was cut short: answered 500");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "")
        }
    }
}

/// One more on a gauge while it lives (a delivery being read or stored).
struct InFlight<'a>(&'a AtomicU64);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a AtomicU64) -> InFlight<'a> {
        gauge.fetch_add(1, Ordering::Relaxed);
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn health(shared: &Arc<Shared>) -> Answer {
    let shared2 = Arc::clone(shared);
    let read = tokio::task::spawn_blocking(move || shared2.pool.with(|store| store.counts())).await;
    match read {
        Ok(Ok(counts)) => {
            let body = serde_json::json!({"status": "ok", "unsettled": counts.unsettled()});
            typed(body.to_string(), "application/json")
        }
        _ => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"status\": \"store_unavailable\"}",
        ),
    }
}

async fn metrics(shared: &Arc<Shared>) -> Answer {
    let shared2 = Arc::clone(shared);
    let text = tokio::task::spawn_blocking(move || shared2.render_metrics()).await;
    match text {
        Ok(Ok(text)) => typed(text, "text/plain; version=0.0.4"),
        _ => answer(StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n"),
    }
}
