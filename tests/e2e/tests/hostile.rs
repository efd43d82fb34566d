//! The reference listener probed as an attacker, or a broken network, would probe it (issue 14's
//! table), on loopback only, each probe bounded in time. Each test is one row of the table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ipnkit_e2e::{ListenerProcess, event_keys, ipnkit_bin, test_listener_args, wait_for};
use ipnkit_server::client;
use ipnkit_server::local::{Answer, Reply, Server, Withheld};
use ipnkit_server::{Db, store};

/// The bodies a server received, in order.
type Received = Arc<Mutex<Vec<Vec<u8>>>>;

/// A server on a free loopback port answering each request with `answer(n, body)` (n counts
/// from 0), for as long as the test runs; returns its base URL and the bodies it received.
fn serve(answer: impl Fn(usize, &[u8]) -> Reply + Send + Sync + 'static) -> (String, Received) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&received);
    let count = AtomicUsize::new(0);
    let server = Server::start("127.0.0.1:0", move |request| {
        kept.lock().unwrap().push(request.body.clone());
        answer(count.fetch_add(1, Ordering::SeqCst), &request.body)
    })
    .unwrap();
    let url = server.url();
    // Serves until the test process ends.
    std::mem::forget(server);
    (url, received)
}

/// PayPal saying VERIFIED to every postback.
fn verifying() -> (String, Received) {
    serve(|_, _| Reply::Answer(Answer::new(200, "VERIFIED")))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipnkit-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A payment as PayPal would send it (signed), for this shop.
fn payment(txn: &str, extra: &str) -> Vec<u8> {
    format!(
        "txn_type=web_accept&txn_id={txn}&payment_status=Completed&mc_gross=9.00&mc_currency=USD\
         &receiver_email=shop%40example.net&verify_sign=AiPC9BjkCyDFQXbSkoZcgqH3hpacASJcFfmTSab\
         &test_ipn=1{extra}"
    )
    .into_bytes()
}

fn post(url: &str, body: &[u8]) -> u16 {
    client(Duration::from_secs(10))
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body)
        .map_or(0, |r| r.status().as_u16())
}

fn start(endpoint: &str, db: &Path, extra: &[&str]) -> ListenerProcess {
    let mut args = test_listener_args(endpoint, db);
    if extra.contains(&"--listen") {
        // The test's address instead of any free port.
        let at = args.iter().position(|a| a == "--listen").unwrap();
        args.drain(at..at + 2);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    ListenerProcess::spawn(&args)
}

fn metric(listener: &ListenerProcess, name: &str) -> f64 {
    let text = listener.get("/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
}

/// Sends `head` (and `body`) on a raw connection and reads the answer's status line, if any
/// comes within `wait`.
fn raw(address: &str, head: &str, body: &[u8], wait: Duration) -> Option<String> {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    status_line(&mut stream)
}

fn status_line(stream: &mut TcpStream) -> Option<String> {
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while stream.read(&mut byte).ok()? == 1 {
        if byte[0] == b'\n' {
            break;
        }
        answer.push(byte[0]);
    }
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).trim().to_owned())
}

fn counts(db: &Path) -> ipnkit_server::Counts {
    store::open(&Db::from(db)).unwrap().counts().unwrap()
}

/// A real message is stored and answered 200 — the listener is still doing its job.
fn still_answers(listener: &ListenerProcess, txn: &str) {
    assert_eq!(
        post(&listener.url, &payment(txn, "")),
        200,
        "{}",
        listener.log()
    );
}

#[test]
fn a_declared_length_past_the_limit_is_refused_before_reading() {
    let dir = scratch("length");
    let (endpoint, _) = verifying();
    let mut listener = start(&endpoint, &dir.join("db.sqlite"), &[]);
    let address = listener.address();
    for length in ["1000000000000", "18446744073709551615"] {
        for _ in 0..20 {
            let head = format!(
                "POST /ipn HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
            );
            let answer = raw(&address, &head, b"abc", Duration::from_secs(5)).unwrap_or_default();
            // 18446744073709551615 is past what hyper reads as a length at all: refused with the
            // head (431), before the listener sees the request.
            assert!(
                answer == "HTTP/1.1 413 Payload Too Large"
                    || (length.len() == 20
                        && answer == "HTTP/1.1 431 Request Header Fields Too Large"),
                "{length}: {answer}"
            );
        }
    }
    // A length that does not even parse as a number: refused by hyper (400), nothing stored.
    let head = "POST /ipn HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n";
    let answer = raw(&address, head, b"abc", Duration::from_secs(5)).unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(listener.is_running());
    still_answers(&listener, "LENGTH000000001");
    let c = counts(&dir.join("db.sqlite"));
    assert_eq!((c.unsettled() + c.settled(), c.junk), (1, 0), "{c:?}");
    assert!(metric(&listener, "ipnkit_too_large_total") >= 20.0);
}

