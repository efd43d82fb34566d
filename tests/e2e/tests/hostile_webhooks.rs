//! The listener's webhook path probed as the IPN path is (`hostile.rs`): bodies past the limit,
//! stalled and cut-short bodies, floods of headers, and PayPal's headers missing, repeated,
//! oversized or malformed. None is stored; each is answered at once and says which header, never
//! its value; a real-looking webhook is stored meanwhile.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ipnkit_e2e::{ListenerProcess, test_listener_args, wait_for};
use ipnkit_server::{Db, client, store};

/// The body of the webhooks sent here (PayPal's shape; verification fails, which is not what
/// these probes are about).
const BODY: &[u8] = br#"{"id":"WH-HOSTILE-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"HOSTILE00000001","status":"COMPLETED"}}"#;

/// PayPal's five headers, well-formed; the certificate URL on a host the core refuses, so that
/// nothing is ever fetched.
fn headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "PAYPAL-TRANSMISSION-ID",
            "b2384410-f8d2-11ec-8fcb-a1ad7b4e08f2".into(),
        ),
        ("PAYPAL-TRANSMISSION-TIME", "2026-12-07T10:00:00Z".into()),
        ("PAYPAL-TRANSMISSION-SIG", "c2lnbmF0dXJl".into()),
        (
            "PAYPAL-CERT-URL",
            "https://certs.example.net/v1/notifications/certs/CERT-1".into(),
        ),
        ("PAYPAL-AUTH-ALGO", "SHA256withRSA".into()),
    ]
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipnkit-hostile-wh-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A listener taking webhooks at `/webhook` (postbacks go nowhere: no IPN is sent here).
fn start(db: &Path, extra: &[&str]) -> ListenerProcess {
    let mut args = test_listener_args("http://127.0.0.1:9", db);
    args.extend(["--webhook-id", "WH-HOSTILE"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    ListenerProcess::spawn(&args)
}

fn webhook_url(listener: &ListenerProcess) -> String {
    format!("{}/webhook", listener.base())
}

/// POSTs `body` with `headers` to the webhook path: the status and the answer's text.
fn post(listener: &ListenerProcess, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
    let mut call = client(Duration::from_secs(10))
        .post(&webhook_url(listener))
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        call = call.header(*name, value);
    }
    let mut answer = call.send(body).unwrap();
    (
        answer.status().as_u16(),
        answer.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn raw_head(length: &str, extra: &str) -> String {
    let mut head = format!(
        "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
    );
    for (name, value) in headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(extra);
    head.push_str("\r\n");
    head
}

fn status_line(stream: &mut TcpStream) -> String {
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

fn counts(db: &Path) -> ipnkit_server::Counts {
    store::open(&Db::from(db)).unwrap().counts().unwrap()
}

/// A real-looking webhook is stored (and refused for its certificate URL, without a fetch).
fn still_stores(listener: &ListenerProcess) {
    let started = Instant::now();
    assert_eq!(post(listener, &headers(), BODY), (200, String::new()));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a webhook waited {:?}",
        started.elapsed()
    );
}

#[test]
fn bodies_and_heads_past_the_limits_are_refused_while_reading() {
    let dir = scratch("limits");
    let db = dir.join("db.sqlite");
    let listener = start(&db, &[]);
    let address = listener.address();
    // A declared length past the webhook limit (1 MiB): 413 before a byte of it is read.
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(raw_head("1048577", "").as_bytes())
        .unwrap();
    assert_eq!(status_line(&mut stream), "HTTP/1.1 413 Payload Too Large");
    // A chunked body that grows past it: 413 once it does.
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = raw_head("0", "").replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..17 {
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|()| stream.write_all(&chunk))
            .and_then(|()| stream.write_all(b"\r\n"))
            .is_err()
        {
            break;
        }
    }
    assert_eq!(status_line(&mut stream), "HTTP/1.1 413 Payload Too Large");
    // A flood of headers, and one huge header: 431 from the HTTP layer.
    let flood: String = (0..100).map(|i| format!("X-Flood-{i}: y\r\n")).collect();
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(raw_head("2", &flood).as_bytes()).unwrap();
    let _ = stream.write_all(b"{}");
    assert_eq!(
        status_line(&mut stream),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    let huge = format!("X-Long: {}\r\n", "a".repeat(20_000));
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(raw_head("2", &huge).as_bytes());
    assert_eq!(
        status_line(&mut stream),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    still_stores(&listener);
    let c = counts(&db);
    assert_eq!((c.unsettled() + c.settled(), c.junk), (1, 0), "{c:?}");
}

#[test]
fn stalled_and_cut_short_bodies_are_never_stored() {
    let dir = scratch("stall");
    let db = dir.join("db.sqlite");
    let listener = start(&db, &["--body-timeout", "2"]);
    let address = listener.address();
    let mut stalled = Vec::new();
    for _ in 0..12 {
        let mut stream = TcpStream::connect(&address).unwrap();
        let head = raw_head(&BODY.len().to_string(), "");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&BODY[..10]).unwrap();
        stalled.push(stream);
    }
    // One cut short: the connection closes before the declared length.
    let mut cut = TcpStream::connect(&address).unwrap();
    cut.write_all(raw_head(&(BODY.len() + 50).to_string(), "").as_bytes())
        .unwrap();
    cut.write_all(BODY).unwrap();
    drop(cut);
    still_stores(&listener);
    for mut stream in stalled {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let line = status_line(&mut stream);
        assert!(
            line.is_empty() || line == "HTTP/1.1 408 Request Timeout",
            "{line}"
        );
    }
    wait_for(Duration::from_secs(10), "the webhook settled", || {
        (counts(&db).unsettled() == 0).then_some(())
    });
    let c = counts(&db);
    assert_eq!((c.invalid, c.settled(), c.junk), (1, 1, 0), "{c:?}");
    let outcome = &store::open(&Db::from(db.as_path()))
        .unwrap()
        .outcomes()
        .unwrap()[0];
    assert_eq!(outcome.detail.as_deref(), Some("cert_url_host"));
}

#[test]
fn paypals_headers_missing_repeated_or_malformed_are_named_never_echoed() {
    let dir = scratch("headers");
    let db = dir.join("db.sqlite");
    let listener = start(&db, &[]);
    let secret = "SECRET-VALUE-1234";
    let without = |name: &str| -> Vec<(&'static str, String)> {
        headers().into_iter().filter(|(n, _)| *n != name).collect()
    };
    let with = |name: &'static str, value: String| -> Vec<(&'static str, String)> {
        let mut h = without(name);
        h.push((name, value));
        h
    };
    let cases: Vec<(Vec<(&'static str, String)>, &str)> = vec![
        (
            without("PAYPAL-TRANSMISSION-SIG"),
            "missing_header PAYPAL-TRANSMISSION-SIG",
        ),
        (
            with("PAYPAL-TRANSMISSION-TIME", format!("{secret} not a time")),
            "invalid_header PAYPAL-TRANSMISSION-TIME",
        ),
        (
            with(
                "PAYPAL-TRANSMISSION-SIG",
                format!("{secret}!!!{}", "A".repeat(3000)),
            ),
            "header_too_large PAYPAL-TRANSMISSION-SIG",
        ),
        (
            [
                headers(),
                vec![("PAYPAL-TRANSMISSION-ID", secret.to_owned())],
            ]
            .concat(),
            "repeated_header PAYPAL-TRANSMISSION-ID",
        ),
        (Vec::new(), "missing_header PAYPAL-TRANSMISSION-ID"),
    ];
    for (sent, said) in &cases {
        let (status, text) = post(&listener, sent, BODY);
        assert_eq!((status, text.trim()), (400, *said));
        assert!(!text.contains(secret));
    }
    // A webhook with every header is stored meanwhile.
    still_stores(&listener);
    wait_for(Duration::from_secs(10), "the junk to be written", || {
        (counts(&db).junk == cases.len() as i64).then_some(())
    });
    let c = counts(&db);
    assert_eq!(c.unsettled() + c.settled(), 1, "{c:?}");
    assert!(!listener.log().contains(secret), "{}", listener.log());
    let metrics = listener.get("/metrics");
    for line in [
        "ipnkit_webhooks_received_total 1",
        &format!("ipnkit_junk_total {}", cases.len()),
        "ipnkit_certificate_fetches_total 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    // The health check a service manager or a container runs, once the webhook is settled.
    wait_for(Duration::from_secs(10), "the webhook settled", || {
        (counts(&db).unsettled() == 0).then_some(())
    });
    let health = std::process::Command::new(ipnkit_e2e::ipnkit_bin())
        .args(["health", "--listen", &listener.address()])
        .output()
        .unwrap();
    assert!(health.status.success(), "{health:?}");
    assert_eq!(
        String::from_utf8_lossy(&health.stdout).trim(),
        r#"{"status":"ok","unsettled":0}"#
    );
}
