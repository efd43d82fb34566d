//! `ipnkit sandbox`, `ipnkit listen` and `ipnkit demo`: the commands that open sockets.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use ipnkit::{Environment, Policy, Verifier};
use ipnkit_server::sandbox::load_messages;
use ipnkit_server::{Backoff, Config, Counts, Faults, Listener, Sandbox, Schedule, Sink, Store};

/// `ipnkit sandbox`
#[derive(Args)]
pub(crate) struct SandboxArgs {
    /// Address of the verification endpoint (`/cgi-bin/webscr`).
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: String,
    /// The listener URL to deliver messages to.
    #[arg(long = "deliver-to")]
    deliver_to: Option<String>,
    /// Raw IPN bodies to deliver: files, or directories of `*.body` files.
    messages: Vec<PathBuf>,
    /// Faults to inject: `all`, `none`, or a list of `slow,5xx,html,drop,duplicate,reorder,lost`
    /// (`lost`: a `DoCapture` answer never arrives).
    #[arg(long, default_value = "none", value_parser = Faults::parse)]
    faults: Faults,
    /// Retry deliveries on PayPal's schedule (about four days) instead of the compressed one.
    #[arg(long)]
    paypal_schedule: bool,
    /// Concurrent deliveries.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// After delivering, keep answering postbacks until this many seconds pass without one.
    #[arg(long, default_value_t = 3)]
    linger: u64,
    /// Keep serving postbacks after the run (until killed); `POST /sandbox/resend?n=N` then
    /// resends message N with `resend=true`, and `GET /sandbox/report` reports. Express
    /// Checkout (`POST /nvp`: authorize and capture, notified to the shop) is served too.
    #[arg(long)]
    serve: bool,
}

/// `ipnkit listen`
#[derive(Args)]
pub(crate) struct ListenArgs {
    /// Address to receive IPN messages on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The SQLite file that stores every message before it is answered.
    #[arg(long, default_value = "ipnkit.sqlite")]
    db: PathBuf,
    /// The environment this listener runs in (decides the postback endpoint and the policy).
    #[arg(long, value_parser = crate::parse_environment)]
    env: Environment,
    /// Post back to this base URL instead of PayPal (tests against `ipnkit sandbox` only).
    #[arg(long)]
    verify_url: Option<String>,
    /// This merchant's e-mail address (repeatable).
    #[arg(long = "receiver-email")]
    receiver_emails: Vec<String>,
    /// This merchant's PayPal account id (repeatable).
    #[arg(long = "receiver-id")]
    receiver_ids: Vec<String>,
    /// Append accepted events to this file (default: standard output).
    #[arg(long, conflicts_with_all = ["events_exec", "events_url"])]
    events_file: Option<PathBuf>,
    /// Write accepted events to this command's standard input (run with `sh -c`).
    #[arg(long, conflicts_with = "events_url")]
    events_exec: Option<String>,
    /// POST each accepted event to this URL.
    #[arg(long)]
    events_url: Option<String>,
    /// Retry unanswered postbacks quickly (for tests) instead of over minutes and hours.
    #[arg(long)]
    fast_retry: bool,
    /// Seconds a postback may take.
    #[arg(long, default_value_t = 10)]
    postback_timeout: u64,
    /// Receiving threads.
    #[arg(long, default_value_t = 8)]
    threads: usize,
}

/// `ipnkit demo`
#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Where the demo keeps its SQLite store (a fresh temporary file by default).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Extra messages to deliver: files or directories (default: `tests/vectors` and
    /// `../shared/corpus` when they are there).
    messages: Vec<PathBuf>,
}

