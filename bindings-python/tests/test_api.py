"""The API in Python idioms: types, immutability, postback, verdict, policy, deduplication."""

import datetime
from decimal import Decimal

import pytest

import ipnkit
from conftest import VECTORS, corpus_dir, files


def message(name):
    return ipnkit.parse((VECTORS / f"{name}.body").read_bytes())


def test_types_are_pythons_own():
    m = message("web_accept--windows1252")
    assert m.mc_gross == ipnkit.Money(Decimal("24.90"), "EUR")
    assert isinstance(m.mc_gross.amount, Decimal)
    assert m.payment_date.utc == datetime.datetime(2024, 3, 14, 16, 41, 7, tzinfo=datetime.timezone.utc)
    assert m.payment_date.utc.tzinfo is not None
    assert m.payment_date.text == "09:41:07 Mar 14, 2024 PDT"
    assert m.test_ipn is True and m.quantity == 2
    assert m.first_name == "Renée" and m.item_name == "Café crème – € 12 pack"
    assert m.txn_type == "web_accept" and m.event == "payment_completed" and m.family == "payment"
    assert m.parent_txn_id is None
    assert m.event in ipnkit.EVENT_CODES


def test_groups_are_lists_with_money():
    cart = message("cart--count_mismatch")
    assert [i.item_name for i in cart.items] == ["Tea", "Mug"]
    assert cart.items[0].mc_gross == ipnkit.Money(Decimal("8.00"), "GBP")
    assert cart.items[0].options[1].selection == "250 g"
    assert cart.items[1].tax is None
    with pytest.raises(AttributeError):
        cart.items[0].quantity = 3
    assert cart.to_dict()["notices"] == [{"code": "cart_count_mismatch", "field": "num_cart_items"}]
    pay = message("adaptive_pay--utf8_two_receivers")
    assert [t.amount for t in pay.transactions] == [
        ipnkit.Money(Decimal("80.00"), "EUR"), ipnkit.Money(Decimal("20.00"), "EUR")]
    assert message("subscr_signup--with_trial").period3 == ipnkit.Period(1, "Y")
    assert len(message("masspay--unclaimed").masspay_items) == 2


def test_messages_are_frozen_and_unknown_attributes_are_errors():
    m = message("web_accept--windows1252")
    with pytest.raises(AttributeError):
        m.mc_gross = None
    with pytest.raises(AttributeError):
        m.no_such_variable
    assert m.to_dict() is not m.to_dict()  # a copy each time: the message stays frozen


def test_postback_is_byte_exact_on_every_corpus_body():
    bodies = files(corpus_dir(), "*.body")
    for path in bodies:
        raw = path.read_bytes()
        assert ipnkit.postback(raw) == b"cmd=_notify-validate&" + raw, path.name


def test_verdicts():
    assert ipnkit.verdict(200, b"VERIFIED\r\n").is_verified
    assert (ipnkit.verdict(200, b"INVALID").kind, ipnkit.verdict(200, b"INVALID").reason) == ("invalid", None)
    html = ipnkit.verdict(200, b"<html>VERIFIED</html>")
    assert (html.kind, html.reason) == ("unexpected", "unrecognized_body")
    assert ipnkit.verdict(503, b"VERIFIED").reason == "http_status"
    assert ipnkit.verdict(503, b"VERIFIED") == ipnkit.verdict(500, b"")
    assert not ipnkit.Verdict.no_answer().is_verified
    assert ipnkit.Verdict.no_answer().reason == "no_answer"


SANDBOX = ipnkit.Config(environment="sandbox", receiver_emails=["SHOP@example.net"])


def decide(m, answer, expected=None, stored=(), config=SANDBOX):
    return ipnkit.decide(m, answer, config=config,
                         expected=expected or ipnkit.Expected(amount="100.00", currency="EUR"),
                         stored_keys=stored)


def test_a_verdict_cannot_be_written_only_received():
    # The attack: tell decide() a message is verified without PayPal's answer.
    with pytest.raises(TypeError, match="PayPal's answer"):
        ipnkit.Verdict("verified", None)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        decide(message("web_accept--multi_currency_settled"), ("verified", None))
    with pytest.raises(TypeError):
        ipnkit._native.NativeVerdict()  # no constructor from Python
    v = ipnkit.verdict(200, b"INVALID")
    with pytest.raises(AttributeError):
        v.kind = "verified"  # type: ignore[misc]
    no_answer = decide(message("web_accept--multi_currency_settled"), ipnkit.Verdict.no_answer())
    assert no_answer == ipnkit.Retry("retry", "no_answer")


