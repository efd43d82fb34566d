//! `ipnkit`: inspect PayPal IPN messages from the command line.
//!
//! ```text
//! ipnkit postback [FILE|-]               the exact verification postback, to stdout
//! ipnkit parse [--variables] [FILE|-]    the typed message as canonical JSON (or the variables)
//! ipnkit verdict --status N [FILE|-]     classify PayPal's answer to a postback
//! ipnkit check FILE --env E --receiver-email X (--verified | --status N --response F)
//!              [--amount A --currency C]  why was this IPN refused? (violations as JSON)
//! ipnkit webhook verify --body F --headers F --webhook-id ID --cert F [--at T] [--env E]
//!                                        verify a REST webhook offline (the verdict as JSON)
//! ipnkit webhook parse --body F          the webhook's event as canonical JSON
//! ```
//!
//! Exit codes: 0 success (for `verdict` and `webhook verify`: verified; for `check`: accept); 1
//! the message was refused (the one-line error on stderr starts with its code; for `check`, the
//! violations are printed) or, for `verdict` and `webhook verify`, invalid; 2 usage; 3 `verdict`
//! or `webhook verify` unexpected (retry later); 4 the input could not be read.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod demo;
mod serve;
mod webhook;
use ipnkit::host::{Answer, Config, Decision, Notification, Refusal};
use ipnkit::{
    Action, Body, Currency, Decimal, Environment, Expected, Limits, Message, Report, Verdict,
    Violation,
};
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "ipnkit",
    version,
    about = "Inspect PayPal IPN messages and REST webhooks: parse, post back, verify, classify verdicts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the verification postback (`cmd=_notify-validate&` + the body, byte for byte) to stdout.
    Postback(Input),
    /// Print the message as canonical JSON (typed fields, grouped lists, event), or with
    /// `--variables` only the decoded variables in their original order.
    Parse {
        #[command(flatten)]
        input: Input,
        /// Print the decoded variables instead of the typed message.
        #[arg(long)]
        variables: bool,
    },
    /// Apply the business rules to a message, as a listener would before acting: prints every
    /// violation as JSON and exits 1 when there is any.
    Check(Box<CheckArgs>),
    /// Play PayPal locally: answer verification postbacks, and deliver messages to a listener
    /// with retries and injected faults; prints a JSON report at the end.
    Sandbox(serve::SandboxArgs),
    /// Run the reference listener: store each message (SQLite, or PostgreSQL shared by several
    /// listeners) before answering 200, post it
    /// back, apply the policy and the duplicate rules, emit accepted events as JSON lines.
    Listen(Box<serve::ListenArgs>),
    /// Ask a listener on this machine whether it is healthy (`GET /health`; for container and
    /// service health checks): prints its answer, exits 0 when its store answers, 1 otherwise.
    Health(serve::HealthArgs),
    /// Copy a listener's store into another, empty one, ids kept: from SQLite to PostgreSQL
    /// (to run several listeners), or back. Stop the listeners first. Junk is not copied.
    CopyStore(serve::CopyStoreArgs),
    /// The end-to-end demo: the sandbox and the listener on loopback, the project's vectors (and
    /// the shared corpus when present) delivered with faults on, and what became of each.
    Demo(demo::DemoArgs),
    /// PayPal's REST webhooks, offline: verify one, or print its event.
    Webhook {
        #[command(subcommand)]
        command: webhook::WebhookCommand,
    },
    /// Classify PayPal's response to a postback: verified, invalid or unexpected.
    Verdict {
        /// The HTTP status PayPal answered with.
        #[arg(long)]
        status: u16,
        /// The response body (a file, or `-` for stdin).
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("answer").required(true).args(["verified", "status"])))]
struct CheckArgs {
    #[command(flatten)]
    input: Input,
    /// PayPal answered the postback with 200 and `VERIFIED` (shorthand for `--status 200
    /// --response` a file holding `VERIFIED`).
    #[arg(long)]
    verified: bool,
    /// The HTTP status PayPal answered the postback with (give the body with --response).
    #[arg(long, requires = "response")]
    status: Option<u16>,
    /// A file holding PayPal's answer to the postback.
    #[arg(long)]
    response: Option<PathBuf>,
    /// This merchant's e-mail address (repeatable; compared case-insensitively).
    #[arg(long = "receiver-email")]
    receiver_emails: Vec<String>,
    /// This merchant's PayPal account id (repeatable).
    #[arg(long = "receiver-id")]
    receiver_ids: Vec<String>,
    /// The environment the listener runs in.
    #[arg(long, value_parser = parse_environment)]
    env: Environment,
    /// The amount the order expects.
    #[arg(long, value_parser = parse_amount)]
    amount: Option<Decimal>,
    /// The currency the order expects.
    #[arg(long, value_parser = parse_currency)]
    currency: Option<Currency>,
    /// A payment status treated as final (repeatable; default: Completed).
    #[arg(long = "final-status")]
    final_statuses: Vec<String>,
}

