use super::*;
use crate::local::{Answer, Reply, Withheld};

fn post(url: &str, body: &[u8]) -> (u16, String) {
    match client(Duration::from_secs(2)).post(url).send(body) {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

#[test]
fn verifies_only_the_exact_bytes_it_delivered() {
    let sandbox =
        Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}"));
    let message = b"txn_id=1&mc_gross=1.00".to_vec();
    // Deliver to the sandbox itself (it answers 200 INVALID to anything but a postback).
    let url = format!("{}/cgi-bin/webscr", sandbox.url());
    sandbox.deliver(
        &url,
        std::slice::from_ref(&message),
        Schedule::Compressed,
        1,
        &|_, _| {},
    );
    assert_eq!(sandbox.report().acknowledged, 1);
    let sent = as_sandbox_message(&message);
    assert!(sent.starts_with(b"txn_id=1&mc_gross=1.00&test_ipn=1&verify_sign="));
    let postback = [ipnkit::POSTBACK_PREFIX, &sent].concat();
    assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
    let mut tampered = postback.clone();
    if let Some(b) = tampered.last_mut() {
        *b = b'2';
    }
    assert_eq!(post(&url, &tampered), (200, "INVALID".into()));
    assert_eq!(post(&url, &sent), (200, "INVALID".into()), "no prefix");
    assert_eq!(post(&format!("{}/other", sandbox.url()), &postback).0, 404);
    let report = sandbox.report();
    assert_eq!(
        (report.verified, report.invalid, report.abandoned),
        (1, 3, 0)
    );
    sandbox.stop();
}

/// A listener (or a shop) played by the test: each request it receives is handed over
/// with a way to answer it, whenever the test chooses.
struct Holding {
    server: Server,
    received: Mutex<mpsc::Receiver<(Vec<u8>, mpsc::Sender<Reply>)>>,
}

impl Holding {
    fn start() -> Holding {
        let (tx, received) = mpsc::channel();
        let tx = Mutex::new(tx);
        let server = Server::start("127.0.0.1:0", move |request| {
            let (answer, answered) = mpsc::channel();
            let _ = lock(&tx).send((request.body, answer));
            // The test's answer; none (the test is over) closes the connection unanswered.
            answered
                .recv()
                .unwrap_or_else(|_| Reply::Withhold(Withheld::new()))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        Holding {
            server,
            received: Mutex::new(received),
        }
    }

    fn url(&self) -> String {
        format!("{}/ipn", self.server.url())
    }

    /// The next request's body, and where its answer goes.
    fn next(&self) -> (Vec<u8>, mpsc::Sender<Reply>) {
        lock(&self.received)
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("nothing received: {e}"))
    }
}

fn ok() -> Reply {
    Reply::Answer(Answer::new(200, ""))
}

/// Delivers `message` on its own thread (returned); the test plays the listener.
fn deliver_in_background(
    sandbox: &Arc<Sandbox>,
    url: &str,
    message: &[u8],
) -> thread::JoinHandle<()> {
    let (sandbox, url, message) = (Arc::clone(sandbox), url.to_owned(), message.to_vec());
    thread::spawn(move || {
        sandbox.deliver(
            &url,
            std::slice::from_ref(&message),
            Schedule::Compressed,
            1,
            &|_, _| {},
        );
    })
}

fn verify(sandbox: &Sandbox, copy: &[u8]) {
    let postback = [ipnkit::POSTBACK_PREFIX, copy].concat();
    let url = format!("{}/cgi-bin/webscr", sandbox.url());
    assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
}

/// Asserts that the run is not over: `wait_quiet` waits its whole quiet time.
fn assert_not_over(sandbox: &Sandbox, why: &str) {
    let quiet = Duration::from_millis(600);
    let started = std::time::Instant::now();
    sandbox.wait_quiet(quiet);
    assert!(
        started.elapsed() >= quiet,
        "left after {:?} {why}",
        started.elapsed()
    );
}

/// Verifies `copy` while `wait_quiet` (a long quiet time) runs: it must end then, as every
/// copy is verified; returns the report it ended with.
fn verify_last(sandbox: &Arc<Sandbox>, copy: &[u8]) -> Report {
    let (tx, rx) = mpsc::channel();
    let waiting = Arc::clone(sandbox);
    thread::spawn(move || {
        waiting.wait_quiet(Duration::from_secs(60));
        let _ = tx.send(waiting.report());
    });
    verify(sandbox, copy);
    rx.recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("still waiting after every copy was verified: {e}"))
}

#[test]
fn a_listener_that_has_not_posted_back_yet_is_waited_for() {
    // Issue 35: `ipnkit sandbox --linger 4` left within milliseconds of the last delivery
    // when no postback had come in yet (the quiet was counted from the epoch), and the
    // listener's postbacks then met a closed connection.
    let sandbox = Arc::new(
        Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}")),
    );
    let listener = Holding::start();
    let delivering = deliver_in_background(&sandbox, &listener.url(), b"txn_id=1");
    let (copy, answer) = listener.next();
    let _ = answer.send(ok());
    let _ = delivering.join();
    assert_eq!(sandbox.report().acknowledged, 1);

    // No postback comes: the stand-in waits the whole quiet time, counted from now.
    assert_not_over(&sandbox, "before any postback");

    // The postback comes late: the stand-in is still there, and leaves once it is answered.
    let report = verify_last(&sandbox, &copy);
    assert_eq!((report.verified, report.unverified), (1, 0), "{report:?}");
}

