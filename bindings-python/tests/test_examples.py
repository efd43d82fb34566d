"""The examples, end to end: the stdlib listener against the local PayPal stand-in (`ipnkit
sandbox`, every fault on), and the FastAPI application with FastAPI's own test client."""

import importlib
import json
import os
import pathlib
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import ipnkit
from conftest import ROOT, VECTORS, files

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))


def ipnkit_bin() -> str:
    path = pathlib.Path(os.environ.get("IPNKIT_BIN", ROOT / "target" / "debug" / "ipnkit"))
    if not path.is_file():
        pytest.fail(f"the ipnkit binary is missing at {path} (cargo build -p ipnkit-cli, or set IPNKIT_BIN)")
    return str(path)


# The vectors the examples' rules refuse (not final, not for shop@example.net, or not in the
# environment): every other vector is accepted exactly once, except the opening of a dispute whose
# resolution was acted on first, which is stale.
REFUSED = {
    "adaptive_pay--utf8_two_receivers",
    "cart--shift_jis",
    "express_checkout--authorization_created",
    "express_checkout--created_elv",
    "masspay--unclaimed",
    "web_accept--koi8_r",
    "web_accept--pending_echeck",
    "web_accept--pending_fraud_filters",
    "web_accept--processed",
}
OPENING_OF_A_RESOLVED_CASE = "new_case--chargeback"  # resolved by adjustment--dispute_resolved


def vector_bodies() -> dict[str, bytes]:
    bodies = {p.stem: p.read_bytes() for p in files(VECTORS, "*.body")}
    assert REFUSED | {OPENING_OF_A_RESOLVED_CASE} <= bodies.keys(), "a vector named here is missing"
    return bodies


