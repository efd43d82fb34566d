//! `ipnkit`: inspect PayPal IPN messages from the command line.
//!
//! ```text
//! ipnkit postback [FILE|-]               the exact verification postback, to stdout
//! ipnkit parse [--variables] [FILE|-]    the typed message as canonical JSON (or the variables)
//! ipnkit verdict --status N [FILE|-]     classify PayPal's answer to a postback
//! ```
//!
//! Exit codes: 0 success (for `verdict`: verified); 1 the message was refused (the one-line error
//! on stderr starts with its code) or, for `verdict`, INVALID; 2 usage; 3 `verdict` unexpected
//! (retry later); 4 the input could not be read.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ipnkit::{Body, Limits, Message, Verdict};
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "ipnkit",
    version,
    about = "Inspect PayPal IPN messages: parse, post back, classify verdicts"
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
                let mut out = message.to_canonical_json_pretty().into_bytes();
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

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(Failure::Refused(e)) => {
            eprintln!("ipnkit: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Io(msg)) => {
            eprintln!("ipnkit: {msg}");
            ExitCode::from(4)
        }
    }
}