#[test]
fn a_delivery_whose_answer_was_lost_is_waited_for_too() {
    // The listener stored the first delivery but its 200 came after the stand-in's
    // timeout, so the stand-in delivered again: the listener holds two copies and posts
    // both back. The stand-in must not leave after verifying the one it saw acknowledged.
    let sandbox = Arc::new(
        Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}")),
    );
    sandbox.set_delivery_timeout(Duration::from_millis(200));
    let listener = Holding::start();
    let delivering = deliver_in_background(&sandbox, &listener.url(), b"txn_id=2");
    let (first, late) = listener.next();
    // Answered only once the retry has come, when the stand-in has given up on it.
    let (second, answer) = listener.next();
    assert_eq!(first, second);
    let _ = answer.send(ok());
    let _ = late.send(ok());
    let _ = delivering.join();
    let report = sandbox.report();
    assert_eq!(
        (report.acknowledged, report.unanswered, report.unconfirmed),
        (1, 1, 1),
        "{report:?}"
    );

    verify(&sandbox, &first);
    assert_eq!(sandbox.report().unconfirmed, 1);
    assert_not_over(&sandbox, "with a copy the listener holds unverified");

    let report = verify_last(&sandbox, &second);
    assert_eq!(
        (report.verified, report.unverified, report.unconfirmed),
        (2, 0, 0),
        "{report:?}"
    );
}

#[test]
fn a_postback_being_answered_holds_the_run_open() {
    // Every copy verified but one postback still being answered (a slow answer): the run
    // is over only once that answer is written.
    let faults = Faults {
        slow: true,
        every: 1,
        ..Faults::default()
    };
    let sandbox = Arc::new(Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}")));
    let url = format!("{}/cgi-bin/webscr", sandbox.url());
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poster = {
        let (url, answered) = (url.clone(), Arc::clone(&answered));
        thread::spawn(move || {
            let answer = post(&url, b"cmd=_notify-validate&unknown=1");
            answered.store(true, Ordering::SeqCst);
            answer
        })
    };
    // Waits for the postback to be under way (an event: the stand-in counts it).
    while sandbox.shared.counters.postbacks.load(Ordering::SeqCst) == 0 {
        thread::yield_now();
    }
    sandbox.wait_quiet(Duration::from_secs(60));
    let report = sandbox.report();
    assert_eq!(
        report.invalid, 1,
        "left before the answer was written: {report:?}"
    );
    assert_eq!(poster.join().ok(), Some((200, "INVALID".to_owned())));
    assert!(answered.load(Ordering::SeqCst));
}

