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
from typing import Any, Dict, List, Literal, NamedTuple, Optional, Sequence, Tuple, Type, Union, cast

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


# --- GENERATED: vocabularies ---
TxnType = Literal['adjustment', 'cart', 'express_checkout', 'invoice_payment', 'masspay', 'mp_cancel', 'mp_signup', 'merch_pmt', 'new_case', 'payout', 'pro_hosted', 'recurring_payment', 'recurring_payment_expired', 'recurring_payment_failed', 'recurring_payment_outstanding_payment', 'recurring_payment_outstanding_payment_failed', 'recurring_payment_profile_cancel', 'recurring_payment_profile_created', 'recurring_payment_skipped', 'recurring_payment_suspended', 'recurring_payment_suspended_due_to_max_failed_payment', 'send_money', 'subscr_cancel', 'subscr_eot', 'subscr_failed', 'subscr_modify', 'subscr_payment', 'subscr_signup', 'virtual_terminal', 'web_accept']
"""`TxnType`: PayPal's documented values (others arrive as plain `str`)."""
PaymentStatus = Literal['Canceled_Reversal', 'Completed', 'Created', 'Denied', 'Expired', 'Failed', 'Pending', 'Refunded', 'Reversed', 'Processed', 'Voided']
"""`PaymentStatus`: PayPal's documented values (others arrive as plain `str`)."""
PendingReason = Literal['address', 'authorization', 'delayed_disbursement', 'echeck', 'intl', 'multi_currency', 'order', 'paymentreview', 'regulatory_review', 'unilateral', 'upgrade', 'verify', 'other']
"""`PendingReason`: PayPal's documented values (others arrive as plain `str`)."""
ReasonCode = Literal['adjustment_reversal', 'admin_fraud_reversal', 'admin_reversal', 'buyer_complaint', 'chargeback', 'chargeback_reimbursement', 'chargeback_settlement', 'guarantee', 'non_receipt', 'not_as_described', 'refund', 'regulatory_block', 'regulatory_reject', 'regulatory_review_exceeding_sla', 'unauthorized', 'unauthorized_claim', 'unauthorized_spoof', 'other']
"""`ReasonCode`: PayPal's documented values (others arrive as plain `str`)."""
PaymentType = Literal['echeck', 'instant']
"""`PaymentType`: PayPal's documented values (others arrive as plain `str`)."""
PayerStatus = Literal['verified', 'unverified']
"""`PayerStatus`: PayPal's documented values (others arrive as plain `str`)."""
AddressStatus = Literal['confirmed', 'unconfirmed']
"""`AddressStatus`: PayPal's documented values (others arrive as plain `str`)."""
ProtectionEligibility = Literal['Eligible', 'Partially Eligible - INR Only', 'Partially Eligible - Unauth Only', 'Ineligible', 'ExpandedSellerProtection', 'SellerProtection', 'None']
"""`ProtectionEligibility`: PayPal's documented values (others arrive as plain `str`)."""
AuthStatus = Literal['Completed', 'Pending', 'Voided', 'Expired']
"""`AuthStatus`: PayPal's documented values (others arrive as plain `str`)."""
TransactionEntity = Literal['auth', 'reauth', 'order', 'payment']
"""`TransactionEntity`: PayPal's documented values (others arrive as plain `str`)."""
CaseType = Literal['chargeback', 'complaint', 'dispute']
"""`CaseType`: PayPal's documented values (others arrive as plain `str`)."""
ProfileStatus = Literal['Active', 'Cancelled', 'Suspended', 'Expired', 'Pending']
"""`ProfileStatus`: PayPal's documented values (others arrive as plain `str`)."""
PeriodType = Literal['Trial', 'Regular']
"""`PeriodType`: PayPal's documented values (others arrive as plain `str`)."""
MasspayStatus = Literal['Completed', 'Failed', 'Reversed', 'Unclaimed', 'Processed', 'Pending']
"""`MasspayStatus`: PayPal's documented values (others arrive as plain `str`)."""
AdaptiveType = Literal['Adaptive Payment PAY', 'Adaptive Payment PREAPPROVAL']
"""`AdaptiveType`: PayPal's documented values (others arrive as plain `str`)."""
AdaptiveStatus = Literal['CREATED', 'COMPLETED', 'INCOMPLETE', 'ERROR', 'REVERSALERROR', 'PROCESSING', 'PENDING', 'ACTIVE', 'CANCELED', 'DEACTIVED']
"""`AdaptiveStatus`: PayPal's documented values (others arrive as plain `str`)."""
TransactionStatus = Literal['Completed', 'Pending', 'Refunded', 'Partially_Refunded', 'Denied', 'Failed', 'Reversed']
"""`TransactionStatus`: PayPal's documented values (others arrive as plain `str`)."""
SenderTransactionStatus = Literal['COMPLETED', 'PENDING', 'CREATED', 'PARTIALLY_REFUNDED', 'DENIED', 'PROCESSING', 'REVERSED', 'REFUNDED', 'FAILED']
"""`SenderTransactionStatus`: PayPal's documented values (others arrive as plain `str`)."""
AdaptivePendingReason = Literal['ADDRESS_CONFIRMATION', 'ECHECK', 'INTERNATIONAL', 'MULTI_CURRENCY', 'UPGRADE', 'VERIFY', 'RISK', 'UNILATERAL', 'NONE', 'OTHER']
"""`AdaptivePendingReason`: PayPal's documented values (others arrive as plain `str`)."""
ActionType = Literal['PAY', 'CREATE', 'PAY_PRIMARY']
"""`ActionType`: PayPal's documented values (others arrive as plain `str`)."""
FeesPayer = Literal['SENDER', 'PRIMARYRECEIVER', 'EACHRECEIVER', 'SECONDARYONLY']
"""`FeesPayer`: PayPal's documented values (others arrive as plain `str`)."""
PaymentPeriod = Literal['NO_PERIOD_SPECIFIED', 'DAILY', 'WEEKLY', 'BIWEEKLY', 'SEMIMONTHLY', 'MONTHLY', 'ANNUALLY']
"""`PaymentPeriod`: PayPal's documented values (others arrive as plain `str`)."""
PinType = Literal['NOT_REQUIRED', 'REQUIRED']
"""`PinType`: PayPal's documented values (others arrive as plain `str`)."""
# --- END GENERATED: vocabularies ---


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
    """A configuration value, or a stored value, is wrong (``unknown_environment``,
    ``invalid_delivery_key``)."""


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
    "invalid_delivery_key": ConfigurationError,
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

    # Every variable of PayPal's guide, as `__getattr__` serves it (annotations only: the values
    # live in the core).
    # --- GENERATED: attributes ---
    txn_type: Optional[Union[TxnType, str]]
    txn_id: Optional[str]
    parent_txn_id: Optional[str]
    receipt_id: Optional[str]
    ipn_track_id: Optional[str]
    notify_version: Optional[str]
    verify_sign: Optional[str]
    charset: Optional[str]
    test_ipn: Optional[bool]
    resend: Optional[bool]
    business: Optional[str]
    receiver_email: Optional[str]
    receiver_id: Optional[str]
    residence_country: Optional[str]
    custom: Optional[str]
    invoice: Optional[str]
    memo: Optional[str]
    transaction_subject: Optional[str]
    first_name: Optional[str]
    last_name: Optional[str]
    payer_email: Optional[str]
    payer_id: Optional[str]
    payer_status: Optional[Union[PayerStatus, str]]
    payer_business_name: Optional[str]
    contact_phone: Optional[str]
    address_name: Optional[str]
    address_street: Optional[str]
    address_city: Optional[str]
    address_state: Optional[str]
    address_zip: Optional[str]
    address_country: Optional[str]
    address_country_code: Optional[str]
    address_status: Optional[Union[AddressStatus, str]]
    payment_status: Optional[Union[PaymentStatus, str]]
    pending_reason: Optional[Union[PendingReason, str]]
    reason_code: Optional[Union[ReasonCode, str]]
    payment_type: Optional[Union[PaymentType, str]]
    protection_eligibility: Optional[Union[ProtectionEligibility, str]]
    payment_date: Optional[PayPalDate]
    mc_currency: Optional[str]
    mc_gross: Optional[Money]
    mc_fee: Optional[Money]
    mc_handling: Optional[Money]
    mc_shipping: Optional[Money]
    tax: Optional[Money]
    shipping: Optional[Money]
    handling_amount: Optional[Money]
    discount: Optional[Money]
    shipping_discount: Optional[Money]
    insurance_amount: Optional[Money]
    payment_gross: Optional[Money]
    payment_fee: Optional[Money]
    settle_amount: Optional[Money]
    settle_currency: Optional[str]
    exchange_rate: Optional[Decimal]
    echeck_time_processed: Optional[PayPalDate]
    item_name: Optional[str]
    item_number: Optional[str]
    quantity: Optional[int]
    shipping_method: Optional[str]
    num_cart_items: Optional[int]
    auth_id: Optional[str]
    auth_status: Optional[Union[AuthStatus, str]]
    auth_amount: Optional[Money]
    auth_exp: Optional[PayPalDate]
    remaining_settle: Optional[Money]
    transaction_entity: Optional[Union[TransactionEntity, str]]
    for_auction: Optional[bool]
    auction_buyer_id: Optional[str]
    auction_closing_date: Optional[PayPalDate]
    auction_multi_item: Optional[int]
    recurring_payment_id: Optional[str]
    rp_invoice_id: Optional[str]
    profile_status: Optional[Union[ProfileStatus, str]]
    product_name: Optional[str]
    product_type: Optional[str]
    period_type: Optional[Union[PeriodType, str]]
    payment_cycle: Optional[str]
    currency_code: Optional[str]
    amount: Optional[Money]
    amount_per_cycle: Optional[Money]
    initial_payment_amount: Optional[Money]
    initial_payment_status: Optional[str]
    initial_payment_txn_id: Optional[str]
    outstanding_balance: Optional[Money]
    next_payment_date: Optional[PayPalDate]
    time_created: Optional[PayPalDate]
    subscr_id: Optional[str]
    old_subscr_id: Optional[str]
    subscr_date: Optional[PayPalDate]
    subscr_effective: Optional[PayPalDate]
    period1: Optional[Period]
    period2: Optional[Period]
    period3: Optional[Period]
    amount1: Optional[Money]
    amount2: Optional[Money]
    amount3: Optional[Money]
    mc_amount1: Optional[Money]
    mc_amount2: Optional[Money]
    mc_amount3: Optional[Money]
    recurring: Optional[bool]
    reattempt: Optional[bool]
    retry_at: Optional[PayPalDate]
    recur_times: Optional[int]
    username: Optional[str]
    password: Optional[str]
    mp_id: Optional[str]
    mp_status: Optional[str]
    mp_desc: Optional[str]
    mp_custom: Optional[str]
    mp_currency: Optional[str]
    mp_cycle_start: Optional[int]
    case_id: Optional[str]
    case_type: Optional[Union[CaseType, str]]
    case_creation_date: Optional[PayPalDate]
    transaction_type: Optional[Union[AdaptiveType, str]]
    status: Optional[Union[AdaptiveStatus, str]]
    sender_email: Optional[str]
    action_type: Optional[Union[ActionType, str]]
    payment_request_date: Optional[PayPalDate]
    reverse_all_parallel_payments_on_error: Optional[bool]
    pay_key: Optional[str]
    fees_payer: Optional[Union[FeesPayer, str]]
    tracking_id: Optional[str]
    preapproval_key: Optional[str]
    return_url: Optional[str]
    cancel_url: Optional[str]
    ipn_notification_url: Optional[str]
    log_default_shipping_address_in_transaction: Optional[bool]
    approved: Optional[bool]
    current_number_of_payments: Optional[int]
    current_total_amount_of_all_payments: Optional[Money]
    current_period_attempts: Optional[int]
    date_of_month: Optional[int]
    day_of_week: Optional[str]
    starting_date: Optional[PayPalDate]
    ending_date: Optional[PayPalDate]
    max_total_amount_of_all_payments: Optional[Money]
    max_amount_per_payment: Optional[Money]
    max_number_of_payments: Optional[int]
    max_number_of_payments_per_period: Optional[int]
    payment_period: Optional[Union[PaymentPeriod, str]]
    pin_type: Optional[Union[PinType, str]]
    account_key: Optional[str]
    confirmation_code: Optional[str]
    # --- END GENERATED: attributes ---

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

    def _canonical(self) -> Dict[str, Any]:
        """The canonical JSON, decoded once and kept (never handed out: callers get copies)."""
        if self._dict is None:
            object.__setattr__(self, "_dict", _json.loads(self._native.to_json()))
        return cast(Dict[str, Any], self._dict)

    def to_dict(self) -> Dict[str, Any]:
        """The canonical JSON shape (amounts as strings, dates as RFC 3339 ``utc`` + ``text``)."""
        return cast(Dict[str, Any], _json.loads(_json.dumps(self._canonical())))

    def _group(self, name: str) -> List[Record]:
        return [_typed(item) for item in self._canonical().get(name, [])]

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
        return list(self._canonical().get("fraud_filters", []))

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


