//! A small HTTP/1.1 server for local stand-ins: PayPal's side ([`crate::Sandbox`]) and, in
//! tests, a shop, a load balancer or a verification endpoint that misbehaves on purpose.
//!
//! hyper on a runtime of its own (one thread): every connection is served as soon as it is
//! accepted, however many arrive at once and however long each is kept alive, and each request
//! is read whole (at most [`MAX_BODY`]) and answered by a plain function on a blocking thread,
//! so that a handler may sleep or make HTTP calls of its own.
//!
//! Why not a thread-pool server such as tiny_http (which the stand-in used before, issue 35):
//! its pool hands a new connection to an idle thread with a notification that is lost when two
//! connections arrive before the first notified thread wakes, and the connection then waits for
//! another one to *close*. Against a client that keeps its connections alive (ureq, and so
//! `ipnkit listen`), one of the first postbacks of a burst waited its client's whole timeout.
//!
//! [`Server::stop`] (also on drop) stops accepting, lets every answer already taken finish
//! writing, ends withheld requests, and returns once the connections are closed.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;

/// The largest request body read; a larger one is answered 413.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// How long [`Server::stop`] waits for answers still being written.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A request, read whole.
#[derive(Debug)]
pub struct Request {
    /// The method (`POST`, `GET`, …).
    pub method: hyper::Method,
    /// The path and query, as the request line gave them (`/cgi-bin/webscr`, `/x?a=1`).
    pub target: String,
    /// The request's headers.
    pub headers: hyper::HeaderMap,
    /// The body's bytes, as received.
    pub body: Vec<u8>,
}

/// What a handler does with a request.
pub enum Reply {
    /// Answer it.
    Answer(Answer),
    /// Never answer (a hung endpoint, a lost answer): the connection stays open and silent until
    /// the client gives up, the server stops, or [`WITHHOLD_LIMIT`] passes (then it is closed
    /// unanswered, as a front end's own timeout would). The [`Withheld`] is dropped then.
    Withhold(Withheld),
}

/// How long a withheld request is held at most.
pub const WITHHOLD_LIMIT: Duration = Duration::from_secs(600);

/// A request held unanswered; what it carries is dropped, and its callback run, when the
/// request ends: the client gone, the server stopped, or [`WITHHOLD_LIMIT`] passed.
#[derive(Default)]
pub struct Withheld {
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl Withheld {
    /// Held with nothing to do when it ends.
    pub fn new() -> Withheld {
        Withheld::default()
    }

    /// Held; `f` runs when the request ends.
    pub fn on_end(f: impl FnOnce() + Send + 'static) -> Withheld {
        Withheld {
            on_end: Some(Box::new(f)),
        }
    }
}

impl Drop for Withheld {
    fn drop(&mut self) {
        if let Some(f) = self.on_end.take() {
            f();
        }
    }
}

/// An answer: status, headers, body, and what to do once it is taken to be written.
pub struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
    on_taken: Option<Box<dyn FnOnce() + Send>>,
}

