"""Receive PayPal Instant Payment Notifications without losing a byte, a cent or a message.

The raw body stays byte-exact: ``postback(body)`` is ``cmd=_notify-validate&`` followed by it.
``parse(body)`` gives a frozen :class:`Message` with every variable of PayPal's IPN guide typed
(``decimal.Decimal`` amounts with their currency, timezone-aware ``datetime`` in UTC), the
``event`` to dispatch on, and ``to_dict()`` in the canonical JSON shape shared by every ipnkit
binding. Errors are :class:`IpnError` subclasses with a stable ``.code`` and the ``.field``, never
the value. All of it runs in the Rust core; this module only converts.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
from decimal import Decimal
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type, cast

from . import _native

__all__ = [
    "ERROR_CODES", "EVENT_CODES", "VIOLATION_CODES", "MODELLED_VARIABLES",
    "IpnError", "BodyError", "LimitError", "FormatError", "CharsetError", "DuplicateKeyError",
    "ValueFormatError", "ConfigurationError",
    "Money", "Period", "PayPalDate", "Message", "Record", "VerificationRequest", "Verdict", "Violation",
    "Delivery", "parse", "postback", "verification_request", "verdict", "check", "classify",
]

ERROR_CODES: Tuple[str, ...] = tuple(_native.ERROR_CODES)
EVENT_CODES: Tuple[str, ...] = tuple(_native.EVENT_CODES)
VIOLATION_CODES: Tuple[str, ...] = tuple(_native.VIOLATION_CODES)
MODELLED_VARIABLES: Tuple[str, ...] = tuple(_native.MODELLED_VARIABLES)


class IpnError(ValueError):
    """An IPN body or value ipnkit refuses. ``code`` is stable; ``field`` names the variable."""

    code: str
    field: Optional[str]

    def __init__(self, code: str, field: Optional[str], message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class BodyError(IpnError):
    """The body holds no variable (``empty_body``)."""


class LimitError(IpnError):
    """A size limit was passed (``body_too_large``, ``too_many_fields``, ``key_too_long``)."""


class FormatError(IpnError):
    """The form encoding is broken (``empty_key``, ``missing_separator``, ``malformed_escape``)."""


class CharsetError(IpnError):
    """The charset is unknown or the bytes are not in it (``invalid_encoding``,
    ``unknown_charset``, ``unsupported_charset``)."""


class DuplicateKeyError(IpnError):
    """The same variable twice (``duplicate_key``): HTTP parameter pollution."""


class ValueFormatError(IpnError):
    """A known variable's value is not of its type (``invalid_amount``, ``invalid_currency``,
    ``invalid_date``, ``invalid_number``, ``invalid_flag``, ``invalid_period``)."""


class ConfigurationError(IpnError):
    """A configuration value is wrong (``unknown_environment``)."""


_ERROR_CLASSES: Dict[str, Type[IpnError]] = {
    "empty_body": BodyError,
    "body_too_large": LimitError,
    "too_many_fields": LimitError,
    "key_too_long": LimitError,
    "empty_key": FormatError,
    "missing_separator": FormatError,
    "malformed_escape": FormatError,
    "invalid_encoding": CharsetError,
    "unknown_charset": CharsetError,
    "unsupported_charset": CharsetError,
    "duplicate_key": DuplicateKeyError,
    "invalid_amount": ValueFormatError,
    "invalid_currency": ValueFormatError,
    "invalid_date": ValueFormatError,
    "invalid_number": ValueFormatError,
    "invalid_flag": ValueFormatError,
    "invalid_period": ValueFormatError,
    "unknown_environment": ConfigurationError,
}


def _raise(error: Exception) -> "IpnError":
    code, field, message = error.args
    return _ERROR_CLASSES.get(code, IpnError)(code, field, message)


class Money(NamedTuple):
    """An exact amount with its currency (``None`` when the message names none)."""

    amount: Decimal
    currency: Optional[str]


@dataclass(frozen=True)
class Period:
    """A subscription period: ``Period(3, "M")`` is three months."""

    count: int
    unit: str


class PayPalDate(NamedTuple):
    """A date PayPal wrote: the instant (aware, UTC) and the text as received."""

    utc: _dt.datetime
    text: str


def _convert(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2:
        first, second = value
        if isinstance(first, Decimal):
            return Money(first, second)
        if isinstance(first, _dt.datetime):
            return PayPalDate(first, second)
        if isinstance(first, int):
            return Period(first, second)
    return value


class Message:
    """A parsed IPN message, frozen. Every variable of PayPal's IPN guide is an attribute named
    as PayPal names it (``m.mc_gross``, ``m.payment_date``), ``None`` when absent."""

    __slots__ = ("_native", "_dict")

    def __init__(self, native: Any) -> None:
        object.__setattr__(self, "_native", native)
        object.__setattr__(self, "_dict", None)

    def __getattr__(self, name: str) -> Any:
        try:
            return _convert(self._native.get(name))
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ipnkit.Message is immutable")

    def __repr__(self) -> str:
        return f"<ipnkit.Message event={self.event!r} txn_id={self.txn_id!r}>"

    @property
    def event(self) -> str:
        """What happened: one of :data:`EVENT_CODES` (``payment_completed``…)."""
        return str(self._native.event)

    @property
    def family(self) -> str:
        """The family of notification (``payment``, ``cart``, ``subscription``…)."""
        return str(self._native.family)

    def to_dict(self) -> Dict[str, Any]:
        """The canonical JSON shape (amounts as strings, dates as RFC 3339 ``utc`` + ``text``)."""
        if self._dict is None:
            object.__setattr__(self, "_dict", _json.loads(self._native.to_json()))
        return cast(Dict[str, Any], _json.loads(_json.dumps(self._dict)))

    def _group(self, name: str) -> List[Record]:
        if self._dict is None:
            object.__setattr__(self, "_dict", _json.loads(self._native.to_json()))
        return [_typed(item) for item in self._dict.get(name, [])]

    @property
    def items(self) -> List[Record]:
        """Cart items, by number (amounts as :class:`Money`)."""
        return self._group("items")

    @property
    def masspay_items(self) -> List[Record]:
        """Mass Pay payments, by number."""
        return self._group("masspay_items")

    @property
    def transactions(self) -> List[Record]:
        """Adaptive Payments transactions, by index."""
        return self._group("transactions")

    @property
    def options(self) -> List[Record]:
        """Options of a single item."""
        return self._group("options")

    @property
    def fraud_filters(self) -> List[str]:
        """``fraud_management_pending_filters_N``, by number."""
        return list(self.to_dict().get("fraud_filters", []))

    @property
    def extra(self) -> List[Tuple[str, str]]:
        """Variables ipnkit does not model, in their original order."""
        return list(self._native.extra())

    @property
    def variables(self) -> List[Tuple[str, str]]:
        """Every variable as received (decoded), in order: nothing is lost."""
        return list(self._native.variables())

    @property
    def delivery_key(self) -> str:
        """The key that identifies this delivery across PayPal's retries and resends."""
        return str(self._native.delivery_key()[0])

    @property
    def lookup_id(self) -> str:
        """What to look stored delivery keys up by (the transaction)."""
        return str(self._native.delivery_key()[1])