pub(crate) fn parse_environment(s: &str) -> Result<Environment, String> {
    s.parse::<Environment>().map_err(|e| e.to_string())
}

fn parse_amount(s: &str) -> Result<Decimal, String> {
    ipnkit::money::parse_amount(s).ok_or_else(|| "not a decimal amount (e.g. 19.95)".to_owned())
}

fn parse_currency(s: &str) -> Result<Currency, String> {
    Currency::parse(s).ok_or_else(|| "not a currency code (three upper-case letters)".to_owned())
}

/// What `check` prints.
#[derive(Serialize)]
struct CheckOut<'a> {
    accept: bool,
    event: &'static str,
    delivery_key: String,
    violations: &'a [Violation],
}

#[derive(Args)]
struct Input {
    /// The raw IPN body (a file, or `-` for stdin).
    #[arg(default_value = "-")]
    file: PathBuf,
    /// Largest body accepted, in bytes.
    #[arg(long, default_value_t = Limits::DEFAULT.max_body_bytes)]
    max_body_bytes: usize,
    /// Most variables accepted.
    #[arg(long, default_value_t = Limits::DEFAULT.max_fields)]
    max_fields: usize,
    /// Longest variable name accepted, in bytes.
    #[arg(long, default_value_t = Limits::DEFAULT.max_key_bytes)]
    max_key_bytes: usize,
}

impl Input {
    fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            max_fields: self.max_fields,
            max_key_bytes: self.max_key_bytes,
        }
    }
}

/// What `parse` prints.
#[derive(Serialize)]
struct Parsed<'a> {
    charset: &'static str,
    charset_given: bool,
    variables: Vec<Variable<'a>>,
}

#[derive(Serialize)]
struct Variable<'a> {
    key: &'a str,
    value: &'a str,
}