impl Answer {
    /// An answer with `status` and `body` (no `Content-Type` unless [`Answer::header`] adds one).
    pub fn new(status: u16, body: impl Into<Bytes>) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
            on_taken: None,
        }
    }

    /// `text/plain` with `status`.
    pub fn text(status: u16, body: impl Into<String>) -> Answer {
        Answer::new(status, body.into()).header("content-type", "text/plain; charset=utf-8")
    }

    /// Adds a header (a value that is not a valid header value makes the answer a 500).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    /// Runs `f` once the connection has taken the whole answer to write it (after which
    /// [`Server::stop`] lets it finish writing). Not run when the answer is never taken: the
    /// connection closed first.
    pub fn on_taken(mut self, f: impl FnOnce() + Send + 'static) -> Answer {
        self.on_taken = Some(Box::new(f));
        self
    }

    fn into_response(self) -> hyper::Response<Taken> {
        let status = hyper::StatusCode::from_u16(self.status).ok();
        let headers: Option<Vec<_>> = self
            .headers
            .into_iter()
            .map(|(name, value)| Some((name, hyper::header::HeaderValue::from_str(&value).ok()?)))
            .collect();
        let (Some(status), Some(headers)) = (status, headers) else {
            // A handler's mistake: said plainly, never a half-made answer.
            return Answer::text(500, "the stand-in made an invalid answer\n").into_response();
        };
        let mut response = hyper::Response::new(Taken {
            data: Some(self.body),
            on_taken: self.on_taken,
        });
        *response.status_mut() = status;
        for (name, value) in headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

/// A response body of one chunk that runs a callback once hyper has taken all of it.
struct Taken {
    data: Option<Bytes>,
    on_taken: Option<Box<dyn FnOnce() + Send>>,
}

impl Body for Taken {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = self.data.take().map(|data| Ok(Frame::data(data)));
        if frame.is_none()
            && let Some(f) = self.on_taken.take()
        {
            f();
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        // Never claimed before the data is taken; after it, the callback runs on the next poll
        // or, if hyper asks no more, when the body is dropped.
        self.data.is_none() && self.on_taken.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        // Dropped after the data was taken: the whole answer is hyper's to write.
        if self.data.is_none()
            && let Some(f) = self.on_taken.take()
        {
            f();
        }
    }
}

/// A running server. Dropping it stops it as [`Server::stop`] does.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<thread::JoinHandle<()>>,
}

type Handler = dyn Fn(Request) -> Reply + Send + Sync;