class Record:
    """A frozen group member (cart item, Mass Pay item, Adaptive transaction, option): PayPal's
    variable names as attributes (``item.mc_gross``), ``None`` when absent."""

    __slots__ = ("_values",)

    def __init__(self, values: Dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._values.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ipnkit records are immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._values.items())))

    def __repr__(self) -> str:
        return f"Record({self._values!r})"

    def to_dict(self) -> Dict[str, Any]:
        """The fields present, typed (amounts as :class:`Money`)."""
        return dict(self._values)


def _typed(item: Dict[str, Any]) -> Record:
    out: Dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and set(value) == {"amount", "currency"}:
            out[key] = Money(Decimal(value["amount"]), value["currency"])
        elif key == "extra" and isinstance(value, list):
            out[key] = [tuple(pair) for pair in value]
        elif key == "options" and isinstance(value, list):
            out[key] = [_typed(option) for option in value]
        else:
            out[key] = value
    return Record(out)


def parse(body: bytes) -> Message:
    """Parses the raw bytes PayPal POSTed. Raises :class:`IpnError` (a subclass per kind)."""
    try:
        return Message(_native.parse(body))
    except _native.NativeError as error:
        raise _raise(error) from None


def postback(body: bytes) -> bytes:
    """``cmd=_notify-validate&`` followed by the body, byte for byte."""
    try:
        return bytes(_native.postback(body))
    except _native.NativeError as error:
        raise _raise(error) from None


class VerificationRequest(NamedTuple):
    """What to POST to PayPal: any HTTP client can send it as it is."""

    url: str
    headers: Dict[str, str]
    body: bytes


def verification_request(
    body: bytes, environment: str, *, base_url_for_testing: Optional[str] = None
) -> VerificationRequest:
    """The postback request for ``environment`` (``"live"`` or ``"sandbox"``: your configuration,
    never the message's ``test_ipn``). ``base_url_for_testing`` points it at a local stand-in."""
    try:
        url, headers, data = _native.verification_request(body, environment, base_url_for_testing)
    except _native.NativeError as error:
        raise _raise(error) from None
    return VerificationRequest(url, dict(headers), bytes(data))


class Verdict(NamedTuple):
    """PayPal's answer: ``kind`` is ``verified``, ``invalid`` or ``unexpected`` (retry later)."""

    kind: str
    reason: Optional[str]

    @property
    def is_verified(self) -> bool:
        """Only HTTP 200 with a body that is exactly ``VERIFIED``."""
        return self.kind == "verified"


def verdict(status: int, body: bytes) -> Verdict:
    """Classifies PayPal's answer to a postback."""
    kind, reason = _native.verdict(status, body)
    return Verdict(kind, reason)


class Violation(NamedTuple):
    """A broken business rule: a stable ``code``, the ``field``, and for a status its word."""

    code: str
    field: Optional[str]
    detail: Optional[str]


def check(
    message: Message,
    verdict: Verdict,
    *,
    environment: str,
    receiver_emails: Sequence[str] = (),
    receiver_ids: Sequence[str] = (),
    amount: Optional[Decimal] = None,
    currency: Optional[str] = None,
    final_statuses: Optional[Sequence[str]] = None,
) -> List[Violation]:
    """Every broken business rule; an empty list means accept. A verdict other than verified is
    the single violation ``not_verified``."""
    try:
        found = message._native.check(
            verdict.kind, environment, list(receiver_emails), list(receiver_ids), amount,
            currency, None if final_statuses is None else list(final_statuses),
        )
    except _native.NativeError as error:
        raise _raise(error) from None
    return [Violation(*v) for v in found]


class Delivery(NamedTuple):
    """``new``, ``duplicate`` or ``transition`` (with the statuses ``from_status`` → ``to_status``)."""

    kind: str
    from_status: Optional[str]
    to_status: Optional[str]


def classify(message: Message, stored_keys: Sequence[str]) -> Delivery:
    """Classifies a delivery against the keys stored under its :attr:`Message.lookup_id`."""
    return Delivery(*message._native.classify(list(stored_keys)))
