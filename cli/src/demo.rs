//! `ipnkit demo`: a shop in migration on loopback. A local PayPal stand-in delivers the
//! project's vectors (and `../shared/corpus` when it is there) by IPN and, for each completed
//! payment, the webhook PayPal sends for it, at the same time, with every fault on; the reference
//! listener takes both channels; the closing checks say what became of each message.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use ipnkit_server::sandbox::{as_sandbox_message, load_messages, webhook_for_ipn};
use ipnkit_server::{
    Config, Db, Faults, Listener, Orders, Sandbox, Schedule, Sink, Webhooks, store,
};

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

const DEMO_RECEIVERS: &[&str] = &["shop@example.net", "payouts@example.net"];

/// The demo's own payment: 0.01 paid against an order of 100.00 — refused (`amount_mismatch`).
const DEMO_MISMATCH: &[u8] =
    b"txn_type=web_accept&txn_id=DEMO0MISMATCH001&payment_status=Completed\
    &mc_gross=0.01&mc_currency=USD&invoice=demo-order-100&receiver_email=shop%40example.net\
    &payer_email=buyer%40example.com&test_ipn=1";

/// The shop's order book for the demo: an order for each of `messages` that is a payment naming
/// one (`invoice` or `custom`), for the amount the payment carries — as the shop would have it —
/// and the order [`DEMO_MISMATCH`] pays too little for, 100.00.
fn demo_orders(messages: &[Vec<u8>]) -> String {
    use ipnkit::{Lookup, Message, Value, expects_amount};
    let mut lines = vec![
        serde_json::json!({"invoice": "demo-order-100", "amount": "100.00", "currency": "USD"})
            .to_string(),
    ];
    for raw in messages {
        let Ok(message) = Message::parse(raw) else {
            continue;
        };
        if !expects_amount(message.event()) {
            continue;
        }
        let money = ["mc_gross", "mc_amount3"]
            .iter()
            .find_map(|name| match message.get(name) {
                Lookup::Value(Value::Money(money)) => money.currency.map(|c| (money.amount, c)),
                _ => None,
            });
        let reference = ["invoice", "custom"]
            .iter()
            .find_map(|name| match message.get(name) {
                Lookup::Value(Value::Text(text)) if !text.trim().is_empty() => Some((*name, text)),
                _ => None,
            });
        if let (Some((amount, currency)), Some((name, reference))) = (money, reference) {
            let mut line = serde_json::Map::new();
            line.insert(name.to_owned(), reference.into());
            line.insert("amount".into(), amount.to_string().into());
            line.insert("currency".into(), currency.as_str().into());
            lines.push(serde_json::Value::Object(line).to_string());
        }
    }
    lines.join("\n") + "\n"
}

/// The webhook id the demo's stand-in signs for and its listener verifies.
const DEMO_WEBHOOK_ID: &str = "WH-DEMO-1AB23456CD789012E";