pub(crate) fn sandbox(args: SandboxArgs) -> Result<ExitCode, String> {
    let sandbox = Sandbox::start(&args.listen, args.faults).map_err(|e| format!("io: {e}"))?;
    eprintln!(
        "ipnkit sandbox: answering postbacks at {}/cgi-bin/webscr",
        sandbox.url()
    );
    let messages = load_messages(&args.messages).map_err(|e| format!("io: {e}"))?;
    if let Some(url) = &args.deliver_to {
        let schedule = if args.paypal_schedule {
            Schedule::PayPal
        } else {
            Schedule::Compressed
        };
        sandbox.deliver(url, &messages, schedule, args.concurrency, &|n, planned| {
            eprint!("\rdelivered {n}/{planned}");
        });
        eprintln!();
        sandbox.wait_quiet(Duration::from_secs(args.linger));
    }
    if args.serve {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let report = sandbox.report();
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    Ok(if report.abandoned == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn policy(env: Environment, emails: &[String], ids: &[String]) -> Policy {
    let mut policy = Policy::new(env);
    for email in emails {
        policy = policy.receiver_email(email);
    }
    for id in ids {
        policy = policy.receiver_id(id);
    }
    policy
}

impl ListenArgs {
    /// Refuses combinations that cannot be meant: `--verify-url` (a test stand-in) with
    /// `--env live` would verify real payments against something other than PayPal.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.verify_url.is_some() && self.env == Environment::Live {
            return Err(
                "--verify-url is for tests against `ipnkit sandbox`: it cannot be used with --env live"
                    .into(),
            );
        }
        Ok(())
    }
}

pub(crate) fn listen(args: ListenArgs) -> Result<ExitCode, String> {
    let mut verifier = Verifier::new(args.env);
    if let Some(url) = &args.verify_url {
        verifier = verifier.with_base_url_for_testing(url);
    }
    let sink = match (&args.events_file, &args.events_exec, &args.events_url) {
        (Some(path), _, _) => Sink::File(path.clone()),
        (_, Some(command), _) => Sink::Command(command.clone()),
        (_, _, Some(url)) => Sink::Url(url.clone()),
        _ => Sink::Stdout,
    };
    let listener = Listener::start(Config {
        listen: args.listen.clone(),
        db: args.db.clone(),
        verifier,
        policy: policy(args.env, &args.receiver_emails, &args.receiver_ids),
        sink,
        postback_timeout: Duration::from_secs(args.postback_timeout),
        backoff: if args.fast_retry {
            Backoff::COMPRESSED
        } else {
            Backoff::PRODUCTION
        },
        threads: args.threads,
    })
    .map_err(|e| e.to_string())?;
    // The first line on stderr is the URL, for scripts and the end-to-end suite.
    eprintln!("ipnkit listen: receiving at {}", listener.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

const DEMO_RECEIVERS: &[&str] = &["shop@example.net", "payouts@example.net"];

pub(crate) fn demo(args: DemoArgs) -> Result<ExitCode, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources = args.messages.clone();
    if sources.is_empty() {
        sources.push(root.join("tests/vectors"));
        let corpus = root.join("../shared/corpus");
        if corpus.join("SOURCES.md").is_file() {
            sources.push(corpus);
        }
    }
    let messages = load_messages(&sources).map_err(|e| format!("io: {e}"))?;
    let dir = std::env::temp_dir().join(format!("ipnkit-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("io: {e}"))?;
    let db = args.db.unwrap_or_else(|| dir.join("listener.sqlite"));
    let events = dir.join("events.jsonl");

    eprintln!(
        "ipnkit demo: {} messages from {}",
        messages.len(),
        describe(&sources)
    );
    let sandbox = Sandbox::start("127.0.0.1:0", Faults::all()).map_err(|e| format!("io: {e}"))?;
    let listener = Listener::start(Config {
        listen: "127.0.0.1:0".into(),
        db: db.clone(),
        verifier: Verifier::new(Environment::Sandbox).with_base_url_for_testing(sandbox.url()),
        policy: policy(
            Environment::Sandbox,
            &DEMO_RECEIVERS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            &[],
        ),
        sink: Sink::File(events.clone()),
        postback_timeout: Duration::from_secs(2),
        backoff: Backoff::COMPRESSED,
        threads: 4,
    })
    .map_err(|e| e.to_string())?;
    eprintln!(
        "  PayPal stand-in: {} (faults: slow, 5xx, html, drop, duplicate, reorder)",
        sandbox.url()
    );
    eprintln!(
        "  listener:        {} (store: {})",
        listener.url(),
        db.display()
    );

    let started = Instant::now();
    let total = messages.len();
    let url = listener.url().to_owned();
    let progress = Progress::new();
    sandbox.deliver(&url, &messages, Schedule::Compressed, 4, &|n, planned| {
        progress.show(format!("  delivering: {n}/{planned} acknowledged"));
    });
    progress.done();
    // PayPal's IPN history: resend the first message; it must come out a duplicate.
    sandbox.resend(0);
    let store = Store::open(&db).map_err(|e| e.to_string())?;
    let counts = wait_settled(&store, Duration::from_secs(120), &|c| {
        progress.show(format!(
            "  processing: {} settled, {} waiting for a postback",
            c.accepted + c.refused + c.duplicate + c.stale + c.invalid + c.unreadable,
            c.received
        ));
    })
    .map_err(|e| e.to_string())?;
    progress.done();
    let report = sandbox.report();
    listener.stop();
    sandbox.stop();

    let outcomes = store.outcomes().map_err(|e| e.to_string())?;
    let mut refusals: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, state, detail) in &outcomes {
        if state == "refused" || state == "unreadable" {
            *refusals
                .entry(detail.clone().unwrap_or_default())
                .or_default() += 1;
        }
    }
    println!(
        "ipnkit demo: {} messages, {} deliveries, in {:.1} s",
        total,
        report.delivered,
        started.elapsed().as_secs_f64()
    );
    println!(
        "  PayPal stand-in: {} acknowledged, {} retried, {} postbacks VERIFIED, {} INVALID, {} faults injected",
        report.acknowledged, report.retried, report.verified, report.invalid, report.faulted
    );
    println!("  listener: {} stored", outcomes.len());
    println!(
        "    accepted     {:>4}  (events in {})",
        counts.accepted,
        events.display()
    );
    println!("    refused      {:>4}", counts.refused);
    for (codes, n) in &refusals {
        println!("      {n:>4} × {codes}");
    }
    println!(
        "    duplicate    {:>4}  (retries, duplicate deliveries and the resend)",
        counts.duplicate
    );
    println!(
        "    stale        {:>4}  (a later state was acted on already)",
        counts.stale
    );
    println!("    invalid      {:>4}", counts.invalid);
    println!("    unreadable   {:>4}", counts.unreadable);
    println!("    unsettled    {:>4}", counts.received);
    let accounted = counts.received == 0 && report.abandoned == 0;
    println!(
        "  {}",
        if accounted {
            "every message accounted for"
        } else {
            "SOME MESSAGES ARE NOT ACCOUNTED FOR"
        }
    );
    Ok(if accounted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A progress line on stderr: rewritten in place on a terminal; elsewhere (CI logs) a line per
/// change, at most every half second.
struct Progress {
    tty: bool,
    /// The latest line, when the last one was printed, and whether the latest was.
    last: std::sync::Mutex<(String, Option<Instant>, bool)>,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            tty: std::io::stderr().is_terminal(),
            last: std::sync::Mutex::new((String::new(), None, false)),
        }
    }

    fn show(&self, line: String) {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.0 == line {
            return;
        }
        if self.tty {
            eprint!("\r{line}   ");
            let _ = std::io::stderr().flush();
        } else if last
            .1
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(500))
        {
            eprintln!("{line}");
            last.1 = Some(Instant::now());
        }
        last.0 = line;
    }

    fn done(&self) {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.tty {
            eprintln!();
        } else if !last.0.is_empty() && !last.2 {
            eprintln!("{}", last.0);
        }
        *last = (String::new(), None, false);
    }
}

fn describe(sources: &[PathBuf]) -> String {
    sources
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Polls the store until no message waits for a postback (or `timeout`).
pub(crate) fn wait_settled(
    store: &Store,
    timeout: Duration,
    progress: &dyn Fn(&Counts),
) -> Result<Counts, ipnkit_server::StoreError> {
    let deadline = Instant::now() + timeout;
    loop {
        let counts = store.counts()?;
        progress(&counts);
        if counts.received == 0 || Instant::now() > deadline {
            return Ok(counts);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