#[test]
fn a_postback_held_silent_keeps_the_run_open_until_its_client_gives_up() {
    // The `drop` fault: a postback never answered. Its client (here with a 1 s timeout)
    // posts back again only after giving up, so the run's quiet counts from then: a
    // `--linger` shorter than the listener's timeout must not end the run under it.
    let faults = Faults {
        drop: true,
        every: 1,
        ..Faults::default()
    };
    let sandbox = Arc::new(Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}")));
    let url = format!("{}/cgi-bin/webscr", sandbox.url());
    let timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let poster = thread::spawn(move || {
        client(timeout)
            .post(&url)
            .send(&b"cmd=_notify-validate&x=1"[..])
            .map(|r| r.status().as_u16())
    });
    // Waits for the postback to be under way (an event: the stand-in counts it).
    while sandbox.shared.counters.postbacks.load(Ordering::SeqCst) == 0 {
        thread::yield_now();
    }
    sandbox.wait_quiet(Duration::from_millis(300));
    assert!(
        started.elapsed() > timeout,
        "the run ended after {:?}, before its client gave up",
        started.elapsed()
    );
    assert!(poster.join().is_ok_and(|r| r.is_err()), "answered");
    assert_eq!(sandbox.report().faulted, 1);
}

/// Opens `n` connections to the stand-in at once, sends a postback on each, keeps them all
/// open, and reads each one's answer (at most 5 s each); panics naming one left unanswered.
fn burst(sandbox: &Sandbox, n: usize) {
    let address = sandbox.url().trim_start_matches("http://").to_owned();
    let mut connections: Vec<std::net::TcpStream> = (0..n)
        .map(|_| std::net::TcpStream::connect(&address).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let postback = "cmd=_notify-validate&txn_id=1";
    let request = format!(
        "POST /cgi-bin/webscr HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n{postback}",
        postback.len()
    );
    for connection in &mut connections {
        io::Write::write_all(connection, request.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    }
    for (i, connection) in connections.iter_mut().enumerate() {
        let _ = connection.set_read_timeout(Some(Duration::from_secs(5)));
        let mut answer = [0u8; 12];
        let read = io::Read::read_exact(connection, &mut answer);
        assert!(
            read.is_ok() && answer.starts_with(b"HTTP/1.1 200"),
            "connection {i} of {n} got no answer: {read:?}"
        );
    }
}

#[test]
fn every_postback_of_a_burst_of_new_connections_is_answered() {
    // Issue 35: on tiny_http's thread pool, a connection accepted while idle threads were
    // still waking up was queued with its wake-up lost, and served only once another
    // connection closed: against clients that keep theirs alive (a listener's workers), one
    // of the first postbacks of a run waited its client's whole timeout. Here a first
    // burst leaves idle threads behind it (a pool's case), then a larger one comes: every
    // connection is kept open, and each must be answered while the others stay open.
    let sandbox =
        Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}"));
    burst(&sandbox, 8);
    burst(&sandbox, 64);
    assert_eq!(sandbox.report().invalid, 72);
}

#[test]
fn resends_on_demand_with_resend_true() {
    let sandbox =
        Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("{}/cgi-bin/webscr", sandbox.url());
    assert!(!sandbox.resend(0), "nothing delivered yet");
    sandbox.deliver(
        &url,
        &[b"txn_id=9".to_vec()],
        Schedule::Compressed,
        1,
        &|_, _| {},
    );
    let (status, _) = post(&format!("{}/sandbox/resend?n=0", sandbox.url()), b"");
    assert_eq!(status, 200);
    assert_eq!(
        post(&format!("{}/sandbox/resend?n=5", sandbox.url()), b"").0,
        404
    );
    let postback = [
        ipnkit::POSTBACK_PREFIX,
        &as_sandbox_message(b"txn_id=9"),
        b"&resend=true",
    ]
    .concat();
    assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
    let report: serde_json::Value = client(Duration::from_secs(2))
        .get(format!("{}/sandbox/report", sandbox.url()))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    assert_eq!(report["acknowledged"], 2);
    sandbox.stop();
}

#[test]
fn faults_take_turns() {
    let faults = Faults {
        every: 1,
        ..Faults::all()
    };
    let sandbox = Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("{}/cgi-bin/webscr", sandbox.url());
    let answers: Vec<(u16, String)> = (0..4)
        .map(|_| post(&url, b"cmd=_notify-validate&x=1"))
        .collect();
    assert!(
        answers.contains(&(503, "Service Unavailable".into())),
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .any(|(s, b)| *s == 200 && b.contains("<html>")),
        "{answers:?}"
    );
    assert!(
        answers.iter().any(|(s, _)| *s == 0),
        "a postback never answered: {answers:?}"
    );
    assert!(
        answers.contains(&(200, "INVALID".into())),
        "the slow one still answers: {answers:?}"
    );
    assert_eq!(sandbox.report().faulted, 3);
    sandbox.stop();
}

/// The NVP answer of `pairs` as a map; `None` when the connection closed without one.
fn nvp(
    sandbox: &Sandbox,
    pairs: &[(&str, &str)],
) -> Option<std::collections::HashMap<String, String>> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("USER", "shop_api1.example.net");
    for (k, v) in pairs {
        form.append_pair(k, v);
    }
    let (status, text) = post(&format!("{}/nvp", sandbox.url()), form.finish().as_bytes());
    (status == 200).then(|| {
        form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect()
    })
}

