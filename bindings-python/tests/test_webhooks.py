"""PayPal REST webhooks from Python: every signed delivery of `../shared/webhooks` verifies at its
transmission time, each source-asserted negative and each change is refused with the core's code,
and each event's JSON is the core's golden file (`tests/webhooks/NAME.json`)."""

import datetime as dt
import json
import os
import pathlib

import pytest

import ipnkit
from conftest import ROOT, files

HEADERS = {
    "transmission_id": "Paypal-Transmission-Id",
    "transmission_time": "Paypal-Transmission-Time",
    "transmission_sig": "Paypal-Transmission-Sig",
    "cert_url": "Paypal-Cert-Url",
    "auth_algo": "Paypal-Auth-Algo",
}
PLACEHOLDER = "sdk-java-test_2017-03-30_billing-plan-created"


def webhooks_dir() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("IPNKIT_WEBHOOKS", ROOT.parent / "shared" / "webhooks"))
    if not (path / "SOURCES.md").is_file():
        pytest.fail(f"the webhook vectors are missing: expected {path} (set IPNKIT_WEBHOOKS to its path)")
    return path


class Vector:
    def __init__(self, path: pathlib.Path) -> None:
        self.name = path.stem
        self.facts = json.loads(path.read_text(encoding="utf-8"))
        self.body = (path.parent / self.facts["body_file"]).read_bytes()
        self.pem = (path.parent / self.facts["cert_file"]).read_bytes()

    def headers(self, **changes: str) -> dict:
        values = {key: self.facts[key] for key in HEADERS}
        if self.name == PLACEHOLDER:  # the URL is not signed: one of PayPal's form
            values["cert_url"] = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-placeholder"
        values.update(changes)
        return {HEADERS[k]: v for k, v in values.items()}

    @property
    def environment(self) -> str:
        return "sandbox" if ".sandbox." in self.facts["cert_url"] else "live"

    @property
    def at(self) -> float:
        return dt.datetime.fromisoformat(self.facts["transmission_time"].replace("Z", "+00:00")).timestamp()

    def verifier(self, webhook_id: str = "") -> ipnkit.WebhookVerifier:
        config = ipnkit.Config(environment=self.environment, receiver_emails=["shop@example.com"])
        return ipnkit.WebhookVerifier(config, webhook_id or self.facts["webhook_id"])

    def verdict(self, body: bytes = b"", headers: dict = None, verifier=None) -> ipnkit.WebhookVerdict:
        webhook = ipnkit.receive_webhook(body or self.body, headers or self.headers())
        verifier = verifier or self.verifier()
        request = webhook.certificate_request(verifier)
        if isinstance(request, ipnkit.WebhookVerdict):
            return request
        return webhook.verify(verifier, 200, self.pem, now=self.at)


def vectors() -> list:
    found = [Vector(p) for p in files(webhooks_dir(), "*.json")]
    assert len(found) == 19
    return found


VECTORS = vectors()


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.name)
def test_every_vector_verifies_at_its_transmission_time(v):
    assert v.verdict().is_verified
    assert v.verdict() == v.verdict()


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.name)
def test_each_change_is_refused_with_the_core_s_code(v):
    pretty = json.dumps(json.loads(v.body), indent=2).encode()
    assert v.verdict(body=pretty).reason == "signature_mismatch"
    assert v.verdict(body=v.body + b"\n").reason == "signature_mismatch"
    assert v.verdict(verifier=v.verifier("WRONG")).reason == "signature_mismatch"
    evil = v.headers()["Paypal-Cert-Url"].replace(".paypal.com/", ".paypal.com.evil/")
    assert v.verdict(headers=v.headers(cert_url=evil)).reason == "cert_url_host"
    late = ipnkit.receive_webhook(v.body, v.headers())
    verdict = late.verify(v.verifier(), 200, v.pem, now=v.at + 3 * 86400 + 1)
    assert (verdict.kind, verdict.reason) == ("invalid", "stale_transmission")


def test_the_source_asserted_negatives_are_refused():
    cases = 0
    for v in VECTORS:
        for case in v.facts.get("source_negative_cases", []):
            cases += 1
            change = dict(case["change"])
            body = v.body
            if "body_file" in change:
                body = (webhooks_dir() / change.pop("body_file")).read_bytes()
            if "body" in change:
                body = (change.pop("body") or "").encode()
            webhook_id = change.pop("webhook_id", "")
            headers = v.headers(**change)
            webhook = ipnkit.receive_webhook(body, headers)
            verifier = v.verifier(webhook_id)
            verdict = webhook.verify(verifier, 200, v.pem, now=v.at)
            expected = "unsupported_algorithm" if "auth_algo" in case["change"] else "signature_mismatch"
            assert (verdict.kind, verdict.reason) == ("invalid", expected), (v.name, case["case"])
    assert cases == 9


def test_the_placeholder_url_is_refused_before_any_fetch():
    v = next(v for v in VECTORS if v.name == PLACEHOLDER)
    verdict = v.verdict(headers=v.headers(cert_url=v.facts["cert_url"]))
    assert (verdict.kind, verdict.reason) == ("invalid", "cert_url_path")


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.name)
def test_each_event_is_the_core_s_golden_json(v):
    webhook = ipnkit.receive_webhook(v.body, v.headers())
    golden = json.loads((ROOT / "tests" / "webhooks" / f"{v.name}.json").read_text(encoding="utf-8"))
    assert webhook.to_dict() == golden
    event = webhook.event
    assert (event.id, event.event, event.resource.kind) == (golden["id"], golden["event"], golden["resource"]["kind"])
    assert event.json["id"] == event.id
    if golden["resource"]["amount"]:
        assert event.resource.amount == ipnkit.Money(golden["resource"]["amount"]["amount"], golden["resource"]["amount"]["currency"])
    if golden["create_time"]:
        assert event.create_time.text == golden["create_time"]["text"]
        assert event.create_time.utc.tzinfo is not None


