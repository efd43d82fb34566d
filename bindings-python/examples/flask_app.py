# examples/flask_app.py: a PayPal IPN endpoint in Flask.
import sqlite3

from flask import Flask, request

import ipnkit

CONFIG = ipnkit.Config(environment="sandbox", receiver_emails=["shop@example.net"])
DATABASE = "ipn.sqlite"
app = Flask(__name__)


@app.post("/paypal/ipn")
def paypal_ipn() -> tuple[str, int]:
    # get_data() before anything touches request.form (or request.values): parsing the form
    # consumes the body, and get_data() then returns b"" — nothing is left to verify.
    body = request.get_data()
    with sqlite3.connect(DATABASE) as db:  # stored before answering: nothing is lost
        db.execute("CREATE TABLE IF NOT EXISTS ipn (id INTEGER PRIMARY KEY, body BLOB)")
        db.execute("INSERT INTO ipn (body) VALUES (?)", (body,))
    # Answer at once; verify later with ipnkit.verification_request(body, CONFIG) and
    # ipnkit.decide(...): "retry" (PayPal's answer unreadable) keeps the body for another try.
    return "", 200
