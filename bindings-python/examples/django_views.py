# examples/django_views.py: a PayPal IPN endpoint in Django, and the job that settles it.
import sqlite3
from typing import Callable, Sequence

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