def name_of(stored: bytes, bodies: dict[str, bytes]) -> str:
    """The vector a stored body was sent from (the stand-in may append `test_ipn` and a
    `verify_sign`, after the vector's own bytes)."""
    names = [n for n, b in bodies.items() if stored.startswith(b.rstrip(b"\r\n"))]
    assert len(names) == 1, f"a stored body matches {names}"
    return names[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stdlib_listener_against_the_sandbox(tmp_path):
    listener = importlib.import_module("stdlib_listener")
    db_path = str(tmp_path / "ipn.sqlite")
    listener.connect(db_path).close()
    server = listener.make_server(("127.0.0.1", 0), db_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox_port = free_port()
    events = []
    stop = threading.Event()
    worker = threading.Thread(
        target=listener.run_worker,
        # The stand-in's dropped postbacks hang until the client gives up: 2 s here.
        args=(db_path, "sandbox", ["shop@example.net"], events.append, stop,
              f"http://127.0.0.1:{sandbox_port}", 2.0),
        daemon=True,
    )
    worker.start()
    try:
        run = subprocess.run(
            [ipnkit_bin(), "sandbox", "--listen", f"127.0.0.1:{sandbox_port}",
             "--deliver-to", f"http://127.0.0.1:{server.server_address[1]}/ipn",
             "--faults", "all", "--linger", "2", str(VECTORS)],
            capture_output=True, timeout=180, check=False,
        )
        assert run.returncode == 0, run.stderr.decode()
        report = json.loads(run.stdout)
        assert report["abandoned"] == 0 and report["faulted"] > 0, report
        db = sqlite3.connect(db_path)
        deadline = time.time() + 60
        while db.execute("SELECT COUNT(*) FROM messages WHERE state='received'").fetchone()[0]:
            assert time.time() < deadline, "messages left unsettled"
            time.sleep(0.1)
    finally:
        stop.set()
        server.shutdown()
    bodies = vector_bodies()
    copies: dict[str, list[str]] = {name: [] for name in bodies}
    for body, state in db.execute("SELECT body, state FROM messages ORDER BY id").fetchall():
        copies[name_of(bytes(body), bodies)].append(state)
    for name, states in copies.items():
        assert states, f"lost: {name}"
        if name in REFUSED:  # refusals are not actions: each copy is refused
            assert set(states) == {"refused"}, (name, states)
        elif name == OPENING_OF_A_RESOLVED_CASE and "accepted" not in states:
            assert set(states) <= {"stale", "duplicate"} and "stale" in states, (name, states)
        else:  # acted on once, whichever copy came first; every other copy a duplicate
            assert sorted(states) == ["accepted"] + ["duplicate"] * (len(states) - 1), (name, states)
    accepted = [name for name, states in copies.items() if "accepted" in states]
    assert len(accepted) in (len(bodies) - len(REFUSED) - 1, len(bodies) - len(REFUSED)), accepted
    assert len(events) == len(accepted), "every accepted message handed to the application once"
    assert len({m.delivery_key for m in events}) == len(events), "an event was acted on twice"
    assert any(len(states) > 1 for states in copies.values()), "the stand-in delivered no duplicate"


def test_stdlib_listener_never_follows_a_redirect_from_the_verification_endpoint():
    import http.server

    listener = importlib.import_module("stdlib_listener")
    reached = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            reached.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "8")
            self.end_headers()
            self.wfile.write(b"VERIFIED")

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    elsewhere = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    target = f"http://127.0.0.1:{elsewhere.server_address[1]}/cgi-bin/webscr"

    class Redirecting(http.server.BaseHTTPRequestHandler):
        status = 301

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(Redirecting.status)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    for server in (elsewhere, endpoint):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = ipnkit.Config(environment="sandbox", receiver_emails=["shop@example.net"],
                               verify_url_for_testing=f"http://127.0.0.1:{endpoint.server_address[1]}")
        request = ipnkit.verification_request(b"txn_id=1&payment_status=Completed&test_ipn=1", config)
        for status in (301, 302, 303, 307, 308):
            Redirecting.status = status
            verdict = listener.post(request, timeout=5)
            assert (verdict.kind, reached) == ("unexpected", []), status
    finally:
        endpoint.shutdown()
        elsewhere.shutdown()


def test_fastapi_app_with_its_test_client(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    app_module = importlib.import_module("fastapi_app")
    monkeypatch.setattr(app_module, "DB_PATH", str(tmp_path / "fastapi.sqlite"))
    client = TestClient(app_module.app)
    known = vector_bodies()
    retried_names = ("web_accept--windows1252", "express_checkout--capture_completed", "send_money--completed")
    retried = [known[name] for name in retried_names]
    sent = set()
    for body in list(known.values()) + retried:  # PayPal retries three messages the merchant accepts
        assert client.post("/ipn", content=body).status_code == 200
        sent.add(body)

    def paypal(request):  # PayPal's side: VERIFIED for exactly the bytes it sent
        original = request.body[len(b"cmd=_notify-validate&"):]
        return 200, b"VERIFIED" if original in sent else b"INVALID"

    accepted = app_module.process(paypal)
    assert all(isinstance(m, ipnkit.Message) for m in accepted)
    conn = sqlite3.connect(str(tmp_path / "fastapi.sqlite"))
    outcomes: dict[str, list[str]] = {name: [] for name in known}
    for body, state in conn.execute("SELECT body, state FROM ipn ORDER BY id").fetchall():
        outcomes[name_of(bytes(body), known)].append(state)
    # Processed in the order received: the resolution of the dispute comes before its opening
    # (file names sort so), which is then stale; each retried message's second copy a duplicate.
    expected = {
        name: ["refused"] if name in REFUSED else
        ["stale"] if name == OPENING_OF_A_RESOLVED_CASE else
        ["accepted", "duplicate"] if name in retried_names else
        ["accepted"]
        for name in known
    }
    assert outcomes == expected
    assert sorted(m.delivery_key for m in accepted) == sorted(
        ipnkit.parse(known[name]).delivery_key for name, states in expected.items() if "accepted" in states)
    assert app_module.process(paypal) == []  # nothing left, nothing acted on twice
