"""The one-call functions (``handle_ipn``, ``handle_webhook``): the host's HTTP done with an
injected opener, with the listener's discipline (no redirect followed, a deadline, the answer
capped), and every answer judged by the core: no answer is ``retry``, never a verdict."""

import datetime as dt
import io
import json
import os
import pathlib
import urllib.error
import urllib.request

import pytest

import ipnkit
from conftest import ROOT

BODY = (b"txn_id=4RT58091KX0312345&payment_status=Completed&mc_gross=24.90&mc_currency=EUR"
        b"&receiver_email=shop%40example.net&test_ipn=1")
CONFIG = ipnkit.Config(environment="sandbox", receiver_emails=["shop@example.net"])
EXPECTED = ipnkit.Expected(amount="24.90", currency="EUR")


class Response(io.BytesIO):
    def __init__(self, status: int, data: bytes) -> None:
        super().__init__(data)
        self.status = status


class Opener:
    """Records each request and answers with ``answer(request)`` (a Response, or raises)."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def open(self, request, data=None, timeout=None):
        self.calls.append((request, timeout))
        return self.answer(request)


def test_handle_ipn_posts_back_and_returns_the_core_s_decision():
    opener = Opener(lambda r: Response(200, b"VERIFIED"))
    d = ipnkit.handle_ipn(BODY, config=CONFIG, expected=EXPECTED, stored_keys=[], opener=opener, timeout=5)
    assert (d.action, d.amount) == ("act", "matched")
    (request, timeout), = opener.calls
    assert request.full_url == ipnkit.verification_request(BODY, CONFIG).url
    assert (request.get_method(), request.data, timeout) == ("POST", b"cmd=_notify-validate&" + BODY, 5)


def test_no_answer_a_redirect_an_answer_over_the_cap_are_retry():
    def refused(r):
        raise urllib.error.URLError("connection refused")

    def redirected(r):
        raise urllib.error.HTTPError(r.full_url, 302, "Found", {"Location": "https://evil.example/"}, io.BytesIO(b""))

    def timed_out(r):
        raise TimeoutError("timed out")

    cases = [(refused, "no_answer"), (redirected, "http_status"), (timed_out, "no_answer"),
             (lambda r: Response(200, b"x" * (64 * 1024 + 1)), "no_answer"),
             (lambda r: Response(200, b"<html>VERIFIED</html>"), "unrecognized_body")]
    for answer, reason in cases:
        d = ipnkit.handle_ipn(BODY, config=CONFIG, expected=EXPECTED, stored_keys=[], opener=Opener(answer))
        assert (d.action, d.reason) == ("retry", reason)
    d = ipnkit.handle_ipn(BODY, config=CONFIG, expected=EXPECTED, stored_keys=[],
                          opener=Opener(lambda r: Response(200, b"INVALID")))
    assert (d.action, d.why) == ("refuse", "not_verified")


def test_the_default_opener_follows_no_redirect():
    handlers = [type(h).__name__ for h in ipnkit._opener().handlers]  # type: ignore[attr-defined]
    assert "_NoRedirect" in handlers and "HTTPRedirectHandler" not in handlers


def test_handle_webhook_fetches_paypal_s_certificate_once_per_key_only_from_paypal_s_url():
    shared = pathlib.Path(os.environ.get("IPNKIT_WEBHOOKS", ROOT.parent / "shared" / "webhooks"))
    if not (shared / "SOURCES.md").is_file():
        pytest.fail(f"the webhook vectors are missing: expected {shared} (set IPNKIT_WEBHOOKS)")
    name = "paypal2_2024-07-30_payment-sale-refunded"
    facts = json.loads((shared / f"{name}.json").read_text(encoding="utf-8"))
    body, pem = (shared / f"{name}.body").read_bytes(), (shared / f"{name}.pem").read_bytes()
    headers = {"Paypal-Transmission-Id": facts["transmission_id"], "Paypal-Transmission-Time": facts["transmission_time"],
               "Paypal-Transmission-Sig": facts["transmission_sig"], "Paypal-Cert-Url": facts["cert_url"],
               "Paypal-Auth-Algo": facts["auth_algo"]}
    live = ipnkit.Config(environment="live", receiver_emails=["shop@example.com"])
    verifier = ipnkit.WebhookVerifier(live, facts["webhook_id"])
    now = dt.datetime.fromisoformat(facts["transmission_time"].replace("Z", "+00:00")).timestamp()
    certificates: dict = {}
    opener = Opener(lambda r: Response(200, pem))
    common = dict(config=live, verifier=verifier, expected=ipnkit.Expected.any_amount(), opener=opener, now=now)
    first = ipnkit.handle_webhook(body, headers, stored_keys=[], certificates=certificates, **common)
    assert first.action == "act"
    assert [(r.full_url, r.get_method()) for r, _ in opener.calls] == [(facts["cert_url"], "GET")]
    again = ipnkit.handle_webhook(body, headers, stored_keys=[first.delivery_key], certificates=certificates, **common)
    assert again.action == "skip" and len(opener.calls) == 1
    forged = dict(headers, **{"Paypal-Cert-Url": "https://api.paypal.com.evil/v1/notifications/certs/CERT-1"})
    refused = ipnkit.handle_webhook(body, forged, stored_keys=[], certificates=certificates, **common)
    assert (refused.action, refused.why) == ("refuse", "not_verified") and len(opener.calls) == 1

    def down(r):
        raise urllib.error.URLError("down")

    cache: dict = {}
    later = ipnkit.handle_webhook(body, headers, stored_keys=[], certificates=cache,
                                  **dict(common, opener=Opener(down)))
    assert (later.action, later.reason, cache) == ("retry", "no_answer", {})