#[test]
fn stalled_bodies_do_not_hold_up_real_messages() {
    let dir = scratch("stall");
    let (endpoint, _) = verifying();
    let db = dir.join("db.sqlite");
    let listener = start(&endpoint, &db, &["--body-timeout", "2"]);
    let address = listener.address();
    let message = payment("STALL0000000001", "");
    let mut stalled = Vec::new();
    for kind in 0..24 {
        let mut stream = TcpStream::connect(&address).unwrap();
        let head = match kind % 3 {
            0 => format!(
                "POST /ipn HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                message.len()
            ),
            1 => "POST /ipn HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n".into(),
            _ => format!(
                "POST /ipn HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                message.len()
            ),
        };
        stream.write_all(head.as_bytes()).unwrap();
        if kind % 3 != 2 {
            stream.write_all(&message[..10]).unwrap();
        }
        stalled.push(stream);
    }
    let started = Instant::now();
    still_answers(&listener, "STALL0000000002");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a real message waited {:?} behind stalled ones",
        started.elapsed()
    );
    // Each stalled request ends: 408 once its body is late, or closed; never stored.
    for mut stream in stalled {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.is_empty()
                || answer.starts_with("HTTP/1.1 408")
                || answer.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 408"),
            "{answer:?}"
        );
    }
    let c = counts(&db);
    assert_eq!((c.unsettled() + c.settled(), c.junk), (1, 0), "{c:?}");
    assert!(metric(&listener, "ipnkit_body_timeouts_total") >= 24.0);
}

#[test]
fn idle_connections_past_the_cap_do_not_stop_the_listener() {
    let dir = scratch("idle");
    let (endpoint, _) = verifying();
    let listener = start(
        &endpoint,
        &dir.join("db.sqlite"),
        &["--max-connections", "16", "--header-timeout", "2"],
    );
    let idle: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(listener.address()).unwrap())
        .collect();
    // Those past the cap are closed at once; the others when their head is late.
    wait_for(
        Duration::from_secs(10),
        "the idle connections to be closed",
        || {
            idle.iter()
                .all(|s| {
                    s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
                    matches!((&*s).read(&mut [0u8; 1]), Ok(0))
                })
                .then_some(())
        },
    );
    still_answers(&listener, "IDLE00000000001");
    assert!(metric(&listener, "ipnkit_connections_refused_total") >= 48.0);
    assert!(
        listener.log().contains("connection limit reached"),
        "{}",
        listener.log()
    );
}

#[test]
fn huge_headers_are_refused_while_reading() {
    let dir = scratch("headers");
    let (endpoint, _) = verifying();
    let mut listener = start(&endpoint, &dir.join("db.sqlite"), &[]);
    let address = listener.address();
    // One 200 MB header line: refused after the first 16 KiB; the client cannot even send it.
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"POST /ipn HTTP/1.1\r\nHost: x\r\nX-Long: ")
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let mut sent = 0usize;
    while sent < 200 << 20 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    assert!(sent < 200 << 20, "the listener read a 200 MB header");
    let answer = status_line(&mut stream).unwrap_or_default();
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    // A million headers: the same.
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(b"POST /ipn HTTP/1.1\r\nHost: x\r\n");
    let many = b"X-H: 1\r\n".repeat(1000);
    let mut refused = false;
    for _ in 0..1000 {
        if stream.write_all(&many).is_err() {
            refused = true;
            break;
        }
    }
    let answer = status_line(&mut stream).unwrap_or_default();
    assert!(refused || answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(listener.is_running());
    let rss_kib = listener.rss_kib();
    assert!(rss_kib < 64 * 1024, "resident memory {rss_kib} KiB");
    still_answers(&listener, "HEADERS00000001");
}

