# examples/django_views.py: PayPal IPN and REST webhook endpoints in Django, and the jobs that
# settle them.
import json
import sqlite3
from typing import Callable, Dict, Optional, Sequence, Tuple

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

import ipnkit

CONFIG = ipnkit.Config(environment="sandbox", receiver_emails=["shop@example.net"])
DATABASE = "ipn.sqlite"  # your own store: a model, a table; the raw bytes, in a binary column


@csrf_exempt  # PayPal posts no CSRF token
@require_POST
def paypal_ipn(request: HttpRequest) -> HttpResponse:
    body = request.body  # the raw bytes, first and only: request.POST is decoded and re-encoded
    with sqlite3.connect(DATABASE) as db:  # stored before answering: nothing is lost
        db.execute("CREATE TABLE IF NOT EXISTS ipn (id INTEGER PRIMARY KEY, body BLOB)")
        db.execute("INSERT INTO ipn (body) VALUES (?)", (body,))
    return HttpResponse(status=200)  # at once: PayPal resends until it gets a 2xx


def settle(
    body: bytes,
    post: Callable[[ipnkit.VerificationRequest], ipnkit.Verdict],
    expected: ipnkit.Expected,
    stored_keys: Sequence[str],
) -> ipnkit.Action:
    """The background job (Celery, a management command): verify, check, deduplicate."""
    answer = post(ipnkit.verification_request(body, CONFIG))
    if answer.kind == "unexpected":
        # A 5xx, a timeout, an HTML page: not an answer. Keep the body and try again later
        # (minutes, then hours); never act on it, never drop it.
        return "retry"
    decision = ipnkit.decide(ipnkit.parse(body), answer, config=CONFIG, expected=expected,
                             stored_keys=stored_keys)
    # "act": do it, and store decision.delivery_key in the same transaction.
    return decision.action


# A webhook's verifier: your webhook's id, from PayPal's developer dashboard.
VERIFIER = ipnkit.WebhookVerifier(CONFIG, "WEBHOOK_ID")


@csrf_exempt
@require_POST
def paypal_webhook(request: HttpRequest) -> HttpResponse:
    body = request.body  # the raw bytes PayPal signed: never json.loads() and dumped again
    headers = {k: v for k, v in request.headers.items() if k.lower().startswith("paypal-")}
    with sqlite3.connect(DATABASE) as db:  # stored with its headers before answering
        db.execute("CREATE TABLE IF NOT EXISTS webhook (id INTEGER PRIMARY KEY, body BLOB, headers TEXT)")
        db.execute("INSERT INTO webhook (body, headers) VALUES (?, ?)", (body, json.dumps(headers)))
    return HttpResponse(status=200)


def settle_webhook(
    body: bytes,
    headers: Dict[str, str],
    fetch: Callable[[str], Optional[Tuple[int, bytes]]],
    expected: ipnkit.Expected,
    stored_keys: Sequence[str],
    now: Optional[float] = None,
) -> ipnkit.Action:
    """The background job: fetch PayPal's certificate (your HTTP client, no redirects, cached by
    its cache_key), verify offline, check, deduplicate against IPN's keys too."""
    webhook = ipnkit.receive_webhook(body, headers)
    request = webhook.certificate_request(VERIFIER)
    if isinstance(request, ipnkit.WebhookVerdict):
        verdict = request  # not PayPal's certificate URL: nothing is fetched
    else:
        answer = fetch(request.url)
        verdict = ipnkit.WebhookVerdict.no_answer() if answer is None else webhook.verify(
            VERIFIER, answer[0], answer[1], now=now)
    decision = ipnkit.decide_webhook(webhook, verdict, config=CONFIG, expected=expected,
                                     stored_keys=stored_keys)
    # "retry" when the certificate could not be had: keep the webhook and try again later.
    return decision.action
