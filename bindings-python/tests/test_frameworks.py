"""The README's Django view and Flask view, run with the frameworks' own test clients: the body
stored is the body sent, byte for byte (windows-1252 bytes, `+`, `%2B`, Adaptive array keys)."""

import datetime
import importlib
import sqlite3
import sys

import pytest

import ipnkit
from conftest import ROOT, VECTORS

sys.path.insert(0, str(ROOT / "bindings-python" / "examples"))

BODIES = [
    (VECTORS / "web_accept--windows1252.body").read_bytes(),
    (VECTORS / "adaptive_pay--utf8_two_receivers.body").read_bytes(),
    b"txn_id=1&memo=a+b%2Bc&first_name=J%F6rg&charset=windows-1252",
]
FORM = "application/x-www-form-urlencoded"


def stored(path):
    with sqlite3.connect(path) as db:
        return [bytes(b) for (b,) in db.execute("SELECT body FROM ipn ORDER BY id")]


@pytest.fixture()
def django_views(tmp_path):
    from django.conf import settings

    if not settings.configured:
        settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], SECRET_KEY="test",
                           MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"])
        import django

        django.setup()
    views = importlib.import_module("django_views")
    views.DATABASE = str(tmp_path / "django.sqlite")
    return views


urlpatterns: list = []


def test_django_view_stores_the_raw_body_and_settles_it(django_views):
    from django.test import Client
    from django.urls import path

    urlpatterns[:] = [path("paypal/ipn", django_views.paypal_ipn)]
    client = Client(enforce_csrf_checks=True)  # PayPal sends no token: csrf_exempt is needed
    for body in BODIES:
        response = client.post("/paypal/ipn", data=body, content_type=FORM)
        assert response.status_code == 200
    assert client.get("/paypal/ipn").status_code == 405
    assert stored(django_views.DATABASE) == BODIES

    body = BODIES[0]
    m = ipnkit.parse(body)
    assert m.mc_gross is not None
    expected = ipnkit.Expected(amount=m.mc_gross.amount, currency=m.mc_currency or "")
    verified = lambda request: ipnkit.verdict(200, b"VERIFIED")  # noqa: E731
    assert django_views.settle(body, verified, expected, []) == "act"
    assert django_views.settle(body, verified, expected, [m.delivery_key]) == "skip"
    assert django_views.settle(body, lambda r: ipnkit.verdict(503, b""), expected, []) == "retry"
    assert django_views.settle(body, lambda r: ipnkit.Verdict.no_answer(), expected, []) == "retry"
    assert django_views.settle(body, lambda r: ipnkit.verdict(200, b"INVALID"), expected, []) == "refuse"
    cheap = ipnkit.Expected(amount="0.01", currency=m.mc_currency or "")
    assert django_views.settle(body, verified, cheap, []) == "refuse"


def test_django_webhook_view_stores_the_raw_body_and_headers_and_settles_it(django_views):
    import json as _json
    import os
    import pathlib

    from django.test import Client
    from django.urls import path

    shared = pathlib.Path(os.environ.get("IPNKIT_WEBHOOKS", ROOT.parent / "shared" / "webhooks"))
    if not (shared / "SOURCES.md").is_file():
        pytest.fail(f"the webhook vectors are missing: expected {shared} (set IPNKIT_WEBHOOKS)")
    name = "sdk-node_2015-05-18_payment-sale-completed"  # a sandbox delivery, as CONFIG is
    facts = _json.loads((shared / f"{name}.json").read_text(encoding="utf-8"))
    body, pem = (shared / f"{name}.body").read_bytes(), (shared / f"{name}.pem").read_bytes()
    sent = {"Paypal-Transmission-Id": facts["transmission_id"], "Paypal-Transmission-Time": facts["transmission_time"],
            "Paypal-Transmission-Sig": facts["transmission_sig"], "Paypal-Cert-Url": facts["cert_url"],
            "Paypal-Auth-Algo": facts["auth_algo"]}
    urlpatterns[:] = [path("paypal/webhook", django_views.paypal_webhook)]
    client = Client(enforce_csrf_checks=True)
    response = client.post("/paypal/webhook", data=body, content_type="application/json", headers=sent)
    assert response.status_code == 200
    with sqlite3.connect(django_views.DATABASE) as db:
        (stored_body, stored_headers), = db.execute("SELECT body, headers FROM webhook").fetchall()
    assert bytes(stored_body) == body
    headers = _json.loads(stored_headers)
    assert {k.lower() for k in headers} == {k.lower() for k in sent}

    django_views.VERIFIER = ipnkit.WebhookVerifier(django_views.CONFIG, facts["webhook_id"])
    # Verified at its transmission time: every certificate in the vectors has expired since.
    when = datetime.datetime.fromisoformat(facts["transmission_time"].replace("Z", "+00:00")).timestamp()
    fetched = []

    def fetch(url):
        fetched.append(url)
        return (200, pem)

    expected = ipnkit.Expected.any_amount()
    assert django_views.settle_webhook(bytes(stored_body), headers, fetch, expected, [], now=when) == "act"
    assert fetched == [facts["cert_url"]]
    key = f"txn:{ipnkit.receive_webhook(body, headers).event.resource.id}:Completed"
    assert django_views.settle_webhook(body, headers, fetch, expected, [key], now=when) == "skip"
    assert django_views.settle_webhook(body, headers, lambda url: None, expected, [], now=when) == "retry"
    assert django_views.settle_webhook(body + b" ", headers, fetch, expected, [], now=when) == "refuse"


def test_flask_view_stores_the_raw_body(tmp_path):
    flask_app = importlib.import_module("flask_app")
    flask_app.DATABASE = str(tmp_path / "flask.sqlite")
    client = flask_app.app.test_client()
    for body in BODIES:
        assert client.post("/paypal/ipn", data=body, content_type=FORM).status_code == 200
    assert stored(flask_app.DATABASE) == BODIES


def test_flask_form_first_leaves_nothing_to_verify():
    # Why the README says get_data() first: once request.form is parsed, the bytes are gone.
    from flask import Flask, request

    app = Flask(__name__)
    seen = {}

    @app.post("/wrong")
    def wrong() -> str:
        seen["form"] = dict(request.form)
        seen["data"] = request.get_data()
        return ""

    app.test_client().post("/wrong", data=BODIES[2], content_type=FORM)
    assert seen["form"]["memo"] == "a b+c" and seen["data"] == b""
