//! The reference listener probed as an attacker, or a broken network, would probe it (issue 14's
//! table), on loopback only, each probe bounded in time. Each test is one row of the table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use ipnkit_e2e::{ListenerProcess, test_listener_args, wait_for};
use ipnkit_server::Store;
use ipnkit_server::sandbox::client;

/// A server on a free loopback port answering each request with `answer(n)` (n counts from 0);
/// returns its base URL and how many requests reached it.
fn serve(
    answer: impl Fn(usize) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> + Send + 'static,
) -> (String, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = Vec::new();
            let _ = std::io::Read::read_to_end(request.as_reader(), &mut body);
            let n = counted.fetch_add(1, Ordering::SeqCst);
            let _ = request.respond(answer(n));
        }
    });
    (url, count)
}

#[test]
fn a_redirect_from_the_verification_endpoint_is_never_followed() {
    // Elsewhere: says VERIFIED to anything.
    let (elsewhere, reached) = serve(|_| tiny_http::Response::from_data(b"VERIFIED".to_vec()));
    // The verification endpoint redirects every postback there, with each redirect status in turn.
    let target = format!("{elsewhere}/cgi-bin/webscr");
    let (endpoint, postbacks) = serve(move |n| {
        let status = [301, 302, 303, 307, 308][n % 5];
        let location = tiny_http::Header::from_bytes(&b"Location"[..], target.as_bytes()).unwrap();
        tiny_http::Response::from_data(Vec::new())
            .with_status_code(status)
            .with_header(location)
    });
    let dir = std::env::temp_dir().join(format!("ipnkit-e2e-redirect-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (db, events) = (dir.join("ipn.sqlite"), dir.join("events.jsonl"));
    let mut args = test_listener_args(&endpoint, &db);
    args.extend(["--postback-timeout", "2", "--events-file"].map(String::from));
    args.push(events.display().to_string());
    let listener = ListenerProcess::spawn(&args);
    let message =
        b"txn_type=web_accept&txn_id=REDIRECT0000001&payment_status=Completed&mc_gross=9.00\
        &mc_currency=USD&receiver_email=shop%40example.net&verify_sign=A1&test_ipn=1";
    let delivered = client(Duration::from_secs(5))
        .post(&listener.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(&message[..])
        .unwrap();
    assert_eq!(delivered.status(), 200);

    // Every redirect status seen, each answer kept as unexpected and posted back again.
    wait_for(Duration::from_secs(30), "five postbacks", || {
        let followed = reached.load(Ordering::SeqCst) > 0;
        (followed || postbacks.load(Ordering::SeqCst) >= 5).then_some(())
    });
    listener.kill();
    assert_eq!(reached.load(Ordering::SeqCst), 0, "a redirect was followed");
    let counts = Store::open(&db).unwrap().counts().unwrap();
    assert_eq!((counts.received, counts.accepted), (1, 0), "{counts:?}");
    let written = std::fs::read_to_string(&events).unwrap_or_default();
    assert_eq!(written, "", "an event was emitted");
    let _ = std::fs::remove_dir_all(&dir);
}