class Verdict:
    """PayPal's answer to a postback: ``kind`` is ``verified``, ``invalid`` or ``unexpected``
    (retry later), with the ``reason`` of an unexpected one.

    A verdict is made only from PayPal's answer as it came — :func:`verdict` with the HTTP status
    and body — or by :meth:`no_answer`; never from a kind you write, so that :func:`check` cannot
    be told a message is verified when PayPal did not say so.
    """

    __slots__ = ("_answer",)
    _answer: _native.NativeVerdict

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "a Verdict comes from PayPal's answer: use ipnkit.verdict(status, body), "
            "or ipnkit.Verdict.no_answer() when there was none"
        )

    @classmethod
    def _of(cls, native: _native.NativeVerdict) -> "Verdict":
        made = object.__new__(cls)
        object.__setattr__(made, "_answer", native)
        return made

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Verdict is immutable")

    @property
    def kind(self) -> str:
        """``verified``, ``invalid`` or ``unexpected``."""
        return str(self._answer.kind)

    @property
    def reason(self) -> Optional[str]:
        """Why an answer was ``unexpected`` (``http_status``, ``empty_body``,
        ``unrecognized_body``, ``no_answer``), else None."""
        reason = self._answer.reason
        return None if reason is None else str(reason)

    @property
    def is_verified(self) -> bool:
        """Only HTTP 200 with a body that is exactly ``VERIFIED``."""
        return self.kind == "verified"

    @classmethod
    def no_answer(cls) -> "Verdict":
        """The postback got no HTTP answer at all (timeout, refused or dropped connection):
        unexpected, to retry later."""
        return cls._of(_native.no_answer())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        return (self.kind, self.reason) == (other.kind, other.reason)

    def __hash__(self) -> int:
        return hash((self.kind, self.reason))

    def __repr__(self) -> str:
        return f"Verdict(kind={self.kind!r}, reason={self.reason!r})"