def test_header_errors_name_the_header_never_the_value():
    v = VECTORS[0]
    headers = v.headers()
    del headers["Paypal-Cert-Url"]
    with pytest.raises(ipnkit.HeaderError) as missing:
        ipnkit.receive_webhook(v.body, headers)
    assert (missing.value.code, missing.value.field) == ("missing_header", "PAYPAL-CERT-URL")
    pairs = list(v.headers().items()) + [("paypal-cert-url", "https://api.paypal.com/x")]
    with pytest.raises(ipnkit.HeaderError) as repeated:
        ipnkit.receive_webhook(v.body, pairs)
    assert repeated.value.code == "repeated_header"
    with pytest.raises(ipnkit.HeaderError) as bad:
        ipnkit.receive_webhook(v.body, v.headers(transmission_time="yesterday-secret"))
    assert (bad.value.code, bad.value.field) == ("invalid_header", "PAYPAL-TRANSMISSION-TIME")
    assert "secret" not in str(bad.value)
    with pytest.raises(TypeError, match="bytes, not str"):
        ipnkit.receive_webhook(v.body.decode(), v.headers())


def test_a_body_that_is_not_an_event_raises_its_code_and_is_refused_as_unreadable():
    v = VECTORS[0]
    webhook = ipnkit.receive_webhook(b'{"id":"a","id":"b"}', v.headers())
    with pytest.raises(ipnkit.DuplicateKeyError) as e:
        webhook.event
    assert (e.value.code, e.value.field) == ("duplicate_key", "id")


def test_a_certificate_that_cannot_be_had_is_retry_later():
    v = VECTORS[0]
    webhook = ipnkit.receive_webhook(v.body, v.headers())
    for status, body, reason in [(500, v.pem, "http_status"), (200, b"", "empty_body"),
                                 (200, b"<html>busy</html>", "unrecognized_body")]:
        verdict = webhook.verify(v.verifier(), status, body, now=v.at)
        assert (verdict.kind, verdict.reason) == ("unexpected", reason)
    assert ipnkit.WebhookVerdict.no_answer().kind == "unexpected"
    with pytest.raises(TypeError):
        ipnkit.WebhookVerdict()


def test_decisions_act_once_and_share_ipn_s_keys():
    v = next(v for v in VECTORS if v.name == "paypal2_2024-07-30_payment-sale-refunded")
    webhook = ipnkit.receive_webhook(v.body, v.headers())
    config = ipnkit.Config(environment="live", receiver_emails=["shop@example.com"])
    expected = ipnkit.Expected.any_amount()
    verdict = webhook.verify(v.verifier(), 200, v.pem, now=v.at)
    first = ipnkit.decide_webhook(webhook, verdict, config=config, expected=expected, stored_keys=[])
    assert first.action == "act"
    assert first.event == "payment_refunded"
    assert first.delivery_key == f"txn:{webhook.event.resource.id}:Refunded"
    again = ipnkit.decide_webhook(webhook, verdict, config=config, expected=expected, stored_keys=[first.delivery_key])
    assert (again.action, again.delivery.kind) == ("skip", "duplicate")
    # The IPN of the same refund is a duplicate too.
    ipn = ipnkit.parse(f"txn_id={webhook.event.resource.id}&payment_status=Refunded&mc_gross=-0.01"
                       "&mc_currency=USD&receiver_email=shop%40example.com".encode())
    assert ipn.delivery_key == first.delivery_key
    refused = ipnkit.decide_webhook(webhook, v.verdict(verifier=v.verifier("WRONG")), config=config,
                                    expected=expected, stored_keys=[])
    assert (refused.action, refused.why) == ("refuse", "not_verified")


def test_the_online_request_carries_the_body_s_bytes():
    v = VECTORS[0]
    webhook = ipnkit.receive_webhook(v.body, v.headers())
    request = webhook.online_request(v.verifier())
    assert isinstance(request, ipnkit.OnlineRequest)
    assert request.body.endswith(v.body + b"}")
    assert ipnkit.Webhook.online_verdict(v.verifier(), 200, b'{"verification_status":"SUCCESS"}').is_verified
    assert ipnkit.Webhook.online_verdict(v.verifier(), 200, b'{"verification_status":"FAILURE"}').reason == "online_failure"


def test_a_stand_in_s_certificates_only_by_the_test_option_and_never_in_live():
    live = ipnkit.Config(environment="live", receiver_emails=["shop@example.com"])
    with pytest.raises(ipnkit.ConfigurationError) as e:
        ipnkit.WebhookVerifier(live, "WH", certificate_base_for_testing="http://127.0.0.1:8081")
    assert (e.value.code, e.value.field) == ("invalid_configuration", "certificate_base_for_testing")
    sandbox = ipnkit.Config(environment="sandbox", receiver_emails=["shop@example.com"])
    v = VECTORS[0]
    url = "http://127.0.0.1:8081/v1/notifications/certs/CERT-ipnkit-sandbox"
    webhook = ipnkit.receive_webhook(v.body, v.headers(cert_url=url))
    plain = ipnkit.WebhookVerifier(sandbox, "WH")
    refused = webhook.certificate_request(plain)
    assert isinstance(refused, ipnkit.WebhookVerdict) and refused.reason == "cert_url_form"
    local = ipnkit.WebhookVerifier(sandbox, "WH", certificate_base_for_testing="http://127.0.0.1:8081")
    assert webhook.certificate_request(local) == ipnkit.CertificateRequest(url, url)
