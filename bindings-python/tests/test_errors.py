"""Every error class, from the shared malformed vectors; the codes cannot drift from the core's."""

import pytest

import ipnkit
from conftest import VECTORS, files

MALFORMED = files(VECTORS / "malformed", "*.body")
UNREADABLE = files(VECTORS / "unreadable", "*.body")


def error_class(code):
    """The class the core's schema names for `code` (what generate_types.py wrote)."""
    [kind] = [e for e in ipnkit.schema()["errors"] if code in e["codes"]]
    return getattr(ipnkit, kind["class"])


def test_every_core_error_kind_has_its_class():
    kinds = ipnkit.schema()["errors"]
    assert sorted(c for e in kinds for c in e["codes"]) == sorted(ipnkit.ERROR_CODES)
    for kind in kinds:
        cls = getattr(ipnkit, kind["class"])
        assert issubclass(cls, ipnkit.IpnError) and cls is not ipnkit.IpnError, kind
    assert issubclass(ipnkit.IpnError, ValueError)
    assert issubclass(ipnkit.ArgumentError, TypeError)


@pytest.mark.parametrize("body", MALFORMED, ids=lambda p: p.stem)
def test_malformed_vectors_raise_their_class_with_code_and_field(body):
    code = body.name.split("--")[0]
    with pytest.raises(ipnkit.IpnError) as caught:
        ipnkit.parse(body.read_bytes())
    error = caught.value
    assert error.code == code
    assert type(error) is error_class(code)
    if code != "empty_body":
        assert error.field is not None or code in ("empty_key", "missing_separator")


@pytest.mark.parametrize("body", UNREADABLE, ids=lambda p: p.stem)
def test_values_not_of_their_type_are_notices_and_kept(body):
    code = body.name.split("--")[0]
    m = ipnkit.parse(body.read_bytes())
    notices = [n for n in m.to_dict()["notices"] if n["code"] == code]
    assert len(notices) == 1
    field = notices[0]["field"]
    assert getattr(m, field, None) is None if field in ipnkit.MODELLED_VARIABLES else True
    assert field in dict(m.variables) and field in dict(m.extra)


def test_errors_never_echo_values():
    with pytest.raises(ipnkit.DuplicateKeyError) as caught:
        ipnkit.parse(b"mc_gross_1=1000.00&first_name=Secretname&mc_gross1=0.01")
    assert (caught.value.code, caught.value.field) == ("duplicate_key", "mc_gross1")
    assert "1000" not in str(caught.value) and "Secretname" not in str(caught.value)


@pytest.mark.parametrize("value", ["a=1", 1, None, ["a=1"]])
def test_the_body_must_be_bytes(value):
    with pytest.raises(TypeError, match="bytes"):
        ipnkit.parse(value)


def test_str_gets_a_helpful_message():
    with pytest.raises(TypeError, match=r"request\.body in Django"):
        ipnkit.postback("txn_id=1")


def test_bytearray_is_accepted():
    assert ipnkit.postback(bytearray(b"a=1")) == b"cmd=_notify-validate&a=1"


def test_errors_pickle_and_copy():
    import copy
    import pickle

    with pytest.raises(ipnkit.DuplicateKeyError) as caught:
        ipnkit.parse(b"a=1&a=2")
    for clone in (pickle.loads(pickle.dumps(caught.value)), copy.copy(caught.value)):
        assert type(clone) is ipnkit.DuplicateKeyError
        assert (clone.code, clone.field, str(clone)) == ("duplicate_key", "a", str(caught.value))
