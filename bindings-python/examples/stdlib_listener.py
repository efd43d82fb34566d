"""A complete IPN listener with nothing but the standard library and ipnkit.

Store the raw body first, answer 200 at once, then — in a worker — post back, read the verdict,
check the business rules, deduplicate, act. Run it:

    python stdlib_listener.py --listen 127.0.0.1:8080 --db ipn.sqlite --env live \
        --receiver-email shop@example.net

Against the local PayPal stand-in (`ipnkit sandbox`), add `--verify-url http://127.0.0.1:8081`.
"""

from __future__ import annotations

import argparse
import email.message
import http.server
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from typing import IO, Callable, List, Literal, Optional, Sequence, Tuple

import ipnkit

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'received',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL DEFAULT 0,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, lookup_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_lookup ON deliveries(lookup_id);
"""


def connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


def make_server(address: Tuple[str, int], db_path: str) -> http.server.ThreadingHTTPServer:
    """Receives IPN messages: the raw bytes are stored (and synced) before the 200."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            db = connect(db_path)
            try:
                db.execute("INSERT INTO messages (body) VALUES (?)", (body,))
            finally:
                db.close()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(address, Handler)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """PayPal's answer is the postback's own response: a redirect is never followed (urllib
    would follow a 302 as a GET to wherever it points). The 3xx comes back as an HTTPError:
    an unexpected answer, retried later."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: email.message.Message,
        newurl: str,
    ) -> Optional[urllib.request.Request]:
        return None


_POSTBACK_OPENER = urllib.request.build_opener(_NoRedirects)


def post(request: ipnkit.VerificationRequest, timeout: float = 10.0) -> ipnkit.Verdict:
    """The postback, with urllib, and PayPal's verdict."""
    # urllib opens a new connection for each request (and sends `Connection: close`): a postback
    # never meets a kept-alive connection that PayPal has closed in the meantime.
    http_request = urllib.request.Request(request.url, data=request.body, headers=request.headers)
    try:
        with _POSTBACK_OPENER.open(http_request, timeout=timeout) as response:
            return ipnkit.verdict(response.status, response.read(65536))
    except urllib.error.HTTPError as error:
        return ipnkit.verdict(error.code, error.read(65536))
    except (urllib.error.URLError, OSError):
        return ipnkit.Verdict.no_answer()  # not an answer: retry later


def process_once(
    db: sqlite3.Connection,
    environment: Literal["live", "sandbox"],
    receiver_emails: Sequence[str],
    on_event: Callable[[ipnkit.Message], None],
    verify_url: Optional[str] = None,
    timeout: float = 10.0,
) -> int:
    """Settles every message due, each postback within ``timeout`` seconds; returns how many
    are still waiting. Postbacks are made one after the other: a hung one holds the others
    back for its whole timeout (a service with many messages runs several workers)."""
    config = ipnkit.Config(environment=environment, receiver_emails=receiver_emails,
                           verify_url_for_testing=verify_url)
    now = time.time()
    rows = db.execute(
        "SELECT id, body, attempts FROM messages WHERE state = 'received' AND next_attempt <= ? ORDER BY id",
        (now,),
    ).fetchall()
    for id_, body, attempts in rows:
        body = bytes(body)
        try:
            request = ipnkit.verification_request(body, config)
        except ipnkit.IpnError as error:
            db.execute("UPDATE messages SET state='unreadable', detail=? WHERE id=?", (error.code, id_))
            continue
        answer = post(request, timeout)
        if answer.kind == "unexpected":  # not an answer: try again later, never drop
            delay = min(0.1 * 2 ** attempts, 30.0)
            db.execute(
                "UPDATE messages SET attempts=attempts+1, next_attempt=?, detail=? WHERE id=?",
                (now + delay, answer.reason, id_),
            )
            continue
        if answer.kind == "invalid":
            db.execute("UPDATE messages SET state='invalid' WHERE id=?", (id_,))
            continue
        try:
            message = ipnkit.parse(body)
        except ipnkit.IpnError as error:
            db.execute("UPDATE messages SET state='unreadable', detail=? WHERE id=?", (error.code, id_))
            continue
        stored = [k for (k,) in db.execute(
            "SELECT key FROM deliveries WHERE lookup_id=? ORDER BY rowid", (message.lookup_id,))]
        # A shop looks its order up here (by message.invoice or message.custom) and passes
        # ipnkit.Expected(amount=..., currency=...); this example has no orders.
        decision = ipnkit.decide(message, answer, config=config, expected=ipnkit.Expected.any_amount(),
                                 stored_keys=stored)
        if decision.action == "refuse":
            codes = ",".join(v.code for v in decision.violations) if decision.why == "rules" else decision.why
            db.execute("UPDATE messages SET state='refused', detail=? WHERE id=?", (codes, id_))
            continue
        if decision.action == "skip":  # seen, or out of date: do not act
            db.execute("UPDATE messages SET state=? WHERE id=?", (decision.delivery.kind, id_))
            continue
        db.execute("BEGIN IMMEDIATE")
        inserted = db.execute(
            "INSERT OR IGNORE INTO deliveries (key, lookup_id) VALUES (?, ?)",
            (message.delivery_key, message.lookup_id),
        ).rowcount
        db.execute("UPDATE messages SET state=? WHERE id=?", ("accepted" if inserted else "duplicate", id_))
        db.execute("COMMIT")
        if inserted:
            on_event(message)
    (waiting,) = db.execute("SELECT COUNT(*) FROM messages WHERE state='received'").fetchone()
    return int(waiting)


def run_worker(
    db_path: str,
    environment: Literal["live", "sandbox"],
    receiver_emails: Sequence[str],
    on_event: Callable[[ipnkit.Message], None],
    stop: threading.Event,
    verify_url: Optional[str] = None,
    timeout: float = 10.0,
) -> None:
    db = connect(db_path)
    while not stop.is_set():
        process_once(db, environment, receiver_emails, on_event, verify_url, timeout)
        stop.wait(0.05)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:8080")
    parser.add_argument("--db", default="ipn.sqlite")
    parser.add_argument("--env", choices=["live", "sandbox"], required=True)
    parser.add_argument("--receiver-email", action="append", default=[])
    parser.add_argument("--verify-url", help="post back here instead of PayPal (tests only)")
    parser.add_argument("--postback-timeout", type=float, default=10.0,
                        help="seconds a postback may take (a hung one holds the worker this long)")
    args = parser.parse_args(argv)
    host, port = args.listen.rsplit(":", 1)
    connect(args.db).close()
    server = make_server((host, int(port)), args.db)
    stop = threading.Event()

    def emit(message: ipnkit.Message) -> None:
        print(json.dumps({"event": message.event, "key": message.delivery_key}), flush=True)

    threading.Thread(
        target=run_worker,
        args=(args.db, args.env, args.receiver_email, emit, stop, args.verify_url,
              args.postback_timeout),
        daemon=True,
    ).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
