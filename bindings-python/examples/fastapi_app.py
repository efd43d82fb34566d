"""IPN in a FastAPI application: the endpoint stores the raw bytes and answers 200; a background
step (a task queue in production) verifies and acts.

    uvicorn fastapi_app:app
"""

from __future__ import annotations

import sqlite3
from typing import Callable, List, Literal, Tuple

from fastapi import FastAPI, Request, Response

import ipnkit

DB_PATH = "fastapi-ipn.sqlite"
ENVIRONMENT: Literal["live", "sandbox"] = "sandbox"
RECEIVERS = ["shop@example.net"]
CONFIG = ipnkit.Config(environment=ENVIRONMENT, receiver_emails=RECEIVERS)

app = FastAPI()


def db() -> sqlite3.Connection:
    conn = sqlite3.connect(DB_PATH, isolation_level=None)
    conn.executescript(
        "CREATE TABLE IF NOT EXISTS ipn (id INTEGER PRIMARY KEY, body BLOB NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'received', detail TEXT);"
        "CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, lookup_id TEXT NOT NULL);"
    )
    return conn


@app.post("/ipn")
async def receive(request: Request) -> Response:
    body = await request.body()  # the raw bytes: never request.form(), which re-encodes
    with db() as conn:
        conn.execute("INSERT INTO ipn (body) VALUES (?)", (body,))
    return Response(status_code=200)


def process(post: Callable[[ipnkit.VerificationRequest], Tuple[int, bytes]]) -> List[ipnkit.Message]:
    """Verifies and settles every stored message; returns the ones to act on."""
    accepted = []
    conn = db()
    for id_, body in conn.execute("SELECT id, body FROM ipn WHERE state='received'").fetchall():
        body = bytes(body)
        answer = ipnkit.verdict(*post(ipnkit.verification_request(body, CONFIG)))
        if answer.kind == "unexpected":
            continue  # stays 'received': tried again on the next run
        message = ipnkit.parse(body)
        stored = [k for (k,) in conn.execute(
            "SELECT key FROM deliveries WHERE lookup_id=?", (message.lookup_id,))]
        # A shop looks its order up here (by message.invoice or message.custom) and passes
        # ipnkit.Expected(amount=..., currency=...); this demo has no orders.
        decision = ipnkit.decide(message, answer, config=CONFIG, expected=ipnkit.Expected.any_amount(),
                                 stored_keys=stored)
        if decision.action == "refuse":
            conn.execute("UPDATE ipn SET state='refused', detail=? WHERE id=?",
                         (",".join(v.code for v in decision.violations) if decision.why == "rules" else decision.why, id_))
            continue
        if decision.action == "skip":  # seen, or out of date: do not act
            conn.execute("UPDATE ipn SET state=? WHERE id=?", (decision.delivery.kind, id_))
            continue
        conn.execute("INSERT INTO deliveries VALUES (?, ?)", (message.delivery_key, message.lookup_id))
        conn.execute("UPDATE ipn SET state='accepted' WHERE id=?", (id_,))
        accepted.append(message)
    conn.close()
    return accepted
