//! The outbox: events handed to the sink in order, each marked sent once the sink has it; old
//! bodies pruned.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ipnkit::signature::{HEADER, sign};

use super::config::{Config, Sink};
use super::metrics::Metrics;
use super::state::{Trouble, Wake};
use crate::reconnect::on_a_live_connection;
use crate::store::{Store, ms, now_ms};
use crate::util::client;

/// How long handing an event to a URL sink may take, all in.
const SINK_TIMEOUT: Duration = Duration::from_secs(10);

/// Hands the outbox to the sink, in order, marking each event sent once the sink has it; prunes
/// old bodies once an hour.
pub(super) fn deliver_events(
    mut store: Box<dyn Store>,
    config: &Config,
    stop: &AtomicBool,
    wake: &Wake,
    metrics: &Metrics,
) {
    let mut sink = SinkWriter::new(&config.sink);
    let mut trouble = Trouble::new();
    let mut sink_trouble = Trouble::new();
    let mut next_prune = 0;
    let mut leading = false;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if now_ms() >= next_prune {
            let now = now_ms();
            match store.prune(
                now - ms(config.retention.bodies),
                now - ms(config.retention.junk),
            ) {
                Ok((0, 0)) => {}
                Ok((bodies, junk)) => tracing::info!(bodies, junk, "pruned"),
                Err(error) => tracing::warn!(%error, "cannot prune"),
            }
            next_prune = now + 3_600_000;
        }
        let mut pause = Duration::from_millis(200);
        // With several processes on one store, one at a time hands the outbox over.
        let leads = match store.lead_events() {
            Ok(leads) => leads,
            Err(error) => {
                pause = trouble.failed("cannot ask for the outbox", &error);
                false
            }
        };
        if leads != leading {
            leading = leads;
            if leading {
                tracing::info!("this process hands the outbox to the sink");
            } else {
                tracing::info!("another process hands the outbox to the sink");
            }
        }
        if !leads {
            if stopping {
                return;
            }
            wake.wait(pause.max(Duration::from_secs(1)));
            continue;
        }
        match store.unsent_events(100) {
            Ok(events) => {
                trouble.ok();
                for (id, line) in events {
                    if let Err(error) = sink.write(id, &line) {
                        metrics.sink_failures.fetch_add(1, Ordering::Relaxed);
                        pause = sink_trouble.next_pause();
                        tracing::warn!(event = id, %error, pause_ms = ms(pause), "sink failed: retried");
                        break;
                    }
                    sink_trouble.ok();
                    metrics.events_sent.fetch_add(1, Ordering::Relaxed);
                    if let Err(error) = store.mark_sent(id) {
                        pause = trouble.failed("cannot mark an event sent", &error);
                        break;
                    }
                }
            }
            Err(error) => pause = trouble.failed("cannot read the outbox", &error),
        }
        if stopping {
            // One last pass after the workers stopped: what they settled is handed over.
            match store.unsent_count() {
                Ok(0) | Err(_) => return,
                Ok(_) if pause > Duration::from_millis(200) => return,
                Ok(_) => continue,
            }
        }
        wake.wait(pause);
    }
}

struct SinkWriter {
    sink: Sink,
    child: Option<(Child, ChildStdin)>,
    agent: ureq::Agent,
    /// The last event this process handed to the sink: if marking it sent failed, it is not
    /// handed over again when the outbox offers it once more.
    written: Option<i64>,
    /// Whether the events file's end must be read before the next line: at the start (a stopped
    /// process may have written the line it could not mark sent) and after a failed write (which
    /// may have written all of the line, or part of it).
    check_tail: bool,
}

impl SinkWriter {
    fn new(sink: &Sink) -> SinkWriter {
        SinkWriter {
            sink: sink.clone(),
            child: None,
            agent: client(SINK_TIMEOUT),
            written: None,
            check_tail: true,
        }
    }

    /// Hands event `id` (its `line`) to the sink, unless this process already did.
    fn write(&mut self, id: i64, line: &str) -> std::io::Result<()> {
        if self.written == Some(id) {
            return Ok(());
        }
        let handed = self.hand_over(line, self.check_tail);
        self.check_tail = handed.is_err();
        handed?;
        self.written = Some(id);
        Ok(())
    }

    /// `check_tail`: see [`SinkWriter::check_tail`].
    fn hand_over(&mut self, line: &str, check_tail: bool) -> std::io::Result<()> {
        match &self.sink {
            Sink::None => Ok(()),
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
            Sink::File(path) => append_line(path, line, check_tail),
            Sink::Command(command) => {
                if self.child.is_none() {
                    let mut child = Command::new("sh")
                        .arg("-c")
                        .arg(command)
                        .stdin(Stdio::piped())
                        .spawn()?;
                    let stdin = child
                        .stdin
                        .take()
                        .ok_or_else(|| std::io::Error::other("no stdin"))?;
                    self.child = Some((child, stdin));
                }
                let result = match &mut self.child {
                    Some((_, stdin)) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
                    None => Ok(()),
                };
                if result.is_err() {
                    self.child = None; // restarted on the next event
                }
                result
            }
            Sink::Url(url, secret) => {
                let signature = secret
                    .as_ref()
                    .map(|secret| sign(secret, now_ms() / 1000, line.as_bytes()));
                let sent = on_a_live_connection(
                    SINK_TIMEOUT,
                    |connection| {
                        let mut call = connection
                            .apply(self.agent.post(url))
                            .header("Content-Type", "application/json");
                        if let Some(signature) = &signature {
                            call = call.header(HEADER, signature);
                        }
                        call.send(line)
                    },
                    |error| {
                        tracing::info!(
                            failure = %error,
                            "an event met a closed connection: sent again on a new one"
                        );
                    },
                );
                match sent {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(std::io::Error::other(format!(
                        "sink answered {}",
                        r.status()
                    ))),
                    Err(e) => Err(std::io::Error::other(e.to_string())),
                }
            }
        }
    }
}