impl Server {
    /// Listens on `listen` (`127.0.0.1:0` picks a free port) and answers each request with
    /// `handle`, run on a blocking thread.
    pub fn start(
        listen: &str,
        handle: impl Fn(Request) -> Reply + Send + Sync + 'static,
    ) -> io::Result<Server> {
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let handle: Arc<Handler> = Arc::new(handle);
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let thread = thread::Builder::new()
            .name(format!("ipnkit-local-{}", addr.port()))
            .spawn(move || runtime.block_on(accept(listener, handle, stopped)))?;
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, ends withheld requests, lets answers being written finish (at most a
    /// few seconds), and waits for the server's thread.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

async fn accept(
    listener: tokio::net::TcpListener,
    handle: Arc<Handler>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new());
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of descriptors, most likely: wait for connections to close.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let (handle, stopped) = (Arc::clone(&handle), stopped.clone());
        let service = hyper::service::service_fn(move |request| {
            serve_one(request, Arc::clone(&handle), stopped.clone())
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client gone, a request withheld until the stop: the connection just ends.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(STOP_GRACE, graceful.shutdown()).await;
}

/// Why a request got no answer: it was withheld until the server stopped or the limit passed.
#[derive(Debug)]
struct Unanswered;

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("withheld until the server stopped or the limit passed")
    }
}

impl std::error::Error for Unanswered {}

async fn serve_one(
    request: hyper::Request<Incoming>,
    handle: Arc<Handler>,
    mut stopped: watch::Receiver<bool>,
) -> Result<hyper::Response<Taken>, Unanswered> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return Ok(Answer::text(413, "body too large\n").into_response());
        }
        // The client went away mid-body: nothing to answer.
        Err(_) => return Ok(Answer::text(400, "body cut short\n").into_response()),
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.to_string(), ToString::to_string);
    let request = Request {
        method: parts.method,
        target,
        headers: parts.headers,
        body,
    };
    match tokio::task::spawn_blocking(move || handle(request)).await {
        Ok(Reply::Answer(answer)) => Ok(answer.into_response()),
        Ok(Reply::Withhold(withheld)) => {
            // Silent until the server stops or the limit passes; the client leaving ends the
            // connection and drops this future first. Either way `withheld` is dropped.
            let _ = tokio::time::timeout(WITHHOLD_LIMIT, stopped.wait_for(|stop| *stop)).await;
            drop(withheld);
            Err(Unanswered)
        }
        // The handler panicked: a plain 500, and the server goes on.
        Err(_) => Ok(Answer::text(500, "the stand-in failed on this request\n").into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn client() -> ureq::Agent {
        crate::util::client(Duration::from_secs(10))
    }

    #[test]
    fn many_kept_alive_connections_opened_at_once_are_each_answered() {
        // Issue 35: with tiny_http, one of a burst of new connections waited for another one
        // to close. Here 32 clients each keep a connection open after a first request, all at
        // once, and each must get its answers.
        let server = Server::start("127.0.0.1:0", |request| {
            Reply::Answer(Answer::text(200, format!("{}", request.body.len())))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let url = server.url();
        let clients: Vec<_> = (0..32)
            .map(|i| {
                let url = url.clone();
                thread::spawn(move || {
                    let agent = client();
                    (0..3)
                        .map(|_| {
                            agent
                                .post(&url)
                                .send(&vec![b'x'; i][..])
                                .ok()
                                .and_then(|mut r| r.body_mut().read_to_string().ok())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for (i, c) in clients.into_iter().enumerate() {
            let answers = c.join().unwrap_or_default();
            assert_eq!(answers, vec![Some(i.to_string()); 3]);
        }
        server.stop();
    }

    #[test]
    fn an_answer_taken_is_written_before_stop_returns_and_withheld_ones_end() {
        let taken = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&taken);
        let server = Server::start("127.0.0.1:0", move |request| {
            if request.target == "/hang" {
                return Reply::Withhold(Withheld::new());
            }
            let counted = Arc::clone(&counted);
            Reply::Answer(Answer::text(200, "VERIFIED").on_taken(move || {
                counted.fetch_add(1, Ordering::SeqCst);
            }))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let addr = server.addr();
        let mut hung = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
        let _ = hung.write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
        let answer = client()
            .post(server.url())
            .send(&b"x"[..])
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok());
        assert_eq!(answer.as_deref(), Some("VERIFIED"));
        assert_eq!(taken.load(Ordering::SeqCst), 1);
        server.stop();
        // The withheld request ended with the server: its connection is closed, unanswered.
        let mut rest = Vec::new();
        let _ = hung.set_read_timeout(Some(Duration::from_secs(10)));
        let read = hung.read_to_end(&mut rest);
        assert!(read.is_ok() && rest.is_empty(), "{read:?} {rest:?}");
        assert!(
            TcpStream::connect(addr).is_err(),
            "still accepting after stop"
        );
    }

    #[test]
    fn a_withheld_request_ends_when_its_client_leaves() {
        let (ended, end) = std::sync::mpsc::channel::<()>();
        let ended = std::sync::Mutex::new(ended);
        let server = Server::start("127.0.0.1:0", move |_| {
            let ended = ended.lock().map(|e| e.clone()).ok();
            Reply::Withhold(Withheld::on_end(move || {
                if let Some(ended) = ended {
                    let _ = ended.send(());
                }
            }))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let mut client = TcpStream::connect(server.addr()).unwrap_or_else(|e| panic!("{e}"));
        let _ = client.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx");
        drop(client);
        // Seen by the server while it still runs: the client's leaving is the end.
        assert_eq!(end.recv_timeout(Duration::from_secs(10)), Ok(()));
        server.stop();
    }

    #[test]
    fn a_body_past_the_limit_and_a_panicking_handler_get_plain_errors() {
        let server = Server::start("127.0.0.1:0", |request| {
            assert!(request.target != "/panic", "a handler's bug");
            Reply::Answer(Answer::text(200, "ok"))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let status = |path: &str, body: Vec<u8>| {
            client()
                .post(format!("{}{path}", server.url()))
                .send(&body[..])
                .map_or(0, |r| r.status().as_u16())
        };
        assert_eq!(status("/", vec![0; MAX_BODY + 1]), 413);
        assert_eq!(status("/panic", Vec::new()), 500);
        assert_eq!(status("/", Vec::new()), 200);
        let bad = Server::start("127.0.0.1:0", |_| {
            Reply::Answer(Answer::text(200, "x").header("location", "a\nb"))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let answer = client()
            .get(bad.url())
            .call()
            .map_or(0, |r| r.status().as_u16());
        assert_eq!(answer, 500);
    }
}