/// The demo's listener: the stand-in's postbacks, the demo's receivers, webhooks at `/webhook`
/// trusting the stand-in's throwaway authority (its test-only options).
fn demo_config(
    sandbox: &Sandbox,
    db: &std::path::Path,
    dir: &std::path::Path,
) -> Result<Config, String> {
    let base = Config::for_stand_in(sandbox.url(), db.to_owned(), DEMO_RECEIVERS)
        .map_err(|e| e.to_string())?;
    let verifier = sandbox
        .webhook_verifier(&base.host, DEMO_WEBHOOK_ID)
        .map_err(|e| e.to_string())?;
    Ok(Config {
        orders: Orders::File(dir.join("orders.jsonl")),
        sink: Sink::File(dir.join("events.jsonl")),
        webhooks: Some(Webhooks::new("/webhook", verifier)),
        ..base
    })
}

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
    let mut messages = load_messages(&sources).map_err(|e| format!("io: {e}"))?;
    // The order book is the shop's: written before the underpayment arrives.
    let order_book = demo_orders(&messages);
    messages.push(DEMO_MISMATCH.to_vec());
    // The webhook PayPal sends for each completed payment: the same payments, both channels.
    let webhooks: Vec<Vec<u8>> = messages
        .iter()
        .filter_map(|m| webhook_for_ipn(&as_sandbox_message(m)))
        .collect();
    let dir = std::env::temp_dir().join(format!("ipnkit-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("io: {e}"))?;
    let db = args.db.unwrap_or_else(|| dir.join("listener.sqlite"));
    let events = dir.join("events.jsonl");
    let orders = dir.join("orders.jsonl");
    std::fs::write(&orders, order_book).map_err(|e| format!("io: {e}"))?;

    eprintln!(
        "ipnkit demo: {} IPN messages from {} (and one paying 0.01 for an order of 100.00), \
         and by webhook the {} completed payments among them",
        messages.len(),
        describe(&sources),
        webhooks.len()
    );
    let sandbox = Sandbox::start("127.0.0.1:0", Faults::all()).map_err(|e| format!("io: {e}"))?;
    let listener = Listener::start(demo_config(&sandbox, &db, &dir)?).map_err(|e| e.to_string())?;
    eprintln!(
        "  PayPal stand-in: {} (faults: slow, 5xx, html, drop, duplicate, reorder, forge)",
        sandbox.url()
    );
    let webhook_url = listener
        .webhook_url()
        .ok_or("the demo's listener takes no webhooks")?
        .to_owned();
    eprintln!(
        "  listener:        {} and {} (store: {}, orders: {})",
        listener.url(),
        webhook_url,
        db.display(),
        orders.display()
    );

    let started = Instant::now();
    let url = listener.url().to_owned();
    let progress = Progress::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let schedule = Schedule::Compressed;
            sandbox.deliver_webhooks(
                &webhook_url,
                DEMO_WEBHOOK_ID,
                &webhooks,
                schedule,
                4,
                &|_, _| {},
            );
        });
        sandbox.deliver(&url, &messages, Schedule::Compressed, 4, &|n, planned| {
            progress.show(format!("  delivering: {n}/{planned} IPN acknowledged"));
        });
    });
    progress.done();
    let mut store = store::open(&Db::Sqlite(db.clone())).map_err(|e| e.to_string())?;
    let show = |c: &store::Counts| {
        progress.show(format!(
            "  processing: {} settled, {} waiting",
            c.settled(),
            c.unsettled()
        ));
    };
    store::wait_settled(store.as_mut(), Duration::from_secs(120), &show)
        .map_err(|e| e.to_string())?;
    // PayPal's IPN history: a merchant resends the first message once it has been dealt with;
    // it must come out a duplicate. (Resent while the original still waits for a retried
    // postback, whichever copy verifies first is acted on and the other is the duplicate,
    // which is right too but not what this check can name.)
    let resent = sandbox.resend(0);
    let counts = store::wait_settled(store.as_mut(), Duration::from_secs(120), &show)
        .map_err(|e| e.to_string())?;
    progress.done();
    let report = sandbox.report();
    listener.stop();

    let rows = store.snapshot().map_err(|e| e.to_string())?.messages;
    let refusals = store.refusals().map_err(|e| e.to_string())?;
    let written = std::fs::read_to_string(&events).unwrap_or_default();
    let lines = written
        .lines()
        .map(serde_json::from_str::<serde_json::Value>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("event line: {e}"))?;
    let text = |event: &serde_json::Value, k: &str| {
        event
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("-")
            .to_owned()
    };
    let mut by_event: std::collections::BTreeMap<(String, String, String), usize> =
        Default::default();
    let mut ids = std::collections::HashSet::new();
    let mut acted = std::collections::HashMap::<String, usize>::new();
    let mut shipped = 0;
    for event in &lines {
        *by_event
            .entry((
                text(event, "outcome"),
                text(event, "event"),
                text(event, "channel"),
            ))
            .or_default() += 1;
        ids.insert(event.get("id").and_then(serde_json::Value::as_i64));
        shipped += usize::from(event.get("ship") == Some(&serde_json::Value::Bool(true)));
        if ["accepted", "refused"].contains(&text(event, "outcome").as_str()) {
            *acted.entry(text(event, "key")).or_default() += 1;
        }
    }
    let (ipn_rows, webhook_rows): (Vec<_>, Vec<_>) = rows.iter().partition(|m| m.headers.is_none());
    println!(
        "ipnkit demo: {} IPN messages and {} webhooks, {} deliveries, in {:.1} s",
        messages.len(),
        webhooks.len(),
        report.delivered,
        started.elapsed().as_secs_f64()
    );
    println!(
        "  PayPal stand-in: {} acknowledged, {} retried, {} postbacks VERIFIED, {} INVALID, {} faults injected, {} webhooks forged",
        report.acknowledged,
        report.retried,
        report.verified,
        report.invalid,
        report.faulted,
        report.forged
    );
    println!(
        "  listener: {} stored ({} by IPN, {} by webhook)",
        rows.len(),
        ipn_rows.len(),
        webhook_rows.len()
    );
    let by_channel = |state: &str| {
        let n = |rows: &[&store::MessageRow]| rows.iter().filter(|m| m.state == state).count();
        format!("(IPN {}, webhook {})", n(&ipn_rows), n(&webhook_rows))
    };
    println!(
        "    accepted     {:>4}  {}",
        counts.accepted,
        by_channel("accepted")
    );
    println!(
        "    refused      {:>4}  {}",
        counts.refused,
        by_channel("refused")
    );
    for (codes, n) in &refusals {
        println!("      {n:>4} × {codes}");
    }
    println!(
        "    duplicate    {:>4}  {}: retries, redeliveries, the resend, the other channel",
        counts.duplicate,
        by_channel("duplicate")
    );
    println!(
        "    stale        {:>4}  (a later state was acted on already)",
        counts.stale
    );
    println!(
        "    invalid      {:>4}  {}",
        counts.invalid,
        by_channel("invalid")
    );
    let mut forged_reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in webhook_rows.iter().filter(|m| m.state == "invalid") {
        *forged_reasons
            .entry(m.detail.as_deref().unwrap_or("-"))
            .or_default() += 1;
    }
    for (reason, n) in &forged_reasons {
        println!("      {n:>4} × {reason}");
    }
    println!("    unreadable   {:>4}", counts.unreadable);
    println!("    unsettled    {:>4}", counts.unsettled());
    println!(
        "  events: {} lines in {} ({} ship the goods)",
        lines.len(),
        events.display(),
        shipped
    );
    for ((outcome, event, channel), n) in &by_event {
        println!("    {n:>4} × {outcome:<10} {event:<28} {channel}");
    }
    // Every message accounted for and verified; the resend a duplicate; the 0.01 payment
    // refused; refunds and reversals delivered; the events file the outbox, each event once.
    // The resend's copy: its body as the stand-in sent it, `resend=true` appended.
    let resend = messages.first().map(|first| {
        let mut body = as_sandbox_message(first);
        body.extend_from_slice(b"&resend=true");
        body
    });
    let resend_states: Vec<&str> = ipn_rows
        .iter()
        .filter(|m| resend.as_deref() == Some(&m.body[..]))
        .map(|m| m.state.as_str())
        .collect();
    let resend_duplicate =
        resent && !resend_states.is_empty() && resend_states.iter().all(|s| *s == "duplicate");
    let ipn_verified = report.invalid == 0
        && counts.unreadable == 0
        && ipn_rows.iter().all(|m| m.state != "invalid");
    let mismatch_refused = refusals
        .iter()
        .any(|(codes, _)| codes.split(',').any(|c| c == "amount_mismatch"));
    let has = |event: &str| {
        by_event
            .keys()
            .any(|(o, e, _)| o == "accepted" && e == event)
    };
    let refunds_delivered = has("payment_refunded") && has("payment_reversed");
    let outbox = store.events().map_err(|e| e.to_string())?;
    let once = ids.len() == lines.len()
        && written
            .lines()
            .eq(outbox.iter().map(|(_, _, line)| line.as_str()));
    let accounted = counts.unsettled() == 0 && report.abandoned == 0;
    // Each fact acted on (or reported refused) once, whichever channel brought it first.
    let acted_once = acted.values().all(|n| *n == 1);
    // No forged webhook accepted, every webhook PayPal signed verified: each stored webhook's
    // verdict against what the stand-in says it forged.
    let forged = |m: &store::MessageRow| sandbox.forged_row(m) == Some(true);
    let no_forgery = report.forged > 0
        && webhook_rows
            .iter()
            .filter(|m| forged(m))
            .all(|m| m.state == "invalid");
    let signed_verified = webhook_rows
        .iter()
        .filter(|m| !forged(m))
        .all(|m| m.state != "invalid");
    let checks = [
        (
            accounted,
            "every message accounted for",
            "SOME MESSAGES ARE NOT ACCOUNTED FOR",
        ),
        (
            ipn_verified,
            "every IPN message verified and readable",
            "AN IPN MESSAGE ENDED INVALID OR UNREADABLE",
        ),
        (
            acted_once,
            "each payment acted on once across both channels",
            "A PAYMENT WAS ACTED ON TWICE",
        ),
        (
            signed_verified,
            "every webhook PayPal signed verified",
            "A WEBHOOK PAYPAL SIGNED WAS NOT VERIFIED",
        ),
        (
            no_forgery,
            "no forged webhook accepted",
            "A FORGED WEBHOOK WAS NOT REFUSED",
        ),
        (
            resend_duplicate,
            "the resend came out a duplicate",
            "THE RESEND WAS NOT DEDUPLICATED",
        ),
        (
            mismatch_refused,
            "the 0.01 payment for a 100.00 order was refused",
            "THE AMOUNT MISMATCH WAS NOT REFUSED",
        ),
        (
            refunds_delivered,
            "refunds and reversals reached the sink",
            "REFUNDS OR REVERSALS DID NOT REACH THE SINK",
        ),
        (
            once,
            "each event of the outbox written once",
            "THE EVENTS FILE IS NOT THE OUTBOX, EACH EVENT ONCE",
        ),
    ];
    sandbox.stop();
    for (ok, good, bad) in checks {
        println!("  {}", if ok { good } else { bad });
    }
    Ok(if checks.iter().all(|c| c.0) {
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
