//! `ipnkit webhook verify` and `ipnkit webhook parse`: PayPal's REST webhooks, offline.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use ipnkit::Environment;
use ipnkit::webhook::{Transmission, WebhookEvent, WebhookLimits, WebhookVerdict, WebhookVerifier};

use crate::{Failure, VerdictOut, json_line, parse_environment, read_input, write_stdout};

/// The longest headers file read (a request's headers, as `curl -D` writes them).
const MAX_HEADERS_FILE: usize = 64 * 1024;

/// The longest certificate file read (PayPal's PEM is under 3 KiB).
const MAX_CERT_FILE: usize = 64 * 1024;

#[derive(Subcommand)]
pub(crate) enum WebhookCommand {
    /// Verify a webhook offline; prints the verdict as JSON.
    ///
    /// Checks the headers, the certificate URL, the certificate's chain, name and dates, and
    /// the signature over the body's exact bytes. Exits 0 verified, 1 invalid or refused (the
    /// error's code first on stderr), 3 retry later (the certificate could not be read), 2
    /// usage, 4 unreadable input.
    Verify(VerifyArgs),
    /// Print the webhook's event as canonical JSON, with its `event` in IPN's vocabulary.
    Parse {
        /// The body as received (a file, or `-` for stdin).
        #[arg(long)]
        body: PathBuf,
    },
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The body exactly as received (a file, or `-` for stdin).
    #[arg(long)]
    body: PathBuf,
    /// The request's header lines as received, `Name: value` one a line (as `curl -D` writes
    /// them; a first request or status line is skipped).
    #[arg(long)]
    headers: PathBuf,
    /// The webhook's id (from PayPal's developer dashboard; `WEBHOOK_ID` for the Webhook
    /// Simulator's deliveries).
    #[arg(long = "webhook-id")]
    webhook_id: String,
    /// What the certificate URL served (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// The time to verify at (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    /// The environment the certificate must belong to; never taken from the request.
    #[arg(long, value_parser = parse_environment, default_value = "live")]
    env: Environment,
}

pub(crate) fn run(command: WebhookCommand) -> Result<ExitCode, Failure> {
    match command {
        WebhookCommand::Verify(args) => verify(args),
        WebhookCommand::Parse { body } => {
            let raw = read_input(&body, WebhookLimits::default().max_body_bytes)?;
            if raw.len() > WebhookLimits::default().max_body_bytes {
                return Err(ipnkit::Error::BodyTooLarge {
                    actual: raw.len(),
                    limit: WebhookLimits::default().max_body_bytes,
                }
                .into());
            }
            let event = WebhookEvent::parse(&raw)?;
            write_stdout(&json_line(&event)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify(args: VerifyArgs) -> Result<ExitCode, Failure> {
    let limits = WebhookLimits::default();
    let body = read_input(&args.body, limits.max_body_bytes)?;
    let headers = read_headers(&read_input(&args.headers, MAX_HEADERS_FILE)?, &args.headers)?;
    let cert = read_input(&args.cert, MAX_CERT_FILE)?;
    let now = match &args.at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|_| Failure::Usage("--at is not an RFC 3339 time".into()))?
            .timestamp(),
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Failure::Io("io: the clock is before 1970".into()))
            .and_then(|d| {
                i64::try_from(d.as_secs())
                    .map_err(|_| Failure::Io("io: the clock is past 2262".into()))
            })?,
    };
    let verifier = WebhookVerifier::new(args.env, &args.webhook_id)
        .map_err(|e| Failure::Usage(format!("--webhook-id: {e}")))?;
    let transmission = Transmission::from_request(&body, headers, limits)?;
    let verdict = verifier.verify_answer(&transmission, Some((200, &cert)), now);
    let code = match verdict {
        WebhookVerdict::Verified => 0,
        WebhookVerdict::Invalid(why) => {
            eprintln!(
                "ipnkit: {}: the webhook is not PayPal's for this configuration",
                why.code()
            );
            1
        }
        WebhookVerdict::Unexpected(why) => {
            eprintln!("ipnkit: {}: verify again later", why.code());
            3
        }
    };
    write_stdout(&json_line(&VerdictOut {
        verdict: verdict.kind().code(),
        reason: verdict.reason(),
    })?)?;
    Ok(ExitCode::from(code))
}

/// `Name: value` lines; a first line without `:` (the request or status line) and blank lines
/// are skipped; any other line without `:` is unreadable input.
fn read_headers(raw: &[u8], file: &std::path::Path) -> Result<Vec<(String, String)>, Failure> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| Failure::Io(format!("io: {} is not text", file.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) => out.push((name.trim().to_owned(), value.trim().to_owned())),
            None if i == 0 => {}
            None => {
                return Err(Failure::Io(format!(
                    "io: {} line {} is not `Name: value`",
                    file.display(),
                    i + 1
                )));
            }
        }
    }
    Ok(out)
}
