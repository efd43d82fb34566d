//! The end-to-end harness: runs a listener *process* against the in-process PayPal stand-in, so
//! that it can be killed and restarted mid-run. The reference listener is `ipnkit listen`; the
//! bindings' example listeners will plug in through [`ListenerProcess::spawn`]'s command.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod postgres;

pub use postgres::{TestPostgres, postgres_bin};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The `ipnkit` binary: `$IPNKIT_BIN`, or the workspace's debug build (which `cargo test
/// --workspace` builds). Fails with a message saying what is missing.
pub fn ipnkit_bin() -> PathBuf {
    let path = std::env::var_os("IPNKIT_BIN").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
                PathBuf::from,
            );
            target.join("debug/ipnkit")
        },
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "the ipnkit binary is missing at {} (build it with `cargo build -p ipnkit-cli`, or set IPNKIT_BIN)",
        path.display()
    );
    path
}

/// A listener running as a child process.
pub struct ListenerProcess {
    child: Child,
    /// The URL it receives IPN messages at.
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ListenerProcess {
    /// Starts `ipnkit listen` with `args`, and waits for the URL it prints on stderr.
    pub fn spawn(args: &[String]) -> ListenerProcess {
        Self::spawn_with_stdout(args, Stdio::null())
    }

    /// The same, with the listener's standard output (its default event sink) going to `stdout`.
    pub fn spawn_with_stdout(args: &[String], stdout: Stdio) -> ListenerProcess {
        Self::spawn_from(&ipnkit_bin(), args, stdout)
    }

    /// The same, with the `ipnkit` binary at `bin` (a release build, for benchmarks).
    pub fn spawn_from(bin: &Path, args: &[String], stdout: Stdio) -> ListenerProcess {
        let mut child = Command::new(bin)
            .arg("listen")
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the listener");
        let stderr = child.stderr.take().expect("listener stderr");
        let mut stderr = BufReader::new(stderr);
        // Log lines may come first (work resumed from the store); the URL is on the line that
        // says where it receives.
        let mut early = Vec::new();
        let url = loop {
            let mut line = String::new();
            let read = stderr
                .read_line(&mut line)
                .expect("the listener's standard error");
            assert!(read > 0, "the listener exited saying {early:?}");
            if let Some(url) = line.trim().strip_prefix("ipnkit listen: receiving at ") {
                break url.to_owned();
            }
            early.push(line.trim_end().to_owned());
        };
        // The rest of its standard error (its log) is kept for the test to read.
        let log = Arc::new(Mutex::new(early));
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        ListenerProcess { child, url, log }
    }

    /// Its log so far (its standard error, but for the line with the URL).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its resident memory, from `/proc`.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the listener's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// Waits (at most 30 s) for it to exit; returns whether it exited successfully.
    pub fn wait_success(mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Sends it SIGTERM and waits for it to exit; returns whether it exited successfully.
    pub fn terminate(self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.wait_success()
    }

    /// The `host:port` it listens on.
    pub fn address(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// `http://host:port`: its base URL.
    pub fn base(&self) -> String {
        format!("http://{}", self.address())
    }

    /// `GET path` on its own port (`/health`, `/metrics`: they answer loopback clients), the
    /// body of a 200.
    pub fn get(&self, path: &str) -> String {
        ipnkit_server::client(Duration::from_secs(5))
            .get(self.url.replace("/ipn", path))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    }

    /// Kills it at once (SIGKILL: no chance to clean up), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ListenerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The arguments of `ipnkit listen` for a shop's run across a crash: on `listen` (a fixed
/// address, so that a restarted process takes the same), the sandbox environment, postbacks to
/// `verify_url` with a 1 s timeout and quick retries, this shop's address `shop@example.net`,
/// the store `db` (a path or a URL), the events appended to `events`, the orders in `orders`.
pub fn shop_listener_args(
    db: &str,
    events: &Path,
    orders: &Path,
    verify_url: &str,
    listen: &str,
) -> Vec<String> {
    let mut args = listener_args(listen, verify_url, db);
    args.extend([
        "--postback-timeout".to_string(),
        "1".to_string(),
        "--events-file".to_string(),
        events.display().to_string(),
        "--orders-file".to_string(),
        orders.display().to_string(),
    ]);
    args
}

/// The arguments of `ipnkit listen` for a test: any free loopback port, the sandbox
/// environment, postbacks to `verify_url`, this shop's address `shop@example.net`, quick retries,
/// the store in `db`. Append what a test needs beside them.
pub fn test_listener_args(verify_url: &str, db: &Path) -> Vec<String> {
    listener_args("127.0.0.1:0", verify_url, &db.display().to_string())
}

/// What every test listener is given: its address, the sandbox environment, postbacks to
/// `verify_url` with quick retries, the address `shop@example.net`, the store `db`.
fn listener_args(listen: &str, verify_url: &str, db: &str) -> Vec<String> {
    [
        "--listen",
        listen,
        "--env",
        "sandbox",
        "--verify-url",
        verify_url,
        "--receiver-email",
        "shop@example.net",
        "--fast-retry",
        "--db",
        db,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The delivery keys of the accepted events among the event lines a listener's sink received
/// (one JSON object a line), in the order written.
pub fn event_keys(lines: &str) -> Vec<String> {
    lines
        .lines()
        .filter_map(|line| {
            let event: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let outcome = event
                .get("outcome")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_else(|| panic!("no outcome: {line}"));
            (outcome == "accepted").then(|| {
                event
                    .get("key")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_else(|| panic!("no key: {line}"))
                    .to_owned()
            })
        })
        .collect()
}

/// Delivers `messages` from `sandbox` to `url` (4 senders, the compressed schedule); once a
/// third are acknowledged, kills `victim` (SIGKILL) and, once a delivery has failed against it,
/// starts it again with `restart`; returns the restarted process when every delivery is done.
/// Fails unless no message was abandoned and the crash (or a fault) made deliveries fail.
pub fn deliver_across_a_crash(
    sandbox: &ipnkit_server::Sandbox,
    url: &str,
    messages: &[Vec<u8>],
    victim: ListenerProcess,
    restart: impl FnOnce() -> ListenerProcess,
) -> ListenerProcess {
    let deliver = || {
        sandbox.deliver(
            url,
            messages,
            ipnkit_server::Schedule::Compressed,
            4,
            &|_, _| {},
        );
    };
    crash_while(sandbox, &deliver, messages.len() as u64, victim, restart)
}

/// Runs `deliver` (deliveries from `sandbox`, `planned` of them at least); once a third of
/// `planned` are acknowledged, kills `victim` (SIGKILL) and, once a delivery has failed against
/// it, starts it again with `restart`; returns the restarted process when `deliver` is done.
/// Fails unless no delivery was abandoned and the crash made deliveries fail.
pub fn crash_while(
    sandbox: &ipnkit_server::Sandbox,
    deliver: &(dyn Fn() + Sync),
    planned: u64,
    victim: ListenerProcess,
    restart: impl FnOnce() -> ListenerProcess,
) -> ListenerProcess {
    let delivered = AtomicBool::new(false);
    let restarted = thread::scope(|scope| {
        scope.spawn(|| {
            deliver();
            delivered.store(true, Ordering::SeqCst);
        });
        wait_for(Duration::from_secs(30), "a third of the deliveries", || {
            (sandbox.report().acknowledged >= planned / 3).then_some(())
        });
        // A crash: no chance to finish its postbacks, release its claims or its lead. It
        // stays down until a delivery has failed against it.
        let retried = sandbox.report().retried;
        victim.kill();
        wait_for(
            Duration::from_secs(30),
            "a delivery to fail while down",
            || (sandbox.report().retried > retried).then_some(()),
        );
        let restarted = restart();
        wait_for(Duration::from_secs(120), "every delivery", || {
            delivered.load(Ordering::SeqCst).then_some(())
        });
        restarted
    });
    let report = sandbox.report();
    assert_eq!(report.abandoned, 0, "{report:?}");
    assert!(
        report.retried > 0,
        "the crash made no delivery fail: {report:?}"
    );
    restarted
}

/// Waits (at most 2 minutes) until every message in `store` is settled and every event handed
/// to the sink; returns the counts then.
pub fn wait_settled_and_sent(store: &mut dyn ipnkit_server::Store) -> ipnkit_server::Counts {
    wait_for(Duration::from_secs(120), "every message to settle", || {
        let c = store.counts().unwrap();
        (c.unsettled() == 0 && store.unsent_count().unwrap() == 0).then_some(c)
    })
}

/// The states of the stored copies of each body, in the order they were received.
pub fn states_by_body(
    store: &mut dyn ipnkit_server::Store,
) -> std::collections::HashMap<Vec<u8>, Vec<String>> {
    let mut by_body: std::collections::HashMap<Vec<u8>, Vec<String>> = Default::default();
    for outcome in store.outcomes().unwrap() {
        by_body
            .entry(store.body(outcome.id).unwrap().unwrap())
            .or_default()
            .push(outcome.state);
    }
    by_body
}

/// Polls `check` every 50 ms until it returns `Some`, or fails after `timeout` saying `what`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A load balancer without health checks: each delivery goes to the next listener in turn; a
/// listener that does not answer makes it a 502 (and the stand-in, like PayPal, retries).
pub struct RoundRobin {
    /// The URL to deliver IPN messages to.
    pub url: String,
    /// The URL to deliver webhooks to.
    pub webhook_url: String,
    sent: Arc<Vec<AtomicU64>>,
    /// Serves until the balancer is dropped.
    _server: ipnkit_server::local::Server,
}

impl RoundRobin {
    /// Starts it in front of `upstreams` (base URLs, `http://host:port`): each request goes to
    /// the same path there, with its `Content-Type` and PayPal's webhook headers.
    pub fn start(upstreams: Vec<String>) -> RoundRobin {
        use ipnkit_server::local::{Answer, Reply, Server};
        let sent = Arc::new(
            (0..upstreams.len())
                .map(|_| AtomicU64::new(0))
                .collect::<Vec<_>>(),
        );
        let counted = Arc::clone(&sent);
        let next = AtomicU64::new(0);
        let agent = ipnkit_server::client(Duration::from_secs(5));
        let server = Server::start("127.0.0.1:0", move |request| {
            let n = usize::try_from(next.fetch_add(1, Ordering::SeqCst)).unwrap();
            let which = n % upstreams.len();
            counted[which].fetch_add(1, Ordering::SeqCst);
            let mut call = agent.post(&format!("{}{}", upstreams[which], request.target));
            for (name, value) in &request.headers {
                let name = name.as_str();
                if name.eq_ignore_ascii_case("content-type")
                    || name.to_ascii_lowercase().starts_with("paypal-")
                {
                    call = call.header(name, value.as_bytes());
                }
            }
            let status = call.send(&request.body[..]).map_or(502, |mut r| {
                let _ = r.body_mut().read_to_vec();
                r.status().as_u16()
            });
            Reply::Answer(Answer::new(status, ""))
        })
        .unwrap();
        RoundRobin {
            url: format!("{}/ipn", server.url()),
            webhook_url: format!("{}/webhook", server.url()),
            sent,
            _server: server,
        }
    }
}

impl RoundRobin {
    /// How many deliveries went to each upstream.
    pub fn sent(&self) -> Vec<u64> {
        self.sent.iter().map(|n| n.load(Ordering::SeqCst)).collect()
    }
}