def test_verification_request_uses_the_configured_environment():
    live = ipnkit.Config(environment="live", receiver_emails=["shop@example.net"])
    request = ipnkit.verification_request(b"test_ipn=1&txn_id=1", live)
    assert request.url == "https://ipnpb.paypal.com/cgi-bin/webscr"
    assert request.body == b"cmd=_notify-validate&test_ipn=1&txn_id=1"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    local = ipnkit.Config(environment="sandbox", verify_url_for_testing="http://127.0.0.1:9")
    assert ipnkit.verification_request(b"a=1", local).url == "http://127.0.0.1:9/cgi-bin/webscr"
    # Always available, even when the values do not decode.
    assert ipnkit.verification_request(b"a=%ZZ", local).body == b"cmd=_notify-validate&a=%ZZ"
    assert message("web_accept--windows1252").verification_request(live).url == request.url


def test_decide_reports_every_violation_and_one_action():
    m = message("web_accept--multi_currency_settled")
    verified = ipnkit.verdict(200, b"VERIFIED")
    ok = decide(m, verified, ipnkit.Expected(amount=Decimal("100.00"), currency="EUR"))
    assert ok == ipnkit.Act("act", "payment_completed", "payment", m.delivery_key, m.lookup_id,
                            ipnkit.Delivery("new", None, None), "matched")
    live = ipnkit.Config(environment="live", receiver_emails=["other@example.net"])
    bad = decide(m, verified, ipnkit.Expected(amount="99.99", currency="USD"), config=live)
    assert isinstance(bad, ipnkit.RefusedByRules)
    assert [v.code for v in bad.violations] == ["environment_mismatch", "receiver_mismatch",
                                                "amount_mismatch", "currency_mismatch"]
    assert (bad.action, bad.why, bad.ours) == ("refuse", "rules", False)
    assert all(v.code in ipnkit.VIOLATION_CODES for v in bad.violations)
    unverified = decide(m, ipnkit.verdict(200, b"<html>VERIFIED</html>"))
    assert unverified == ipnkit.Retry("retry", "unrecognized_body")
    assert decide(m, ipnkit.verdict(200, b"INVALID")) == ipnkit.RefusedNotVerified("refuse", "not_verified")
    pending = decide(message("web_accept--pending_echeck"), verified, ipnkit.Expected.any_amount())
    assert isinstance(pending, ipnkit.RefusedByRules) and pending.ours
    assert pending.violations == [ipnkit.Violation("status_not_final", "payment_status", "echeck")]
    again = decide(m, verified, stored=[m.delivery_key])
    assert (again.action, again.delivery.kind if again.action == "skip" else None) == ("skip", "duplicate")
    no_order = decide(m, verified, ipnkit.Expected.no_order())
    assert isinstance(no_order, ipnkit.RefusedByRules)
    assert [v.code for v in no_order.violations] == ["order_not_found"]