/// What `verdict` prints.
#[derive(Serialize)]
struct VerdictOut {
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

enum Failure {
    Refused(ipnkit::Error),
    Usage(String),
    Io(String),
}

impl From<ipnkit::Error> for Failure {
    fn from(e: ipnkit::Error) -> Self {
        Failure::Refused(e)
    }
}

/// Reads the input, at most `limit + 1` bytes so that an oversized body is refused without being
/// held in memory.
fn read_input(file: &PathBuf, limit: usize) -> Result<Vec<u8>, Failure> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut buf = Vec::new();
    let result = if file.as_os_str() == "-" {
        io::stdin().lock().take(cap).read_to_end(&mut buf)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(cap).read_to_end(&mut buf))
    };
    result.map_err(|e| Failure::Io(format!("io: cannot read {}: {e}", file.display())))?;
    Ok(buf)
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Failure::Io(format!("io: cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn json_line<T: Serialize>(value: &T) -> Result<Vec<u8>, Failure> {
    let mut out = serde_json::to_vec_pretty(value)
        .map_err(|e| Failure::Io(format!("io: cannot serialize: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Postback(input) => {
            let raw = read_input(&input.file, input.max_body_bytes)?;
            let body = Body::parse_with(&raw, input.limits())?;
            write_stdout(&body.postback())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Parse { input, variables } => {
            let raw = read_input(&input.file, input.max_body_bytes)?;
            let body = Body::parse_with(&raw, input.limits())?;
            let fields = body.decode()?;
            if !variables {
                let message = Message::from_fields(fields)?;
                let mut out = message
                    .to_canonical_json_pretty()
                    .map_err(|e| Failure::Io(format!("io: cannot write the JSON: {e}")))?
                    .into_bytes();
                out.push(b'\n');
                write_stdout(&out)?;
                return Ok(ExitCode::SUCCESS);
            }
            let parsed = Parsed {
                charset: fields.charset().name(),
                charset_given: fields.charset_given(),
                variables: fields
                    .iter()
                    .map(|f| Variable {
                        key: f.key,
                        value: f.value,
                    })
                    .collect(),
            };
            write_stdout(&json_line(&parsed)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => check(*args),
        Command::Sandbox(args) => serve::sandbox(args).map_err(Failure::Io),
        Command::Listen(args) => {
            let db = args.check().map_err(Failure::Usage)?;
            serve::listen(*args, db).map_err(Failure::Io)
        }
        Command::Demo(args) => demo::demo(args).map_err(Failure::Io),
        Command::Health(args) => serve::health(&args).map_err(Failure::Io),
        Command::CopyStore(args) => {
            let (from, to) = args.stores().map_err(Failure::Usage)?;
            serve::copy_store(&from, &to).map_err(Failure::Io)
        }
        Command::Webhook { command } => webhook::run(command),
        Command::Verdict { status, file } => {
            // PayPal's answer is a word; 64 KiB is plenty to tell it from an error page.
            let response = read_input(&file, 64 * 1024)?;
            let verdict = Verdict::from_response(status, &response);
            let (reason, code) = match verdict {
                Verdict::Verified => (None, 0),
                Verdict::Invalid => (None, 1),
                Verdict::Unexpected(why) => (Some(why.code()), 3),
            };
            write_stdout(&json_line(&VerdictOut {
                verdict: verdict.as_str(),
                reason,
            })?)?;
            Ok(ExitCode::from(code))
        }
    }
}

fn check(args: CheckArgs) -> Result<ExitCode, Failure> {
    let raw = read_input(&args.input.file, args.input.max_body_bytes)?;
    // PayPal's answer as it came: `--verified` is shorthand for 200 and `VERIFIED`.
    let (status, response) = match (args.verified, args.status, &args.response) {
        (true, _, _) => (200, b"VERIFIED".to_vec()),
        (false, Some(status), Some(file)) => (status, read_input(file, 64 * 1024)?),
        // clap requires one of the two; a status without a response is a usage error there.
        _ => {
            return Err(Failure::Usage(
                "give --verified, or --status with --response".into(),
            ));
        }
    };
    // No --final-status: the configuration's default (`Completed`).
    let final_statuses = (!args.final_statuses.is_empty()).then_some(&args.final_statuses);
    let config = Config::from_data(serde_json::json!({
        "environment": args.env.as_str(),
        "receiver_emails": args.receiver_emails,
        "receiver_ids": args.receiver_ids,
        "final_statuses": final_statuses,
    }))?;
    let expected = match (args.amount, args.currency) {
        (Some(amount), Some(currency)) => Expected::Order { amount, currency },
        (None, currency) => Expected::AnyAmount { currency },
        (Some(_), None) => return Err(Failure::Usage("--amount needs --currency".into())),
    };
    let notification = Notification::new(raw, args.input.limits())?;
    // A body whose values do not decode is refused here, as `parse` refuses it.
    let key = notification.delivery_key().map_err(Clone::clone)?;
    let event = notification.message().map_err(Clone::clone)?.event().code();
    let answer = Answer::Http {
        status,
        body: &response,
    };
    let decision = notification.decide(answer, &config, &expected, &[] as &[&str])?;
    let not_verified = Report::not_verified().violations;
    let violations: &[Violation] = match &decision {
        Decision::Act(_) | Decision::Skip(_) => &[],
        Decision::Refuse(Refusal::Rules { violations, .. }) => violations,
        Decision::Retry(_)
        | Decision::Refuse(Refusal::NotVerified | Refusal::Unreadable { .. }) => &not_verified,
    };
    let accept = decision.action() == Action::Act;
    write_stdout(&json_line(&CheckOut {
        accept,
        event,
        delivery_key: key.as_str().to_owned(),
        violations,
    })?)?;
    Ok(if accept {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(Failure::Refused(e)) => {
            eprintln!("ipnkit: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("ipnkit: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Io(msg)) => {
            eprintln!("ipnkit: {msg}");
            ExitCode::from(4)
        }
    }
}