/// Appends `line` to the events file and syncs it. With `check_tail` (the first line since the
/// process started, or after a failed write), the file's end is read first: a line written (by a
/// stopped process, or by a write whose sync failed) but not marked sent is already there,
/// whole, and is not written twice (a line holds its event's unique `id`, so the same line means
/// the same event); a last line cut short (a power loss, a full disk) is ended, so that the next
/// line starts on its own.
fn append_line(path: &Path, line: &str, check_tail: bool) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let mut start = "";
    if check_tail {
        // The line, its newline, and the byte before it (the previous line's newline).
        let len = file.metadata()?.len();
        let want = (line.len() as u64 + 2).min(len);
        let mut tail = Vec::new();
        file.seek(SeekFrom::Start(len - want))?;
        Read::take(&mut file, want).read_to_end(&mut tail)?;
        let whole = match tail
            .strip_suffix(b"\n")
            .and_then(|t| t.strip_suffix(line.as_bytes()))
        {
            Some([]) => want == len, // the file's only line
            Some(before) => before.ends_with(b"\n"),
            None => false,
        };
        if whole {
            tracing::info!(
                "the first event to send is already the events file's last line: not written again"
            );
            return Ok(());
        }
        if tail.last().is_some_and(|&b| b != b'\n') {
            tracing::warn!("the events file's last line was cut short: ended before the next line");
            start = "\n";
        }
    }
    // One write of the whole line: appends from one process never interleave.
    file.write_all(format!("{start}{line}\n").as_bytes())?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::path::PathBuf;

    fn file(name: &str, content: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("ipnkit-sink-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    fn written(path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        std::fs::remove_file(path).unwrap();
        text
    }

    /// The file holding `content` after `append_line(line, check_tail)`.
    fn after(name: &str, content: &str, line: &str, check_tail: bool) -> String {
        let path = file(name, content);
        append_line(&path, line, check_tail).unwrap();
        written(&path)
    }

    #[test]
    fn a_restart_does_not_write_again_the_line_already_last_in_the_file() {
        let a = r#"{"id":1}"#;
        let b = r#"{"id":2}"#;
        for (name, content, check_tail, expected) in [
            // Written by the stopped process, not marked sent: offered first again.
            ("resume", format!("{a}\n{b}\n"), true, format!("{a}\n{b}\n")),
            ("only", format!("{b}\n"), true, format!("{b}\n")),
            // Not the last line, or only the end of a longer one: written.
            (
                "other",
                format!("{b}\n{a}\n"),
                true,
                format!("{b}\n{a}\n{b}\n"),
            ),
            ("suffix", format!("x{b}\n"), true, format!("x{b}\n{b}\n")),
            // Only the first line since the start (or a failed write) is checked.
            ("later", format!("{b}\n"), false, format!("{b}\n{b}\n")),
            ("empty", String::new(), true, format!("{b}\n")),
        ] {
            assert_eq!(after(name, &content, b, check_tail), expected, "{name}");
        }
        // A missing file.
        let path = std::env::temp_dir().join(format!("ipnkit-sink-{}-new", std::process::id()));
        let _ = std::fs::remove_file(&path);
        append_line(&path, a, true).unwrap();
        assert_eq!(written(&path), format!("{a}\n"));
    }

    #[test]
    fn a_line_cut_short_is_ended_before_the_next() {
        assert_eq!(
            after("torn", "{\"id\":1}\n{\"id\"", r#"{"id":2}"#, true),
            "{\"id\":1}\n{\"id\"\n{\"id\":2}\n"
        );
    }

    #[test]
    fn after_a_failed_write_the_files_end_is_read_again() {
        let dir = std::env::temp_dir().join(format!("ipnkit-sink-{}-dir", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("events.jsonl");
        let mut sink = SinkWriter::new(&Sink::File(path.clone()));
        sink.write(1, "one").unwrap_err(); // no directory yet
        std::fs::create_dir_all(&dir).unwrap();
        // The directory back, with the start of a line a failed write left.
        std::fs::write(&path, "on").unwrap();
        sink.write(1, "one").unwrap();
        sink.write(2, "two").unwrap();
        assert_eq!(written(&path), "on\none\ntwo\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_event_whose_marking_failed_is_not_handed_over_again() {
        let path = file("marking", "");
        let mut sink = SinkWriter::new(&Sink::File(path.clone()));
        for (id, line) in [(1, "one"), (1, "one"), (2, "two"), (2, "two"), (3, "three")] {
            sink.write(id, line).unwrap();
        }
        assert_eq!(written(&path), "one\ntwo\nthree\n");
    }
}