def verdict(status: int, body: bytes) -> Verdict:
    """PayPal's answer to a postback, from the HTTP status and the response body as they came."""
    return Verdict._of(_native.verdict(status, body))


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
    the single violation ``not_verified``. ``verdict`` must come from :func:`verdict`."""
    if not isinstance(verdict, Verdict):
        raise TypeError("verdict must come from ipnkit.verdict(status, body)")
    try:
        found = message._native.check(
            verdict._answer, environment, list(receiver_emails), list(receiver_ids), amount,
            currency, None if final_statuses is None else list(final_statuses),
        )
    except _native.NativeError as error:
        raise _raise(error) from None
    return [Violation(*v) for v in found]


class Delivery(NamedTuple):
    """``new``, ``duplicate``, ``transition`` (from the state ``from_status`` to ``to_status``), or
    ``stale`` (a later state ``from_status`` was stored already; this delivery is ``to_status``:
    do not act)."""

    kind: str
    from_status: Optional[str]
    to_status: Optional[str]


def classify(message: Message, stored_keys: Sequence[str]) -> Delivery:
    """Classifies a delivery against the keys stored under its :attr:`Message.lookup_id`, oldest
    first. A stored text that is not a key ipnkit makes raises ``invalid_delivery_key``."""
    try:
        return Delivery(*message._native.classify(list(stored_keys)))
    except _native.NativeError as error:
        raise _raise(error) from None
