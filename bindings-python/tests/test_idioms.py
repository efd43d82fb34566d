"""What a Django or Flask developer tries first: dir() and help(), misspellings, pickling and
copying (Celery, multiprocessing), equality, Money and date arithmetic, json.dumps."""

import copy
import datetime
import json
import pickle
import pydoc
from decimal import Decimal

import pytest

import ipnkit
from conftest import VECTORS

UTC = datetime.timezone.utc


def message(name):
    return ipnkit.parse((VECTORS / f"{name}.body").read_bytes())


def test_dir_completion_and_help_show_every_variable():
    m = message("web_accept--windows1252")
    listed = set(dir(m))
    assert set(ipnkit.MODELLED_VARIABLES) <= listed
    assert {"event", "items", "to_dict", "delivery_key"} <= listed
    text = pydoc.render_doc(ipnkit.Message, renderer=pydoc.plaintext)
    for name in ("mc_gross", "payment_date", "receiver_email", "transaction_subject"):
        assert name in text, name


def test_a_misspelled_attribute_raises_with_a_suggestion():
    m = message("web_accept--windows1252")
    with pytest.raises(AttributeError, match="did you mean 'mc_gross'"):
        m.mc_gros
    item = message("cart--count_mismatch").items[0]
    with pytest.raises(AttributeError, match="did you mean 'item_name'"):
        item.item_nme
    assert item.btn_id is None  # a member the message does not carry is None, not an error
    with pytest.raises(AttributeError):
        item.quantity = 3


@pytest.mark.parametrize("name", ["web_accept--windows1252", "cart--count_mismatch",
                                  "adaptive_pay--utf8_two_receivers", "masspay--unclaimed"])
def test_messages_and_records_pickle_copy_and_compare(name):
    m = message(name)
    for clone in (pickle.loads(pickle.dumps(m)), copy.copy(m), copy.deepcopy(m)):
        assert clone == m and hash(clone) == hash(m) and clone is not m
        assert clone.to_dict() == m.to_dict()
    assert ipnkit.parse(m.raw) == m
    assert m != ipnkit.parse(m.raw + b"&x=1")
    for group in (m.items, m.transactions, m.masspay_items):
        for record in group:
            clone = pickle.loads(pickle.dumps(record))
            assert clone == record and copy.copy(record) == record and type(clone) is type(record)
    for value in (m.mc_gross, m.payment_date):
        if value is not None:
            assert pickle.loads(pickle.dumps(value)) == value


def test_money_stays_in_its_currency():
    eur = ipnkit.Money(Decimal("24.90"), "EUR")
    assert eur + ipnkit.Money("0.10", "EUR") == ipnkit.Money(Decimal("25.00"), "EUR")
    assert eur - eur == ipnkit.Money(0, "EUR") and -eur == ipnkit.Money("-24.90", "EUR")
    assert sum([eur, eur]) == ipnkit.Money("49.80", "EUR")
    assert ipnkit.Money("1", "EUR") < eur and max(eur, ipnkit.Money("1", "EUR")) is eur
    with pytest.raises(TypeError):
        eur + ipnkit.Money("1.00", "USD")
    with pytest.raises(TypeError):
        eur < ipnkit.Money("1.00", "USD")
    with pytest.raises(TypeError):
        eur + Decimal("1")  # type: ignore[operator]
    with pytest.raises(TypeError):
        ipnkit.Money(24.9, "EUR")  # type: ignore[arg-type]
    assert eur != ipnkit.Money("24.90", "USD")
    assert str(eur) == "24.90 EUR" and str(ipnkit.Money("140", "JPY")) == "140 JPY"  # as in JS and PHP
    with pytest.raises(AttributeError):
        eur.amount = Decimal(0)  # type: ignore[misc]


def test_dates_compare_with_aware_datetimes():
    d = message("web_accept--windows1252").payment_date
    assert d is not None
    assert d.utc == datetime.datetime(2024, 3, 14, 16, 41, 7, tzinfo=UTC)
    assert d == datetime.datetime(2024, 3, 14, 16, 41, 7, tzinfo=UTC)
    assert d < datetime.datetime(2025, 1, 1, tzinfo=UTC)
    assert datetime.datetime(2020, 1, 1, tzinfo=UTC) < d
    assert d == datetime.datetime(2024, 3, 14, 9, 41, 7, tzinfo=datetime.timezone(datetime.timedelta(hours=-7)))
    assert d < datetime.datetime(2024, 3, 14, 9, 41, 7, tzinfo=datetime.timezone(datetime.timedelta(hours=-8)))
    assert str(d) == "09:41:07 Mar 14, 2024 PDT"
    with pytest.raises(TypeError):
        d < datetime.datetime(2025, 1, 1)  # naive: Python's own refusal


@pytest.mark.parametrize("name", ["cart--count_mismatch", "adaptive_pay--utf8_two_receivers",
                                  "masspay--unclaimed", "subscr_signup--with_trial"])
def test_json_dumps_works_with_one_shape(name):
    m = message(name)
    whole = m.to_dict()
    assert json.loads(json.dumps(whole)) == whole
    for group in ("items", "transactions", "masspay_items", "options"):
        records = getattr(m, group)
        assert [r.to_dict() for r in records] == whole.get(group, [])
        for record in records:
            # The same text as in the message's canonical JSON, key order included.
            assert json.dumps(record.to_dict()) in json.dumps(whole)


def test_the_event_table_is_reachable():
    assert set(ipnkit.EVENTS) == set(ipnkit.EVENT_CODES)
    assert "paid" in ipnkit.EVENTS["capture_completed"]
    text = pydoc.render_doc(ipnkit.Message, renderer=pydoc.plaintext)
    for code, meaning in ipnkit.EVENTS.items():
        assert f"{code}: {meaning}" in " ".join(text.split()), code


def test_attributes_are_converted_on_first_read_and_kept():
    m = message("cart--count_mismatch")
    assert "mc_gross" not in vars(m) and "items" not in vars(m)  # nothing converted at parse
    first = m.mc_gross
    assert vars(m)["mc_gross"] is first and m.mc_gross is first  # kept: a plain lookup after
    assert m.items is m.items and len(m.items) > 0
    assert m.txn_id == m.to_dict()["txn_id"] and m.memo is None and vars(m)["memo"] is None
    assert ipnkit.Message.mc_gross is None  # on the class: the value of an absent variable