#[test]
fn a_full_disk_backs_off_and_logs() {
    // A 1 MiB file system holding the store, filled while a postback is in flight.
    let dir = scratch("full");
    let mount = dir.join("small");
    std::fs::create_dir_all(&mount).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mount)
        .status()
        .unwrap();
    assert!(
        mounted.success(),
        "this test mounts a small tmpfs to fill it: it needs root (or CAP_SYS_ADMIN)"
    );
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.clone());
    let filler = mount.join("filler");
    let fill = filler.clone();
    let (endpoint, postbacks) = serve(move |n, _| {
        // The disk fills while PayPal answers the first postback.
        if n == 0
            && let Ok(mut file) = std::fs::File::create(&fill)
        {
            let _ = file.write_all(&vec![0u8; 2 << 20]);
            let _ = file.sync_all();
        }
        Reply::Answer(Answer::new(200, "VERIFIED"))
    });
    let db = mount.join("db.sqlite");
    let listener = start(&endpoint, &db, &["--postback-timeout", "1"]);
    still_answers(&listener, "FULLDISK0000001");
    // The first postback fills the disk: settling it fails, is logged with the pause that
    // follows, and the message is left to its lease (never posted back again at once).
    let failed = wait_for(Duration::from_secs(30), "the failed settle logged", || {
        let log = listener.log();
        log.contains("retried when its lease ends")
            .then(|| {
                log.lines()
                    .find(|l| l.contains("cannot settle a message"))
                    .map(str::to_owned)
            })
            .flatten()
    });
    assert!(failed.contains("pause_ms="), "{failed}");
    assert_eq!(postbacks.lock().unwrap().len(), 1, "{}", listener.log());
    // Space again: the message is taken up again when its lease ends, and settled.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let c = loop {
        let c = store::open(&Db::from(db.as_path()))
            .ok()
            .and_then(|mut s| s.counts().ok());
        if let Some(c) = c.filter(|c| c.accepted + c.refused == 1) {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: {c:?}\n{}",
            listener.log()
        );
        thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(c.unsettled(), 0, "{c:?}");
    // Posted back again once its lease ended, not in a loop while the disk was full.
    let posted = postbacks.lock().unwrap().len();
    assert!((2..=3).contains(&posted), "{posted} postbacks");
    drop(listener);
}

#[test]
fn a_redirect_from_the_verification_endpoint_is_never_followed() {
    // Elsewhere: says VERIFIED to anything.
    let (elsewhere, reached) = verifying();
    // The verification endpoint redirects every postback there, with each redirect status in turn.
    let target = format!("{elsewhere}/cgi-bin/webscr");
    let (endpoint, postbacks) = serve(move |n, _| {
        let status = [301, 302, 303, 307, 308][n % 5];
        Reply::Answer(Answer::new(status, "").header("location", target.clone()))
    });
    let dir = scratch("redirect");
    let (db, events) = (dir.join("ipn.sqlite"), dir.join("events.jsonl"));
    let events_arg = events.display().to_string();
    let listener = start(
        &endpoint,
        &db,
        &["--postback-timeout", "2", "--events-file", &events_arg],
    );
    still_answers(&listener, "REDIRECT0000001");

    // Every redirect status seen, each answer kept as unexpected and posted back again.
    wait_for(Duration::from_secs(30), "five postbacks", || {
        let followed = !reached.lock().unwrap().is_empty();
        (followed || postbacks.lock().unwrap().len() >= 5).then_some(())
    });
    listener.kill();
    assert!(
        reached.lock().unwrap().is_empty(),
        "a redirect was followed"
    );
    let c = counts(&db);
    assert_eq!((c.received, c.accepted), (1, 0), "{c:?}");
    let written = std::fs::read_to_string(&events).unwrap_or_default();
    assert_eq!(written, "", "an event was emitted");
}