#[test]
fn express_checkout_authorizes_captures_and_notifies_each_step() {
    let faults = Faults {
        lost: true,
        every: 2,
        ..Faults::default()
    };
    let sandbox = Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}"));
    let shop = Holding::start();
    let notify_url = shop.url();
    let next_notification = || {
        let (body, answer) = shop.next();
        let _ = answer.send(ok());
        let message = ipnkit::Message::parse(&body).unwrap_or_else(|e| panic!("{e}"));
        let postback = [ipnkit::POSTBACK_PREFIX, &body].concat();
        let url = format!("{}/cgi-bin/webscr", sandbox.url());
        assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
        message
    };

    let set = nvp(
        &sandbox,
        &[
            ("METHOD", "SetExpressCheckout"),
            ("PAYMENTREQUEST_0_AMT", "24.90"),
            ("PAYMENTREQUEST_0_CURRENCYCODE", "EUR"),
            ("PAYMENTREQUEST_0_PAYMENTACTION", "Authorization"),
            ("PAYMENTREQUEST_0_INVNUM", "order-7"),
            ("PAYMENTREQUEST_0_NOTIFYURL", &notify_url),
            ("RETURNURL", "http://shop.example/return?lang=de"),
            ("CANCELURL", "http://shop.example/cancel"),
        ],
    )
    .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(set["ACK"], "Success", "{set:?}");
    let token = set["TOKEN"].clone();

    // The buyer approves on the checkout page and is sent back with a PayerID.
    let page = format!(
        "{}/cgi-bin/webscr?cmd=_express-checkout&token={token}",
        sandbox.url()
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let approved = agent.get(&page).call().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(approved.status(), 302);
    let back = approved
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let prefix = format!("http://shop.example/return?lang=de&token={token}&PayerID=");
    let payer = back
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{back}"))
        .to_owned();
    assert_eq!(payer.len(), 13);

    let early = nvp(
        &sandbox,
        &[
            ("METHOD", "DoExpressCheckoutPayment"),
            ("TOKEN", &token),
            ("PAYERID", "SOMEONEELSE"),
            ("PAYMENTREQUEST_0_AMT", "24.90"),
            ("PAYMENTREQUEST_0_CURRENCYCODE", "EUR"),
        ],
    )
    .unwrap_or_default();
    assert_eq!(early.get("L_ERRORCODE0").map(String::as_str), Some("10419"));
    let pay = nvp(
        &sandbox,
        &[
            ("METHOD", "DoExpressCheckoutPayment"),
            ("TOKEN", &token),
            ("PAYERID", &payer),
            ("PAYMENTREQUEST_0_AMT", "24.90"),
            ("PAYMENTREQUEST_0_CURRENCYCODE", "EUR"),
            ("PAYMENTREQUEST_0_PAYMENTACTION", "Authorization"),
        ],
    )
    .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(pay["PAYMENTINFO_0_PAYMENTSTATUS"], "Pending", "{pay:?}");
    let auth_id = pay["PAYMENTINFO_0_TRANSACTIONID"].clone();
    let authorized = next_notification();
    assert_eq!(authorized.event().code(), "authorization_created");
    assert_eq!(authorized.auth_id(), Some(auth_id.as_str()));
    assert_eq!(authorized.txn_id(), Some(auth_id.as_str()));
    assert_eq!(authorized.invoice(), Some("order-7"));
    assert_eq!(authorized.receiver_email(), Some("shop@example.net"));

    // DoCapture: more than authorized is refused (the first call); the second is made,
    // notified, and its answer lost (every 2nd); a third finds it done.
    let capture = |amount: &str| {
        nvp(
            &sandbox,
            &[
                ("METHOD", "DoCapture"),
                ("AUTHORIZATIONID", &auth_id),
                ("AMT", amount),
                ("CURRENCYCODE", "EUR"),
                ("COMPLETETYPE", "Complete"),
            ],
        )
    };
    let too_much = capture("25.00").unwrap_or_default();
    assert_eq!(
        too_much.get("L_ERRORCODE0").map(String::as_str),
        Some("10610")
    );
    assert_eq!(capture("24.90"), None, "the lost answer");
    let captured = next_notification();
    assert_eq!(captured.event().code(), "capture_completed");
    assert_eq!(captured.auth_id(), Some(auth_id.as_str()));
    assert_eq!(captured.parent_txn_id(), Some(auth_id.as_str()));
    assert_ne!(captured.txn_id(), Some(auth_id.as_str()));
    assert_eq!(
        captured.mc_gross().map(|m| m.amount.to_string()),
        Some("24.90".into())
    );
    let again = capture("24.90").unwrap_or_default();
    assert_eq!(again.get("L_ERRORCODE0").map(String::as_str), Some("10602"));

    // Bad calls are failures with PayPal's codes, never a crash.
    assert_eq!(
        nvp(&sandbox, &[("METHOD", "Refund")]).unwrap_or_default()["L_ERRORCODE0"],
        "81002"
    );
    let (_, anonymous) = post(&format!("{}/nvp", sandbox.url()), b"METHOD=DoCapture");
    assert!(anonymous.contains("L_ERRORCODE0=10002"), "{anonymous}");
    let bad_amount = nvp(
        &sandbox,
        &[
            ("METHOD", "SetExpressCheckout"),
            ("PAYMENTREQUEST_0_AMT", "1e3"),
            ("RETURNURL", "http://a/"),
            ("CANCELURL", "http://a/"),
        ],
    )
    .unwrap_or_default();
    assert_eq!(
        bad_amount.get("L_ERRORCODE0").map(String::as_str),
        Some("10004"),
        "{bad_amount:?}"
    );
    assert!(bad_amount["L_LONGMESSAGE0"].starts_with("PAYMENTREQUEST_0_AMT"));
    let report = sandbox.report();
    assert_eq!(
        (report.acknowledged, report.in_flight),
        (2, 0),
        "{report:?}"
    );
    sandbox.stop();
}

