//! `ipnkit sandbox`, `ipnkit listen` and `ipnkit demo`: the commands that open sockets.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use ipnkit::Environment;
use ipnkit_server::sandbox::load_messages;
use ipnkit_server::{
    Backoff, Config, Db, Faults, HttpLimits, Listener, Orders, Retention, Sandbox, Schedule, Sink,
    Webhooks, store,
};

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
    /// Also deliver, to this webhook URL, the webhook PayPal sends for each completed payment
    /// among the messages (`PAYMENT.CAPTURE.COMPLETED`, the capture's id the IPN's `txn_id`),
    /// signed by the run's throwaway authority, at the same time as the IPN messages: the same
    /// payments by both channels, in no fixed order.
    #[arg(long, requires_all = ["deliver_to", "webhook_id"])]
    deliver_webhooks_to: Option<String>,
    /// The webhook id webhooks are signed for (the listener's `--webhook-id`).
    #[arg(long)]
    webhook_id: Option<String>,
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
    /// After delivering, keep answering postbacks until every copy the listener acknowledged
    /// (and every copy whose acknowledgement was lost) has been verified and no postback is
    /// being answered, or until this many seconds pass without a postback, counted from the end
    /// of the deliveries. The default outlasts `ipnkit listen`'s own: a 10 s postback timeout,
    /// then its first retry 30 s later.
    #[arg(long, default_value_t = 60)]
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
    /// Address to receive IPN messages on (also serves `GET /health` and `GET /metrics`, to
    /// loopback clients only).
    #[arg(long, env = "IPNKIT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The store that keeps every message before it is answered: a SQLite file (one listener),
    /// or a `postgres://user:password@host/database` URL shared by several listeners (the URL is
    /// better given in `$IPNKIT_DB`: a command line is visible to every user of the machine).
    // Read by `parse_db`, not by clap: clap's errors quote the value, password included.
    #[arg(
        long,
        env = "IPNKIT_DB",
        hide_env_values = true,
        default_value = "ipnkit.sqlite"
    )]
    db: String,
    /// The environment this listener runs in (decides the postback endpoint and the policy).
    #[arg(long, env = "IPNKIT_ENV", value_parser = crate::parse_environment)]
    env: Environment,
    /// Post back to this base URL instead of PayPal (tests against `ipnkit sandbox` only; refused
    /// with `--env live`).
    #[arg(long)]
    verify_url: Option<String>,
    /// Take PayPal REST webhooks too, for this webhook id (the one PayPal's developer dashboard
    /// shows for the URL it delivers to): verified offline, each from the certificate at a
    /// URL PayPal's signature names, fetched once and kept in the store.
    #[arg(long, env = "IPNKIT_WEBHOOK_ID")]
    webhook_id: Option<String>,
    /// The path webhooks are POSTed to; IPN messages arrive on every other path.
    #[arg(
        long,
        env = "IPNKIT_WEBHOOK_PATH",
        default_value = "/webhook",
        requires = "webhook_id"
    )]
    webhook_path: String,
    /// Trust the `ipnkit sandbox` stand-in at this base URL for webhooks: its throwaway
    /// authority (fetched from it at start) and its certificate URLs. Tests only; refused with
    /// `--env live`.
    #[arg(long, requires = "webhook_id")]
    webhook_stand_in: Option<String>,
    /// This merchant's e-mail address (repeatable, or comma-separated).
    #[arg(
        long = "receiver-email",
        env = "IPNKIT_RECEIVER_EMAILS",
        value_delimiter = ','
    )]
    receiver_emails: Vec<String>,
    /// This merchant's PayPal account id (repeatable, or comma-separated).
    #[arg(
        long = "receiver-id",
        env = "IPNKIT_RECEIVER_IDS",
        value_delimiter = ','
    )]
    receiver_ids: Vec<String>,
    /// The shop's orders as JSON lines (`{"invoice": "…", "amount": "19.95", "currency": "USD"}`,
    /// or `custom` instead of `invoice`), read again whenever it changes. Without `--orders-file` or
    /// `--orders-url` no order is known: no payment is shipped (`order_not_found`).
    #[arg(long, env = "IPNKIT_ORDERS_FILE", conflicts_with = "orders_url")]
    orders_file: Option<PathBuf>,
    /// Ask the shop for each payment's order: `GET URL?invoice=…&custom=…&item_number=…`
    /// answers `{"amount": "19.95", "currency": "USD"}` or 404; anything else is retried.
    #[arg(long, env = "IPNKIT_ORDERS_URL")]
    orders_url: Option<String>,
    /// Append events to this file (default: standard output).
    #[arg(long, env = "IPNKIT_EVENTS_FILE", conflicts_with_all = ["events_exec", "events_url"])]
    events_file: Option<PathBuf>,
    /// Write events to this command's standard input (run with `sh -c`).
    #[arg(long, env = "IPNKIT_EVENTS_EXEC", conflicts_with = "events_url")]
    events_exec: Option<String>,
    /// POST each event to this URL, signed (`Ipnkit-Signature`) with the secret in
    /// `$IPNKIT_EVENTS_SECRET` when it is set.
    #[arg(long, env = "IPNKIT_EVENTS_URL")]
    events_url: Option<String>,
    /// The secret events POSTed to `--events-url` are signed with (HMAC-SHA256).
    #[arg(
        long,
        env = "IPNKIT_EVENTS_SECRET",
        hide_env_values = true,
        requires = "events_url"
    )]
    events_secret: Option<String>,
    /// Retry unanswered postbacks quickly (for tests) instead of over minutes and hours.
    #[arg(long)]
    fast_retry: bool,
    /// Seconds a postback (or an order lookup) may take, all in.
    #[arg(long, default_value_t = 10)]
    postback_timeout: u64,
    /// Postbacks in flight at most: a hung one holds one of these until its deadline.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Threads that write received bodies to the store.
    #[arg(long, default_value_t = 8)]
    threads: usize,
    /// Connections open at once at most; past it new connections are closed.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, default_value_t = 10)]
    body_timeout: u64,
    /// Days a settled message's raw body is kept (personal data); its outcome stays.
    #[arg(long, default_value_t = 30)]
    retain_days: u64,
    /// First put every stored message that could not be read, or whose order was not found,
    /// back to work (read again by this version, with the current orders; not posted back).
    #[arg(long)]
    reprocess: bool,
}