#[test]
fn a_postback_without_an_answer_is_logged_with_why() {
    // Nothing listens at the verification address: each postback's connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = scratch("no-answer");
    let listener = start(&endpoint, &dir.join("ipn.sqlite"), &[]);
    still_answers(&listener, "NOANSWER0000001");
    let line = wait_for(Duration::from_secs(10), "a failed postback logged", || {
        listener
            .log()
            .lines()
            .find(|l| l.contains("no usable answer"))
            .map(str::to_owned)
    });
    assert!(line.contains(r#"reason="no_answer""#), "{line}");
    // What the HTTP client said, for whoever reads the log at 3 a.m.
    assert!(
        line.contains("failure=") && line.contains("refused"),
        "{line}"
    );
}

/// Each postback a server read: (connection, postback on that connection), in the order read.
type Seen = Arc<Mutex<Vec<(usize, usize)>>>;

/// PayPal closing a kept-alive connection under its client (issue 35): each connection's
/// postbacks are answered VERIFIED, keeping the connection alive, but for the second one made on
/// the first connection, which is read to its end and then met with the connection closed, as
/// when the server closes an idle connection just as the client reuses it. Returns the base URL
/// and what it read.
fn closing_after_the_first_answer() -> (String, Seen) {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    thread::spawn(move || {
        for (connection, stream) in server.incoming().enumerate() {
            let Ok(stream) = stream else { continue };
            let seen = Arc::clone(&kept);
            thread::spawn(move || {
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                for n in 0.. {
                    let Some(length) = read_head(&mut reader) else {
                        return;
                    };
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    seen.lock().unwrap().push((connection, n));
                    if (connection, n) == (0, 1) {
                        return; // closed, unanswered
                    }
                    let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                                  Content-Length: 8\r\n\r\nVERIFIED";
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

/// Reads a request's head; its Content-Length, or `None` at the end of the stream.
fn read_head(reader: &mut impl std::io::BufRead) -> Option<usize> {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Some(length);
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
}

#[test]
fn a_postback_that_meets_a_closed_connection_is_sent_again_at_once_on_a_new_one() {
    let (endpoint, seen) = closing_after_the_first_answer();
    let dir = scratch("closed-connection");
    let db = dir.join("ipn.sqlite");
    // One worker: one client, whose kept-alive connection the second postback reuses.
    let listener = start(&endpoint, &db, &["--workers", "1"]);
    let settled = |n: i64| {
        let db = db.clone();
        move || {
            let c = counts(&db);
            (c.unsettled() == 0 && c.accepted + c.refused == n).then_some(c)
        }
    };
    still_answers(&listener, "CLOSED000000001");
    wait_for(
        Duration::from_secs(10),
        "the first message settled",
        settled(1),
    );
    still_answers(&listener, "CLOSED000000002");
    let c = wait_for(
        Duration::from_secs(10),
        "the second message settled",
        settled(2),
    );
    assert_eq!((c.invalid, c.unreadable), (0, 0), "both verified: {c:?}");
    // The second postback met the closed connection, and was made again at once on a new one:
    // never taken as an answer, never left for a retry.
    assert_eq!(*seen.lock().unwrap(), [(0, 0), (0, 1), (1, 0)]);
    let log = listener.log();
    assert!(
        log.contains("the postback met a closed connection: sent again on a new one"),
        "{log}"
    );
    assert!(!log.contains("no usable answer"), "{log}");
    assert_eq!(metric(&listener, "ipnkit_unexpected_total"), 0.0);
    assert_eq!(metric(&listener, "ipnkit_postbacks_sent_again_total"), 1.0);
}

#[test]
fn junk_is_kept_apart_and_never_posted_back() {
    let dir = scratch("junk");
    let (endpoint, postbacks) = verifying();
    let db = dir.join("db.sqlite");
    let listener = start(&endpoint, &db, &[]);
    let url = listener.url.clone();
    thread::scope(|scope| {
        for t in 0..4 {
            let url = &url;
            scope.spawn(move || {
                let agent = client(Duration::from_secs(10));
                for i in 0..1250 {
                    // Form-shaped, with everything but PayPal's signature.
                    let body = format!(
                        "txn_type=web_accept&txn_id=JUNK{t}{i:08}&payment_status=Completed\
                         &mc_gross=100.00&mc_currency=USD&receiver_email=shop%40example.net"
                    );
                    let status = agent.post(url).send(body.as_bytes()).unwrap().status();
                    assert_eq!(status, 200);
                }
            });
        }
    });
    // A real message after the junk is verified at once: the junk is not in its way.
    still_answers(&listener, "REAL00000000001");
    wait_for(Duration::from_secs(10), "the real message settled", || {
        (counts(&db).unsettled() == 0).then_some(())
    });
    let posted = postbacks.lock().unwrap().clone();
    assert_eq!(posted.len(), 1, "junk was posted back");
    assert!(posted[0].windows(15).any(|w| w == b"REAL00000000001"));
    let c = counts(&db);
    assert_eq!(c.unsettled() + c.settled(), 1, "{c:?}");
    assert!((1..=5000).contains(&c.junk), "{c:?}");
    assert_eq!(metric(&listener, "ipnkit_junk_total"), 5000.0);
    // Junk bodies are kept only in part, and pruned by count and age: the store stays small.
    let size = std::fs::metadata(&db).unwrap().len()
        + std::fs::metadata(db.with_extension("sqlite-wal")).map_or(0, |m| m.len());
    assert!(size < 8 << 20, "store {size} bytes");
}

#[test]
fn a_read_only_store_is_refused_at_start() {
    // A store another user owns, with its WAL present (a listener of that user still open):
    // the listener started as `nobody` cannot write it.
    let dir = scratch("readonly");
    let db = dir.join("db.sqlite");
    let mut owner = store::open(&Db::from(db.as_path())).unwrap();
    owner.insert(&payment("READONLY0000001", ""), None).unwrap();
    assert!(db.with_extension("sqlite-wal").exists());
    let output = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(ipnkit_bin())
        .args([
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--env",
            "sandbox",
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("runuser (util-linux) runs the listener as another user");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(!stderr.contains("receiving at"), "{stderr}");
    assert!(stderr.contains("can only be read"), "{stderr}");
    drop(owner);
}

#[test]
fn a_truncated_body_is_never_stored() {
    let dir = scratch("truncated");
    let (endpoint, postbacks) = verifying();
    let db = dir.join("db.sqlite");
    let listener = start(&endpoint, &db, &[]);
    let message = payment("TRUNCATED000001", "");
    let mut stream = TcpStream::connect(listener.address()).unwrap();
    let head = format!(
        "POST /ipn HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        message.len() + 100
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&message).unwrap();
    drop(stream);
    wait_for(Duration::from_secs(10), "the cut to be seen", || {
        (metric(&listener, "ipnkit_truncated_total") >= 1.0).then_some(())
    });
    still_answers(&listener, "WHOLE0000000001");
    wait_for(Duration::from_secs(10), "the whole message settled", || {
        (counts(&db).unsettled() == 0).then_some(())
    });
    let c = counts(&db);
    assert_eq!((c.settled(), c.junk), (1, 0), "{c:?}");
    let posted = postbacks.lock().unwrap();
    assert!(
        posted
            .iter()
            .all(|p| !p.windows(15).any(|w| w == b"TRUNCATED000001"))
    );
}

/// A listener whose PayPal verifies everything, with the shop's `orders`; delivers `messages`
/// and returns the event lines once every message is settled, and the store.
fn verified_events(
    name: &str,
    orders: &str,
    messages: &[Vec<u8>],
) -> (Vec<serde_json::Value>, PathBuf, ListenerProcess) {
    let dir = scratch(name);
    let (endpoint, _) = verifying();
    let (db, events, orders_file) = (
        dir.join("db.sqlite"),
        dir.join("events.jsonl"),
        dir.join("orders.jsonl"),
    );
    std::fs::write(&orders_file, orders).unwrap();
    let (events_arg, orders_arg) = (
        events.display().to_string(),
        orders_file.display().to_string(),
    );
    let listener = start(
        &endpoint,
        &db,
        &["--events-file", &events_arg, "--orders-file", &orders_arg],
    );
    for message in messages {
        assert_eq!(post(&listener.url, message), 200);
    }
    wait_for(Duration::from_secs(30), "every message settled", || {
        let c = counts(&db);
        (c.settled() == messages.len() as i64).then_some(())
    });
    let lines = wait_for(Duration::from_secs(10), "every event written", || {
        // The outbox first, then the file: an event marked sent is already in the file, so a
        // file read after an empty outbox holds every line (read the other way round, the last
        // line could be written and marked between the two reads, and be missed).
        let unsent = metric(&listener, "ipnkit_events_unsent");
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        let n = text.lines().count();
        (n > 0 && unsent == 0.0).then_some(text)
    });
    let events = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (events, db, listener)
}

fn field<'e>(event: &'e serde_json::Value, name: &str) -> &'e str {
    event[name].as_str().unwrap_or_default()
}

#[test]
fn a_payment_of_another_amount_than_its_order_is_refused() {
    let orders = r#"{"invoice": "order-100", "amount": "100.00", "currency": "USD"}
{"invoice": "order-eur", "amount": "9.00", "currency": "EUR"}
{"invoice": "order-ok", "amount": "9.00", "currency": "USD"}"#;
    let underpaid = String::from_utf8(payment("AMOUNT000000001", "&invoice=order-100"))
        .unwrap()
        .replace("mc_gross=9.00", "mc_gross=0.01")
        .into_bytes();
    let messages = vec![
        underpaid,
        payment("CURRENCY0000001", "&invoice=order-eur"),
        payment("NOORDER00000001", "&invoice=order-unknown"),
        payment("MATCHED00000001", "&invoice=order-ok"),
    ];
    let (events, _, _) = verified_events("amount", orders, &messages);
    let by_txn = |txn: &str| {
        events
            .iter()
            .find(|e| e["message"]["txn_id"] == txn)
            .unwrap_or_else(|| panic!("no event for {txn}: {events:?}"))
    };
    for (txn, code) in [
        ("AMOUNT000000001", "amount_mismatch"),
        ("CURRENCY0000001", "currency_mismatch"),
        ("NOORDER00000001", "order_not_found"),
    ] {
        let event = by_txn(txn);
        assert_eq!(field(event, "outcome"), "refused", "{event}");
        assert_eq!(event["ship"], false, "{event}");
        assert!(
            event["violations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == code),
            "{event}"
        );
    }
    let matched = by_txn("MATCHED00000001");
    assert_eq!(
        (field(matched, "outcome"), &matched["ship"]),
        ("accepted", &serde_json::Value::Bool(true))
    );
    assert_eq!(events.len(), 4);
}

#[test]
fn refunds_reversals_denials_and_cancelled_reversals_reach_the_sink() {
    let signed = |body: &str| {
        format!("{body}&receiver_email=shop%40example.net&mc_currency=USD&verify_sign=AiPC9Bjk&test_ipn=1")
            .into_bytes()
    };
    let messages = vec![
        signed(
            "txn_type=web_accept&txn_id=REFUND000000001&parent_txn_id=PAID00000000001&payment_status=Refunded&reason_code=refund&mc_gross=-9.00",
        ),
        signed(
            "txn_type=web_accept&txn_id=REVERSAL0000001&parent_txn_id=PAID00000000002&payment_status=Reversed&reason_code=chargeback&mc_gross=-9.00",
        ),
        signed("txn_type=web_accept&txn_id=DENIED000000001&payment_status=Denied&mc_gross=9.00"),
        signed(
            "txn_type=web_accept&txn_id=CANCELREV000001&parent_txn_id=PAID00000000002&payment_status=Canceled_Reversal&reason_code=other&mc_gross=9.00",
        ),
    ];
    let (events, _, _) = verified_events("refunds", "", &messages);
    let mut seen: Vec<(&str, &str, bool)> = events
        .iter()
        .map(|e| (field(e, "event"), field(e, "outcome"), e["ship"] == true))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            ("payment_denied", "accepted", false),
            ("payment_refunded", "accepted", false),
            ("payment_reversed", "accepted", false),
            ("reversal_canceled", "accepted", false),
        ]
    );
}

#[test]
fn a_verified_message_that_cannot_be_read_is_kept_reported_and_reprocessed() {
    // A value that is not UTF-8 in a message that says it is.
    let message = payment("UNREADABLE00001", "&charset=UTF-8&first_name=J%F6rg");
    let (events, db, listener) = verified_events("unreadable", "", std::slice::from_ref(&message));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(field(&events[0], "outcome"), "unreadable");
    assert_eq!(events[0]["error"]["field"], "first_name", "{}", events[0]);
    let outcomes = store::open(&Db::from(db.as_path()))
        .unwrap()
        .outcomes()
        .unwrap();
    assert_eq!(
        (outcomes[0].state.as_str(), outcomes[0].field.as_deref()),
        ("unreadable", Some("first_name"))
    );
    assert_eq!(
        store::open(&Db::from(db.as_path()))
            .unwrap()
            .body(outcomes[0].id)
            .unwrap()
            .unwrap(),
        message
    );
    // --reprocess reads it again, without posting it back: the same version says the same.
    let address = listener.address();
    assert!(listener.terminate());
    let dir = db.parent().unwrap();
    let events_arg = dir.join("events.jsonl").display().to_string();
    let again = start(
        "http://127.0.0.1:1",
        &db,
        &[
            "--listen",
            &address,
            "--reprocess",
            "--events-file",
            &events_arg,
        ],
    );
    let text = wait_for(Duration::from_secs(20), "a second report", || {
        let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
        (text.lines().count() == 2).then_some(text)
    });
    assert!(
        text.lines()
            .all(|l| l.contains(r#""outcome":"unreadable""#)),
        "{text}"
    );
    assert_eq!(counts(&db).unreadable, 1);
    drop(again);
}

#[test]
fn a_hung_postback_never_delays_other_messages() {
    let dir = scratch("hung");
    let (endpoint, postbacks) = serve(|_, body| {
        if body.windows(4).any(|w| w == b"HUNG") {
            return Reply::Withhold(Withheld::new());
        }
        Reply::Answer(Answer::new(200, "VERIFIED"))
    });
    let db = dir.join("db.sqlite");
    let listener = start(&endpoint, &db, &["--postback-timeout", "30"]);
    assert_eq!(post(&listener.url, &payment("HUNG00000000001", "")), 200);
    // The hung postback holds a worker before the others come.
    wait_for(Duration::from_secs(10), "the hung postback made", || {
        let made = postbacks
            .lock()
            .unwrap()
            .iter()
            .any(|b| b.windows(4).any(|w| w == b"HUNG"));
        made.then_some(())
    });
    for i in 0..20 {
        still_answers(&listener, &format!("OTHER{i:010}"));
    }
    let c = wait_for(Duration::from_secs(10), "the 20 others settled", || {
        let c = counts(&db);
        (c.settled() == 20).then_some(c)
    });
    assert_eq!(c.unsettled(), 1, "{c:?}");
}

#[test]
fn sigterm_finishes_requests_in_flight_and_hands_over_every_event_once() {
    let dir = scratch("sigterm");
    let (endpoint, _) = verifying();
    let (db, events) = (dir.join("db.sqlite"), dir.join("events.jsonl"));
    let events_arg = events.display().to_string();
    let refund = |txn: &str| {
        format!("txn_type=web_accept&txn_id={txn}&parent_txn_id=P{txn}&payment_status=Refunded&reason_code=refund\
                 &mc_gross=-1.00&mc_currency=USD&receiver_email=shop%40example.net&verify_sign=A1&test_ipn=1")
            .into_bytes()
    };
    let mut address = "127.0.0.1:0".to_owned();
    let mut sent = 0;
    for round in 0..3 {
        let listener = start(
            &endpoint,
            &db,
            &["--listen", &address, "--events-file", &events_arg],
        );
        address = listener.address();
        for i in 0..10 {
            assert_eq!(
                post(&listener.url, &refund(&format!("SIGTERM{round}{i:07}"))),
                200
            );
            sent += 1;
        }
        // A request half sent when SIGTERM comes: finished and answered.
        let message = refund(&format!("SIGTERM{round}HALF001"));
        let mut stream = TcpStream::connect(&address).unwrap();
        let head = format!(
            "POST /ipn HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            message.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&message[..20]).unwrap();
        wait_for(
            Duration::from_secs(10),
            "the half-sent request being read",
            || (metric(&listener, "ipnkit_deliveries_in_flight") >= 1.0).then_some(()),
        );
        let pid = listener.pid();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        wait_for(Duration::from_secs(10), "the SIGTERM taken", || {
            listener
                .log()
                .contains("SIGTERM: shutting down")
                .then_some(())
        });
        stream.write_all(&message[20..]).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(status_line(&mut stream).as_deref(), Some("HTTP/1.1 200 OK"));
        sent += 1;
        assert!(listener.wait_success(), "exit after SIGTERM");
    }
    // Once more, until everything is settled and handed over.
    let listener = start(
        &endpoint,
        &db,
        &["--listen", &address, "--events-file", &events_arg],
    );
    wait_for(
        Duration::from_secs(20),
        "everything settled and handed over",
        || {
            let settled = counts(&db).unsettled() == 0;
            (settled && metric(&listener, "ipnkit_events_unsent") == 0.0).then_some(())
        },
    );
    assert!(listener.terminate());
    // Every message settled and every event written exactly once, under distinct ids.
    let mut store = store::open(&Db::from(db.as_path())).unwrap();
    let c = store.counts().unwrap();
    assert_eq!((c.accepted, c.unsettled()), (sent, 0), "{c:?}");
    let text = std::fs::read_to_string(&events).unwrap();
    let keys = event_keys(&text);
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "an event was written twice");
    assert_eq!(keys.len() as i64, sent);
}

#[test]
fn a_closed_standard_error_never_stops_the_work() {
    // An operator's pipe to a log collector dies: every log line then fails to be written.
    let dir = scratch("stderr");
    let (endpoint, _) = verifying();
    let db = dir.join("db.sqlite");
    let mut child = std::process::Command::new(ipnkit_bin())
        .arg("listen")
        .args(test_listener_args(&endpoint, &db))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read up to the line that says where it receives (a log line of another thread may come
    // first), then the reader is gone: the pipe is closed.
    let url = {
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        loop {
            let mut line = String::new();
            let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
            assert!(
                read > 0,
                "the listener ended before saying where it receives"
            );
            if let Some(url) = line.trim().strip_prefix("ipnkit listen: receiving at ") {
                break url.to_owned();
            }
        }
    };
    // More messages than postback workers: a worker that died at its first log line would
    // leave the rest unsettled.
    for i in 0..20 {
        assert_eq!(post(&url, &payment(&format!("STDERR{i:09}"), "")), 200);
    }
    let settled = wait_for(Duration::from_secs(20), "twenty messages settled", || {
        let c = counts(&db);
        (c.settled() == 20).then_some(c)
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(settled.unsettled(), 0);
}

#[test]
fn the_stand_ins_defaults_outlast_the_listeners_timeouts() {
    // The README's two commands, with every fault on (a dropped postback is one the listener
    // waits its whole --postback-timeout for) and the stand-in's default --linger.
    let dir = scratch("defaults");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stand_in = format!("127.0.0.1:{port}");
    let db = dir.join("db.sqlite");
    let listener = start(
        &format!("http://{stand_in}"),
        &db,
        &["--postback-timeout", "10"],
    );
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let output = std::process::Command::new(ipnkit_bin())
        .args([
            "sandbox",
            "--listen",
            &stand_in,
            "--deliver-to",
            &listener.url,
        ])
        .args(["--faults", "all"])
        .arg(&vectors)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    assert!(output.status.success(), "{report}");
    assert_eq!(report["unverified"], 0, "{report}");
    assert!(report["faulted"].as_u64().unwrap() > 0, "{report}");
    // Every message was verified before the stand-in left: the listener settles each.
    wait_for(Duration::from_secs(10), "every message settled", || {
        (counts(&db).unsettled() == 0).then_some(())
    });
    drop(listener);
}

#[test]
fn orders_are_asked_of_the_shop_and_an_unreachable_shop_is_asked_again() {
    // The shop: order-ok is 9.00 USD; order-gone does not exist; order-flaky fails twice first.
    let asked = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::clone(&asked);
    let flaky = Arc::new(AtomicUsize::new(0));
    let shop = Server::start("127.0.0.1:0", move |request| {
        let url = request.target;
        log.lock().unwrap().push(url.clone());
        let json = |status: u16, body: &'static str| {
            Reply::Answer(Answer::new(status, body).header("content-type", "application/json"))
        };
        if url.contains("invoice=order-ok") {
            json(200, r#"{"amount": "9.00", "currency": "USD"}"#)
        } else if url.contains("invoice=order-flaky") {
            if flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                json(503, "<html>busy</html>")
            } else {
                json(200, r#"{"amount": "9.00", "currency": "USD"}"#)
            }
        } else {
            json(404, "{}")
        }
    })
    .unwrap();
    let shop_url = format!("{}/orders", shop.url());
    let dir = scratch("orders-url");
    let (endpoint, _) = verifying();
    let (db, events) = (dir.join("db.sqlite"), dir.join("events.jsonl"));
    let events_arg = events.display().to_string();
    let listener = start(
        &endpoint,
        &db,
        &["--orders-url", &shop_url, "--events-file", &events_arg],
    );
    for (txn, invoice) in [
        ("ORDEROK00000001", "order-ok"),
        ("ORDERGONE000001", "order-gone"),
        ("ORDERFLAKY00001", "order-flaky"),
    ] {
        let message = payment(
            txn,
            &format!("&invoice={invoice}&custom=c-{txn}&item_number=SKU-1"),
        );
        assert_eq!(post(&listener.url, &message), 200);
    }
    wait_for(Duration::from_secs(20), "three events", || {
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        (text.lines().count() == 3).then_some(())
    });
    let text = std::fs::read_to_string(&events).unwrap();
    let outcome = |txn: &str| {
        let line = text.lines().find(|l| l.contains(txn)).unwrap();
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        (
            e["outcome"].as_str().unwrap().to_owned(),
            e["ship"] == true,
            e["order"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        outcome("ORDEROK00000001"),
        ("accepted".into(), true, "found".into())
    );
    assert_eq!(
        outcome("ORDERGONE000001"),
        ("refused".into(), false, "not_found".into())
    );
    assert_eq!(
        outcome("ORDERFLAKY00001"),
        ("accepted".into(), true, "found".into())
    );
    let asked = asked.lock().unwrap();
    // Asked with the message's references; the unreachable answers asked again, never skipped.
    assert!(
        asked.iter().any(|u| u.contains("invoice=order-ok")
            && u.contains("custom=c-ORDEROK00000001")
            && u.contains("item_number=SKU-1")),
        "{asked:?}"
    );
    assert_eq!(
        asked.iter().filter(|u| u.contains("order-flaky")).count(),
        3,
        "{asked:?}"
    );
    assert!(metric(&listener, "ipnkit_order_lookups_failed_total") >= 2.0);
    // The health endpoint says all is well.
    assert_eq!(listener.get("/health"), r#"{"status":"ok","unsettled":0}"#);
}
