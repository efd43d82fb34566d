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
from conftest import ROOT, VECTORS

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))


def ipnkit_bin() -> str:
    path = pathlib.Path(os.environ.get("IPNKIT_BIN", ROOT / "target" / "debug" / "ipnkit"))
    if not path.is_file():
        pytest.fail(f"the ipnkit binary is missing at {path} (cargo build -p ipnkit-cli, or set IPNKIT_BIN)")
    return str(path)


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
        args=(db_path, "sandbox", ["shop@example.net"], events.append, stop,
              f"http://127.0.0.1:{sandbox_port}"),
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
    states = dict(db.execute("SELECT state, COUNT(*) FROM messages GROUP BY state").fetchall())
    assert "invalid" not in states and "unreadable" not in states, states
    assert states.get("accepted", 0) == len(events) >= 10, states
    assert len({m.delivery_key for m in events}) == len(events), "an event was acted on twice"
    assert states.get("duplicate", 0) >= 1, states   # the sandbox's duplicate deliveries


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
    bodies = [p.read_bytes() for p in sorted(VECTORS.glob("*.body"))]
    retried = [(VECTORS / f"{name}.body").read_bytes() for name in
               ("web_accept--windows1252", "express_checkout--capture_completed", "send_money--completed")]
    sent = set()
    for body in bodies + retried:  # PayPal retries three messages the merchant accepts
        assert client.post("/ipn", content=body).status_code == 200
        sent.add(body)

    def paypal(request):  # PayPal's side: VERIFIED for exactly the bytes it sent
        original = request.body[len(b"cmd=_notify-validate&"):]
        return 200, b"VERIFIED" if original in sent else b"INVALID"

    accepted = app_module.process(paypal)
    assert accepted and all(isinstance(m, ipnkit.Message) for m in accepted)
    conn = sqlite3.connect(str(tmp_path / "fastapi.sqlite"))
    states = dict(conn.execute("SELECT state, COUNT(*) FROM ipn GROUP BY state").fetchall())
    assert states["duplicate"] == 3 and "received" not in states, states
    assert states["accepted"] == len(accepted)
    assert app_module.process(paypal) == []  # nothing left, nothing acted on twice