#[test]
fn messages_get_test_ipn_and_a_signature_and_lose_trailing_newlines() {
    let signed = |body: &str| {
        format!("{body}&verify_sign=AiPC9BjkCyDFQXbSkoZcgqH3hpacASJcFfmTSabpg.6nZdl-ZvWk2Hz")
    };
    assert_eq!(
        as_sandbox_message(b"a=1\n\n"),
        signed("a=1&test_ipn=1").as_bytes()
    );
    assert_eq!(
        as_sandbox_message(b"test_ipn=1&a=1"),
        signed("test_ipn=1&a=1").as_bytes()
    );
    // `test_ipnx` is not `test_ipn`; a message that has both keeps them as they are.
    assert_eq!(
        as_sandbox_message(b"test_ipnx=1"),
        signed("test_ipnx=1&test_ipn=1").as_bytes()
    );
    assert_eq!(
        as_sandbox_message(b"test_ipn=0&verify_sign=X"),
        b"test_ipn=0&verify_sign=X"
    );
    assert_eq!(
        Faults::parse("5xx,drop"),
        Ok(Faults {
            server_error: true,
            drop: true,
            ..Faults::default()
        })
    );
    assert!(Faults::parse("fire").is_err());
    assert!(Faults::parse("lost").is_ok_and(|f| f.lost) && Faults::all().lost);
    assert_eq!(Schedule::Compressed.delays().len(), 8);
    assert_eq!(Schedule::PayPal.delays().len(), 15);
}