/// `ipnkit health`
#[derive(Args)]
pub(crate) struct HealthArgs {
    /// The listener's address, as given to `ipnkit listen --listen` (an unspecified address,
    /// `0.0.0.0:8080`, is asked on loopback).
    #[arg(long, env = "IPNKIT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

/// `GET /health` on the listener at `args.listen` (loopback: the listener answers only there).
pub(crate) fn health(args: &HealthArgs) -> Result<ExitCode, String> {
    let address: std::net::SocketAddr = args
        .listen
        .parse()
        .map_err(|_| format!("--listen: not an address and port: {}", args.listen))?;
    let address = if address.ip().is_unspecified() {
        let loopback: std::net::IpAddr = if address.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        std::net::SocketAddr::new(loopback, address.port())
    } else {
        address
    };
    let agent = ipnkit_server::client(Duration::from_secs(args.timeout.max(1)));
    let answer = agent
        .get(&format!("http://{address}/health"))
        .call()
        .map_err(|e| format!("no answer from http://{address}/health: {e}"))?;
    let status = answer.status().as_u16();
    let mut answer = answer;
    let body = answer
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .map_err(|e| format!("the answer of http://{address}/health could not be read: {e}"))?;
    println!("{}", body.trim());
    Ok(if status == 200 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `ipnkit copy-store`
#[derive(Args)]
pub(crate) struct CopyStoreArgs {
    /// The store to copy: a SQLite file or a `postgres://` URL (only read).
    #[arg(long)]
    from: String,
    /// The store to write: a SQLite file or a `postgres://` URL (`$IPNKIT_DB`), created or
    /// migrated if needed, holding no messages yet.
    #[arg(long, env = "IPNKIT_DB", hide_env_values = true)]
    to: String,
}

impl CopyStoreArgs {
    /// The two stores, read (a usage error otherwise).
    pub(crate) fn stores(&self) -> Result<(Db, Db), String> {
        let (from, to) = (parse_db(&self.from)?, parse_db(&self.to)?);
        if from == to {
            return Err("--from and --to are the same store".into());
        }
        Ok((from, to))
    }
}

/// `--db` and its kin: a path or a `postgres://` URL; the error never quotes the value.
fn parse_db(s: &str) -> Result<Db, String> {
    Db::parse(s).map_err(|e| e.to_string())
}

/// Copies a store into another, empty one (SQLite to PostgreSQL, or back), ids kept.
pub(crate) fn copy_store(from: &Db, to: &Db) -> Result<ExitCode, String> {
    let copied = store::copy(from, to).map_err(|e| e.to_string())?;
    let unsent = copied.events.iter().filter(|e| !e.3).count();
    println!(
        "{}",
        serde_json::json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "messages": copied.messages.len(),
            "deliveries": copied.deliveries.len(),
            "reported": copied.reported.len(),
            "events": copied.events.len(),
            "events_unsent": unsent,
        })
    );
    Ok(ExitCode::SUCCESS)
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
        let webhooks: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|m| ipnkit_server::sandbox::webhook_for_ipn(m))
            .collect();
        std::thread::scope(|scope| {
            if let (Some(to), Some(id)) = (&args.deliver_webhooks_to, &args.webhook_id) {
                let sandbox = &sandbox;
                let webhooks = &webhooks;
                scope.spawn(move || {
                    sandbox.deliver_webhooks(
                        to,
                        id,
                        webhooks,
                        schedule,
                        args.concurrency,
                        &|_, _| {},
                    );
                    eprintln!("ipnkit sandbox: {} webhooks delivered", webhooks.len());
                });
            }
            sandbox.deliver(url, &messages, schedule, args.concurrency, &|n, planned| {
                eprint!("\rdelivered {n}/{planned}");
            });
            eprintln!();
        });
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

/// The core's host configuration for the listener's flags.
fn host_config(
    env: Environment,
    emails: &[String],
    ids: &[String],
    verify_url: Option<&str>,
) -> Result<ipnkit::host::Config, String> {
    let data = serde_json::json!({
        "environment": match env { Environment::Live => "live", Environment::Sandbox => "sandbox" },
        "receiver_emails": emails,
        "receiver_ids": ids,
        "verify_url_for_testing": verify_url,
    });
    ipnkit::host::Config::from_json(&data.to_string()).map_err(|e| e.to_string())
}

impl ListenArgs {
    /// Refuses combinations that cannot be meant: `--verify-url` (a test stand-in) with
    /// `--env live` would verify real payments against something other than PayPal.
    /// The arguments clap cannot check: the store it names, and the test-only override.
    pub(crate) fn check(&self) -> Result<Db, String> {
        let db = parse_db(&self.db)?;
        if self.verify_url.is_some() && self.env == Environment::Live {
            return Err(
                "--verify-url is for tests against `ipnkit sandbox`: it cannot be used with --env live"
                    .into(),
            );
        }
        if self.webhook_stand_in.is_some() && self.env == Environment::Live {
            return Err(
                "--webhook-stand-in is for tests against `ipnkit sandbox`: it cannot be used with --env live"
                    .into(),
            );
        }
        if !self.webhook_path.starts_with('/') {
            return Err("--webhook-path must start with /".into());
        }
        Ok(db)
    }
}

/// Logs to standard error: `IPNKIT_LOG` (or `RUST_LOG`) filters, `info` by default. Log lines
/// carry message ids and codes, never a message's values.
fn init_logs() {
    let filter = std::env::var("IPNKIT_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        // A log that cannot be written (standard error closed) is lost, never a panic: the
        // subscriber's own report of the failure would go to the same closed stream.
        .log_internal_errors(false)
        .try_init();
}

pub(crate) fn listen(args: ListenArgs, db: Db) -> Result<ExitCode, String> {
    // Before the listener starts: what it logs from its first connection on is kept.
    init_logs();
    let host = host_config(
        args.env,
        &args.receiver_emails,
        &args.receiver_ids,
        args.verify_url.as_deref(),
    )?;
    let sink = match (&args.events_file, &args.events_exec, &args.events_url) {
        (Some(path), _, _) => Sink::File(path.clone()),
        (_, Some(command), _) => Sink::Command(command.clone()),
        (_, _, Some(url)) => {
            let secret = match &args.events_secret {
                Some(secret) => Some(
                    ipnkit::signature::Secret::new(secret.as_bytes())
                        .map_err(|e| format!("IPNKIT_EVENTS_SECRET: {}", e.code()))?,
                ),
                None => None,
            };
            Sink::Url(url.clone(), secret)
        }
        _ => Sink::Stdout,
    };
    let webhooks = match &args.webhook_id {
        Some(id) => Some(webhooks(&host, id, &args)?),
        None => None,
    };
    let orders = match (&args.orders_file, &args.orders_url) {
        (Some(path), _) => Orders::File(path.clone()),
        (_, Some(url)) => Orders::Url(url.clone()),
        _ => Orders::None,
    };
    let shown = db.to_string();
    let engine = db.engine();
    let reprocessed = if args.reprocess {
        Some(
            store::open(&db)
                .and_then(|mut store| store.reprocess())
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let listener = Listener::start(Config {
        listen: args.listen.clone(),
        db,
        host,
        orders,
        sink,
        postback_timeout: Duration::from_secs(args.postback_timeout),
        backoff: if args.fast_retry {
            Backoff::COMPRESSED
        } else {
            Backoff::PRODUCTION
        },
        workers: args.workers,
        threads: args.threads,
        http: HttpLimits {
            max_connections: args.max_connections.max(1),
            header_timeout: Duration::from_secs(args.header_timeout.max(1)),
            body_timeout: Duration::from_secs(args.body_timeout.max(1)),
            ..HttpLimits::DEFAULT
        },
        retention: Retention {
            bodies: Duration::from_secs(args.retain_days.saturating_mul(86_400)),
            ..Retention::DEFAULT
        },
        webhooks,
    })
    .map_err(|e| e.to_string())?;
    // For scripts and the end-to-end suite: the line that says where it receives. (Work resumed
    // from the store may log before it.)
    eprintln!("ipnkit listen: receiving at {}", listener.url());
    tracing::info!(store = %shown, engine, "store");
    if let Some(n) = reprocessed {
        tracing::info!(
            messages = n,
            "--reprocess: stored messages put back to work"
        );
    }
    listener
        .run_until_signal()
        .map_err(|e| format!("io: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// The webhook side of the listener: the verifier for `id`, and the stand-in's authority when
/// `--webhook-stand-in` names one (fetched now: a stand-in that is not up fails the start).
fn webhooks(host: &ipnkit::host::Config, id: &str, args: &ListenArgs) -> Result<Webhooks, String> {
    let mut verifier = host
        .webhook_verifier(id)
        .map_err(|e| format!("--webhook-id: {e}"))?;
    if let Some(base) = &args.webhook_stand_in {
        let base = base.trim_end_matches('/');
        let url = format!("{base}{}", ipnkit_server::sandbox::webhooks::CA_PATH);
        let agent = ipnkit_server::client(Duration::from_secs(10));
        let pem = agent
            .get(&url)
            .call()
            .ok()
            .filter(|r| r.status() == 200)
            .and_then(|mut r| {
                r.body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec()
                    .ok()
            })
            .ok_or_else(|| format!("--webhook-stand-in: no authority at {url}"))?;
        verifier = verifier
            .with_trust_anchors(&pem)
            .and_then(|v| v.with_certificate_base_for_testing(base))
            .map_err(|e| format!("--webhook-stand-in: {e}"))?;
    }
    Ok(Webhooks::new(&args.webhook_path, verifier))
}