def test_configuration_mistakes_are_errors_not_silent_misses():
    # A str where a list belongs is a TypeError naming the key (a str is a sequence of letters).
    with pytest.raises(TypeError) as caught:
        ipnkit.Config(environment="live", receiver_emails="shop@example.net")  # type: ignore[arg-type]
    assert isinstance(caught.value, ipnkit.ArgumentError)
    assert (caught.value.code, caught.value.field) == ("wrong_type", "receiver_emails")
    with pytest.raises(ipnkit.ConfigurationError) as caught:
        ipnkit.Config(environment="live", final_statuses=["refunded"])  # type: ignore[list-item]
    assert (caught.value.code, caught.value.field) == ("invalid_configuration", "final_statuses")
    with pytest.raises(ipnkit.ConfigurationError) as caught:
        ipnkit.Config(environment="production")  # type: ignore[arg-type]
    assert caught.value.field == "environment"
    with pytest.raises(ipnkit.ConfigurationError) as caught:
        ipnkit.Config(environment="live", limits={"max_feilds": 10})  # type: ignore[typeddict-unknown-key]
    assert caught.value.field == "limits.max_feilds"
    m = message("web_accept--multi_currency_settled")
    with pytest.raises(TypeError):
        ipnkit.classify(m, m.delivery_key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        decide(m, ipnkit.verdict(200, b"VERIFIED"), stored=m.delivery_key)


def test_amounts_are_exact_and_never_silently_skipped():
    with pytest.raises(TypeError) as caught:
        ipnkit.Expected(amount=100.0, currency="EUR")  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.field) == ("wrong_type", "amount")
    with pytest.raises(ipnkit.ConfigurationError) as caught:
        ipnkit.Expected(amount=None, currency="EUR")  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.field) == ("invalid_configuration", "amount")
    with pytest.raises(ipnkit.ConfigurationError):
        ipnkit.Expected(amount="100,00", currency="EUR")
    m = message("web_accept--multi_currency_settled")
    verified = ipnkit.verdict(200, b"VERIFIED")
    assert decide(m, verified, ipnkit.Expected(amount="100.000", currency="EUR")).action == "act"
    assert decide(m, verified, ipnkit.Expected(amount="100.01", currency="EUR")).action == "refuse"
    donation = decide(m, verified, ipnkit.Expected.any_amount())
    assert (donation.action, donation.amount if donation.action == "act" else None) == ("act", "not_asked")
    with pytest.raises(ipnkit.ConfigurationError) as caught:
        ipnkit.Expected.any_amount(currency="euro")
    assert caught.value.field == "currency"


def test_errors_name_the_fix():
    m = message("web_accept--multi_currency_settled")
    with pytest.raises(TypeError, match="PayPal's answer to the postback as bytes.*not the IPN body"):
        ipnkit.verdict(200, "VERIFIED")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"stored_keys\[1\] is int"):
        ipnkit.classify(m, [m.delivery_key, 7])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="a list of str"):
        ipnkit.classify(m, m.delivery_key)
    with pytest.raises(TypeError, match='pass amounts as strings, e.g. "24.90"'):
        ipnkit.Expected(amount=24.9, currency="EUR")  # type: ignore[arg-type]


def test_limits_are_reachable():
    small = ipnkit.Config(environment="live", limits={"max_fields": 2})
    with pytest.raises(ipnkit.LimitError) as caught:
        ipnkit.parse(b"a=1&b=2&c=3", config=small)
    assert caught.value.code == "too_many_fields"
    assert ipnkit.parse(b"a=1&b=2", config=small).extra == [("a", "1"), ("b", "2")]
    # Limits given as numbers (a pickled message's) are checked by the core as a
    # configuration's are: zero is not a limit.
    for bad, field in (((0, 10, 10), "limits.max_body_bytes"), ((10, 0, 10), "limits.max_fields"),
                       ((10, 10, 1 << 40), "limits.max_key_bytes")):
        with pytest.raises(ipnkit.ConfigurationError) as caught:
            ipnkit._core.receive(b"a=1", bad)
        assert caught.value.field == field


def test_classify_duplicates_and_transitions():
    pending = ipnkit.parse(b"txn_id=T1&payment_status=Pending&pending_reason=echeck")
    completed = ipnkit.parse(b"txn_id=T1&payment_status=Completed")
    assert pending.lookup_id == completed.lookup_id == "txn:T1"
    assert ipnkit.classify(pending, []) == ipnkit.Delivery("new", None, None)
    assert ipnkit.classify(pending, [pending.delivery_key]).kind == "duplicate"
    assert ipnkit.classify(completed, [pending.delivery_key]) == ipnkit.Delivery(
        "transition", "Pending/echeck", "Completed")
    assert ipnkit.classify(pending, [completed.delivery_key]) == ipnkit.Delivery(
        "stale", "Completed", "Pending/echeck")
    with pytest.raises(ipnkit.ConfigurationError) as caught:
        ipnkit.classify(pending, ["txn:T1:event=whatever"])
    assert caught.value.code == "invalid_delivery_key"


def test_every_modelled_variable_is_an_attribute():
    m = message("subscr_signup--with_trial")
    d = m.to_dict()
    for name in ipnkit.MODELLED_VARIABLES:
        assert (getattr(m, name) is not None) == (name in d), name
