"""Receive PayPal Instant Payment Notifications without losing a byte, a cent or a message.

The raw body stays byte-exact: ``postback(body)`` is ``cmd=_notify-validate&`` followed by it.
``parse(body)`` gives a frozen :class:`Message` with every variable of PayPal's IPN guide as an
attribute (``decimal.Decimal`` amounts in :class:`Money` with their currency, :class:`PayPalDate`
with a timezone-aware UTC ``datetime`` beside PayPal's text), the ``event`` to dispatch on (see
:data:`EVENTS`), and ``to_dict()`` in the canonical JSON shape shared by every ipnkit binding.
:func:`decide` takes PayPal's answer, your :class:`Config` and the :class:`Expected` order and
says what to do. Errors are :class:`IpnError` subclasses with a stable ``.code`` and the
``.field``, never the value. All of it runs in the Rust core; this module only converts.
"""

from __future__ import annotations

import datetime as _dt
import difflib as _difflib
from dataclasses import dataclass as _dataclass
import json as _json
import urllib.error as _urlerror
import urllib.request as _urlrequest
from decimal import Decimal
from typing import (
    TYPE_CHECKING, Any, Dict, Generic, List, Literal, Mapping, MutableMapping, NamedTuple, Optional,
    Protocol, Sequence, Tuple, Type, TypedDict, TypeVar, Union,
)

from . import _native as _core

__all__ = [
    "EVENTS", "IpnError", "Money", "Period", "PayPalDate", "Message", "Record", "CartItem",
    "ItemOption", "MasspayItem", "AdaptiveTransaction", "VerificationRequest", "Verdict",
    "Violation", "Delivery", "Decision", "Act", "Skip", "Retry", "RefusedNotVerified",
    "RefusedUnreadable", "RefusedByRules", "Config", "Limits", "Expected", "parse", "postback",
    "verification_request", "verdict", "decide", "classify", "schema",
    "WebhookVerifier", "WebhookVerdict", "CertificateRequest", "OnlineRequest", "Webhook",
    "WebhookEvent", "WebhookResource", "receive_webhook", "decide_webhook", "handle_ipn",
    "handle_webhook", "Opener",
]


def schema() -> Dict[str, Any]:
    """What this package's types and exception classes are generated from: the core's lists of
    variables, vocabularies, groups, events (with meanings and rules), error kinds and codes."""
    return dict(_json.loads(_core.schema()))


class IpnError(ValueError):
    """An IPN body, value or configuration ipnkit refuses. ``code`` is stable (see
    :data:`ErrorCode`); ``field`` names the variable or the configuration key, never its value.
    Each kind of error is a subclass (generated from the core's list)."""

    code: str
    field: Optional[str]

    def __init__(self, code: str, field: Optional[str], message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.code, self.field, str(self)))


# --- GENERATED: module ---
# (written by bindings-python/generate_types.py from the core's schema; do not edit)
TxnType = Literal['adjustment', 'cart', 'express_checkout', 'invoice_payment', 'masspay', 'mp_cancel', 'mp_signup', 'merch_pmt', 'new_case', 'payout', 'pro_hosted', 'recurring_payment', 'recurring_payment_expired', 'recurring_payment_failed', 'recurring_payment_outstanding_payment', 'recurring_payment_outstanding_payment_failed', 'recurring_payment_profile_cancel', 'recurring_payment_profile_created', 'recurring_payment_skipped', 'recurring_payment_suspended', 'recurring_payment_suspended_due_to_max_failed_payment', 'send_money', 'subscr_cancel', 'subscr_eot', 'subscr_failed', 'subscr_modify', 'subscr_payment', 'subscr_signup', 'virtual_terminal', 'web_accept']
"""PayPal's documented values of `TxnType`."""
PaymentStatus = Literal['Canceled_Reversal', 'Completed', 'Created', 'Denied', 'Expired', 'Failed', 'Pending', 'Refunded', 'Reversed', 'Processed', 'Voided']
"""PayPal's documented values of `PaymentStatus`."""
PendingReason = Literal['address', 'authorization', 'delayed_disbursement', 'echeck', 'intl', 'multi_currency', 'order', 'paymentreview', 'regulatory_review', 'unilateral', 'upgrade', 'verify', 'other']
"""PayPal's documented values of `PendingReason`."""
ReasonCode = Literal['adjustment_reversal', 'admin_fraud_reversal', 'admin_reversal', 'buyer_complaint', 'chargeback', 'chargeback_reimbursement', 'chargeback_settlement', 'guarantee', 'non_receipt', 'not_as_described', 'refund', 'regulatory_block', 'regulatory_reject', 'regulatory_review_exceeding_sla', 'unauthorized', 'unauthorized_claim', 'unauthorized_spoof', 'other']
"""PayPal's documented values of `ReasonCode`."""
PaymentType = Literal['echeck', 'instant']
"""PayPal's documented values of `PaymentType`."""
PayerStatus = Literal['verified', 'unverified']
"""PayPal's documented values of `PayerStatus`."""
AddressStatus = Literal['confirmed', 'unconfirmed']
"""PayPal's documented values of `AddressStatus`."""
ProtectionEligibility = Literal['Eligible', 'Partially Eligible - INR Only', 'Partially Eligible - Unauth Only', 'Ineligible', 'ExpandedSellerProtection', 'SellerProtection', 'None']
"""PayPal's documented values of `ProtectionEligibility`."""
AuthStatus = Literal['Completed', 'Pending', 'Voided', 'Expired']
"""PayPal's documented values of `AuthStatus`."""
TransactionEntity = Literal['auth', 'reauth', 'order', 'payment']
"""PayPal's documented values of `TransactionEntity`."""
CaseType = Literal['chargeback', 'complaint', 'dispute']
"""PayPal's documented values of `CaseType`."""
ProfileStatus = Literal['Active', 'Cancelled', 'Suspended', 'Expired', 'Pending']
"""PayPal's documented values of `ProfileStatus`."""
PeriodType = Literal['Trial', 'Regular']
"""PayPal's documented values of `PeriodType`."""
MasspayStatus = Literal['Completed', 'Failed', 'Reversed', 'Unclaimed', 'Processed', 'Pending']
"""PayPal's documented values of `MasspayStatus`."""
AdaptiveType = Literal['Adaptive Payment PAY', 'Adaptive Payment PREAPPROVAL']
"""PayPal's documented values of `AdaptiveType`."""
AdaptiveStatus = Literal['CREATED', 'COMPLETED', 'INCOMPLETE', 'ERROR', 'REVERSALERROR', 'PROCESSING', 'PENDING', 'ACTIVE', 'CANCELED', 'DEACTIVED']
"""PayPal's documented values of `AdaptiveStatus`."""
TransactionStatus = Literal['Completed', 'Pending', 'Refunded', 'Partially_Refunded', 'Denied', 'Failed', 'Reversed']
"""PayPal's documented values of `TransactionStatus`."""
SenderTransactionStatus = Literal['COMPLETED', 'PENDING', 'CREATED', 'PARTIALLY_REFUNDED', 'DENIED', 'PROCESSING', 'REVERSED', 'REFUNDED', 'FAILED']
"""PayPal's documented values of `SenderTransactionStatus`."""
AdaptivePendingReason = Literal['ADDRESS_CONFIRMATION', 'ECHECK', 'INTERNATIONAL', 'MULTI_CURRENCY', 'UPGRADE', 'VERIFY', 'RISK', 'UNILATERAL', 'NONE', 'OTHER']
"""PayPal's documented values of `AdaptivePendingReason`."""
ActionType = Literal['PAY', 'CREATE', 'PAY_PRIMARY']
"""PayPal's documented values of `ActionType`."""
FeesPayer = Literal['SENDER', 'PRIMARYRECEIVER', 'EACHRECEIVER', 'SECONDARYONLY']
"""PayPal's documented values of `FeesPayer`."""
PaymentPeriod = Literal['NO_PERIOD_SPECIFIED', 'DAILY', 'WEEKLY', 'BIWEEKLY', 'SEMIMONTHLY', 'MONTHLY', 'ANNUALLY']
"""PayPal's documented values of `PaymentPeriod`."""
PinType = Literal['NOT_REQUIRED', 'REQUIRED']
"""PayPal's documented values of `PinType`."""
EventCode = Literal['payment_completed', 'payment_pending', 'payment_denied', 'payment_failed', 'payment_refunded', 'payment_reversed', 'reversal_canceled', 'payment_processed', 'payment_created', 'authorization_created', 'authorization_voided', 'authorization_expired', 'capture_completed', 'subscription_signup', 'subscription_payment', 'subscription_failed', 'subscription_cancel', 'subscription_end_of_term', 'subscription_modify', 'recurring_payment', 'recurring_payment_failed', 'recurring_payment_skipped', 'recurring_profile_created', 'recurring_profile_cancel', 'recurring_profile_expired', 'recurring_profile_suspended', 'billing_agreement_created', 'billing_agreement_cancel', 'masspay', 'dispute_opened', 'dispute_resolved', 'adaptive_payment', 'adaptive_preapproval', 'account_created', 'order_approved', 'order_completed', 'subscription_created', 'subscription_updated', 'plan_created', 'plan_updated', 'dispute_updated', 'unknown']
"""What happened (see `EVENTS`)."""
Family = Literal['payment', 'cart', 'auction', 'masspay', 'subscription', 'recurring_payment', 'billing_agreement', 'dispute', 'adaptive_pay', 'adaptive_preapproval', 'adaptive_account', 'unknown']
"""The family of notification."""
ViolationCode = Literal['not_verified', 'receiver_not_configured', 'receiver_mismatch', 'order_not_found', 'amount_mismatch', 'currency_mismatch', 'environment_mismatch', 'status_not_final', 'missing_field', 'unreadable_field', 'unknown_event']
"""A broken business rule."""
DeliveryKind = Literal['new', 'duplicate', 'transition', 'stale']
"""A delivery against the stored keys."""
VerdictKind = Literal['verified', 'invalid', 'unexpected']
"""What PayPal's answer means."""
UnexpectedReason = Literal['http_status', 'empty_body', 'unrecognized_body', 'body_unread', 'no_answer']
"""Why PayPal's answer is unexpected."""
Action = Literal['act', 'skip', 'retry', 'refuse']
"""What to do with a notification."""
RefusalCode = Literal['not_verified', 'unreadable', 'rules']
"""Why a notification is refused."""
AmountCheck = Literal['matched', 'not_asked', 'not_applicable']
"""How an accepted notification's amount was judged: ship only on ``matched``."""
NoticeCode = Literal['cart_count_mismatch', 'date_zone_corrected', 'invalid_amount', 'invalid_currency', 'invalid_date', 'invalid_number', 'invalid_flag', 'invalid_period']
"""What is worth knowing about a message."""
WebhookInvalidReason = Literal['unsupported_algorithm', 'cert_url_form', 'cert_url_host', 'cert_url_path', 'certificate_other_url', 'stale_transmission', 'certificate_chain', 'certificate_time', 'certificate_name', 'signature_mismatch', 'online_failure']
"""Why a webhook is not PayPal's (for this configuration)."""
ResourceKind = Literal['capture', 'refund', 'authorization', 'order', 'sale', 'subscription', 'plan', 'dispute', 'other']
"""What a webhook's resource is."""
ErrorCode = Literal['empty_body', 'body_too_large', 'too_many_fields', 'key_too_long', 'header_too_large', 'empty_key', 'missing_separator', 'malformed_escape', 'invalid_json', 'invalid_field', 'invalid_encoding', 'unknown_charset', 'unsupported_charset', 'duplicate_key', 'invalid_amount', 'invalid_currency', 'invalid_date', 'invalid_number', 'invalid_flag', 'invalid_period', 'unknown_environment', 'invalid_delivery_key', 'invalid_configuration', 'wrong_type', 'missing_header', 'repeated_header', 'invalid_header']
"""An error's stable code."""
EVENTS: Dict[EventCode, str] = {
    'payment_completed': "A payment completed: the money is in the merchant's balance.",
    'payment_pending': 'A payment is pending (see the reason); act when it completes.',
    'payment_denied': 'The merchant denied a pending payment.',
    'payment_failed': 'A bank-funded payment failed.',
    'payment_refunded': 'The merchant refunded a payment (parent_txn_id names it).',
    'payment_reversed': 'A payment was reversed: chargeback, buyer complaint, fraud protection.',
    'reversal_canceled': 'A reversal was cancelled: the money came back.',
    'payment_processed': 'A Mass Pay payment was accepted (Processed).',
    'payment_created': 'A German ELV payment was created.',
    'authorization_created': 'An authorization or order was created; nothing is captured yet.',
    'authorization_voided': 'An authorization was voided.',
    'authorization_expired': 'An authorization expired.',
    'capture_completed': 'An authorization was captured: paid (auth_id names the authorization).',
    'subscription_signup': 'A subscription started.',
    'subscription_payment': 'A subscription payment was made (see payment_status).',
    'subscription_failed': 'A subscription payment failed.',
    'subscription_cancel': 'A subscription was cancelled.',
    'subscription_end_of_term': 'A subscription reached the end of its term.',
    'subscription_modify': 'A subscription was modified.',
    'recurring_payment': 'A recurring payment was received (see payment_status).',
    'recurring_payment_failed': 'A recurring payment failed.',
    'recurring_payment_skipped': 'A recurring payment was skipped; PayPal retries it.',
    'recurring_profile_created': 'A recurring payments profile was created.',
    'recurring_profile_cancel': 'A recurring payments profile was cancelled.',
    'recurring_profile_expired': 'A recurring payments profile expired.',
    'recurring_profile_suspended': 'A recurring payments profile was suspended.',
    'billing_agreement_created': 'A billing agreement was created.',
    'billing_agreement_cancel': 'A billing agreement was cancelled.',
    'masspay': "A Mass Pay notification: act on each item's status.",
    'dispute_opened': 'A dispute was opened (a chargeback included).',
    'dispute_resolved': 'A dispute was resolved and closed.',
    'adaptive_payment': 'An Adaptive Payments Pay request changed (see status and the transactions).',
    'adaptive_preapproval': 'An Adaptive Payments preapproval changed (see status, approved).',
    'account_created': 'An account was created through Adaptive Accounts.',
    'order_approved': 'A buyer approved an order (Orders v2); nothing is captured yet. Webhooks only.',
    'order_completed': "An order's payments were all captured (Orders v2). Webhooks only.",
    'subscription_created': 'A subscription was created, not yet approved by the buyer (Subscriptions API). Webhooks only.',
    'subscription_updated': 'A subscription was updated (Subscriptions API). Webhooks only.',
    'plan_created': 'A billing plan was created. Webhooks only.',
    'plan_updated': 'A billing plan was updated. Webhooks only.',
    'dispute_updated': 'A dispute changed (a message, evidence, a new stage) without being resolved. Webhooks only.',
    'unknown': 'Nothing this version recognises: keep the message and look at it.',
}
"""Every event with its meaning. "Paid" is `payment_completed` *and* `capture_completed`."""
EVENT_CODES: Tuple[str, ...] = ('payment_completed', 'payment_pending', 'payment_denied', 'payment_failed', 'payment_refunded', 'payment_reversed', 'reversal_canceled', 'payment_processed', 'payment_created', 'authorization_created', 'authorization_voided', 'authorization_expired', 'capture_completed', 'subscription_signup', 'subscription_payment', 'subscription_failed', 'subscription_cancel', 'subscription_end_of_term', 'subscription_modify', 'recurring_payment', 'recurring_payment_failed', 'recurring_payment_skipped', 'recurring_profile_created', 'recurring_profile_cancel', 'recurring_profile_expired', 'recurring_profile_suspended', 'billing_agreement_created', 'billing_agreement_cancel', 'masspay', 'dispute_opened', 'dispute_resolved', 'adaptive_payment', 'adaptive_preapproval', 'account_created', 'order_approved', 'order_completed', 'subscription_created', 'subscription_updated', 'plan_created', 'plan_updated', 'dispute_updated', 'unknown',)
ERROR_CODES: Tuple[str, ...] = ('empty_body', 'body_too_large', 'too_many_fields', 'key_too_long', 'header_too_large', 'empty_key', 'missing_separator', 'malformed_escape', 'invalid_json', 'invalid_field', 'invalid_encoding', 'unknown_charset', 'unsupported_charset', 'duplicate_key', 'invalid_amount', 'invalid_currency', 'invalid_date', 'invalid_number', 'invalid_flag', 'invalid_period', 'unknown_environment', 'invalid_delivery_key', 'invalid_configuration', 'wrong_type', 'missing_header', 'repeated_header', 'invalid_header',)
VIOLATION_CODES: Tuple[str, ...] = ('not_verified', 'receiver_not_configured', 'receiver_mismatch', 'order_not_found', 'amount_mismatch', 'currency_mismatch', 'environment_mismatch', 'status_not_final', 'missing_field', 'unreadable_field', 'unknown_event',)
MODELLED_VARIABLES: Tuple[str, ...] = ('txn_type', 'txn_id', 'parent_txn_id', 'receipt_id', 'ipn_track_id', 'notify_version', 'verify_sign', 'charset', 'test_ipn', 'resend', 'business', 'receiver_email', 'receiver_id', 'residence_country', 'custom', 'invoice', 'memo', 'transaction_subject', 'first_name', 'last_name', 'payer_email', 'payer_id', 'payer_status', 'payer_business_name', 'contact_phone', 'address_name', 'address_street', 'address_city', 'address_state', 'address_zip', 'address_country', 'address_country_code', 'address_status', 'payment_status', 'pending_reason', 'reason_code', 'payment_type', 'protection_eligibility', 'payment_date', 'mc_currency', 'mc_gross', 'mc_fee', 'mc_handling', 'mc_shipping', 'tax', 'shipping', 'handling_amount', 'discount', 'shipping_discount', 'insurance_amount', 'payment_gross', 'payment_fee', 'settle_amount', 'settle_currency', 'exchange_rate', 'echeck_time_processed', 'item_name', 'item_number', 'quantity', 'shipping_method', 'num_cart_items', 'auth_id', 'auth_status', 'auth_amount', 'auth_exp', 'remaining_settle', 'transaction_entity', 'for_auction', 'auction_buyer_id', 'auction_closing_date', 'auction_multi_item', 'recurring_payment_id', 'rp_invoice_id', 'profile_status', 'product_name', 'product_type', 'period_type', 'payment_cycle', 'currency_code', 'amount', 'amount_per_cycle', 'initial_payment_amount', 'initial_payment_status', 'initial_payment_txn_id', 'outstanding_balance', 'next_payment_date', 'time_created', 'subscr_id', 'old_subscr_id', 'subscr_date', 'subscr_effective', 'period1', 'period2', 'period3', 'amount1', 'amount2', 'amount3', 'mc_amount1', 'mc_amount2', 'mc_amount3', 'recurring', 'reattempt', 'retry_at', 'recur_times', 'username', 'password', 'mp_id', 'mp_status', 'mp_desc', 'mp_custom', 'mp_currency', 'mp_cycle_start', 'case_id', 'case_type', 'case_creation_date', 'transaction_type', 'status', 'sender_email', 'action_type', 'payment_request_date', 'reverse_all_parallel_payments_on_error', 'pay_key', 'fees_payer', 'tracking_id', 'preapproval_key', 'return_url', 'cancel_url', 'ipn_notification_url', 'log_default_shipping_address_in_transaction', 'approved', 'current_number_of_payments', 'current_total_amount_of_all_payments', 'current_period_attempts', 'date_of_month', 'day_of_week', 'starting_date', 'ending_date', 'max_total_amount_of_all_payments', 'max_amount_per_payment', 'max_number_of_payments', 'max_number_of_payments_per_period', 'payment_period', 'pin_type', 'account_key', 'confirmation_code',)


class BodyError(IpnError):
    """The body holds no variable. Codes: ``empty_body``."""


class LimitError(IpnError):
    """A size limit was passed. Codes: ``body_too_large``, ``too_many_fields``, ``key_too_long``, ``header_too_large``."""


class FormatError(IpnError):
    """The form encoding is broken. Codes: ``empty_key``, ``missing_separator``, ``malformed_escape``, ``invalid_json``, ``invalid_field``."""


class CharsetError(IpnError):
    """The charset is unknown or unsupported, or the bytes are not in it. Codes: ``invalid_encoding``, ``unknown_charset``, ``unsupported_charset``."""


class DuplicateKeyError(IpnError):
    """The same variable twice, or two spellings of one: HTTP parameter pollution. Codes: ``duplicate_key``."""


class ValueFormatError(IpnError):
    """A known variable's value is not of its type. Codes: ``invalid_amount``, ``invalid_currency``, ``invalid_date``, ``invalid_number``, ``invalid_flag``, ``invalid_period``."""


class ConfigurationError(IpnError):
    """A configuration value, or a stored value, is not valid. Codes: ``unknown_environment``, ``invalid_delivery_key``, ``invalid_configuration``."""


class ArgumentError(IpnError, TypeError):
    """A value of the wrong type was passed (a string where a list belongs, a float for an amount). Codes: ``wrong_type``."""


class HeaderError(IpnError):
    """A webhook's transmission header is missing, repeated or not of its form. Codes: ``missing_header``, ``repeated_header``, ``invalid_header``."""


_ERROR_CLASSES: Dict[str, Type[IpnError]] = {
    'body': BodyError,
    'limit': LimitError,
    'format': FormatError,
    'charset': CharsetError,
    'duplicate': DuplicateKeyError,
    'value': ValueFormatError,
    'configuration': ConfigurationError,
    'argument': ArgumentError,
    'header': HeaderError,
}
"""The exception class of each error kind."""
# --- END GENERATED: module ---


def _suggest(name: str, known: Sequence[str]) -> str:
    close = _difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Money:
    """An exact amount with its currency (``None`` when the message names none). Arithmetic and
    ordering only within one currency: mixing currencies is a ``TypeError``. ``str()`` is the
    amount as PayPal writes it (``"24.90"``)."""

    __slots__ = ("amount", "currency")
    amount: Decimal
    currency: Optional[str]

    def __init__(self, amount: Union[Decimal, str, int], currency: Optional[str]) -> None:
        if isinstance(amount, float) or not isinstance(amount, (Decimal, str, int)):
            raise TypeError("a Money amount is a Decimal, a str or an int, never a float")
        object.__setattr__(self, "amount", Decimal(amount))
        object.__setattr__(self, "currency", currency)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ipnkit.Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ipnkit.Money is immutable")

    def __reduce__(self) -> Tuple[Any, ...]:
        return (Money, (self.amount, self.currency))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise TypeError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __radd__(self, other: object) -> Money:
        if isinstance(other, int) and other == 0:  # sum() starts at 0
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return (self.amount, self.currency) == (other.amount, other.currency)

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        """``24.90 EUR``, as in JavaScript and PHP (the amount alone is ``.amount``)."""
        return f"{self.amount} {self.currency}" if self.currency else str(self.amount)

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"


class PayPalDate:
    """A date PayPal wrote: ``utc`` (an aware ``datetime`` in UTC) and ``text`` as received.
    Compares with other PayPal dates and with aware ``datetime`` objects, by the instant."""

    __slots__ = ("utc", "text")
    utc: _dt.datetime
    text: str

    def __init__(self, utc: _dt.datetime, text: str) -> None:
        if utc.tzinfo is None:
            raise TypeError("a PayPalDate's utc must be an aware datetime")
        object.__setattr__(self, "utc", utc.astimezone(_dt.timezone.utc))
        object.__setattr__(self, "text", text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ipnkit.PayPalDate is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ipnkit.PayPalDate is immutable")

    def __reduce__(self) -> Tuple[Any, ...]:
        return (PayPalDate, (self.utc, self.text))

    @staticmethod
    def _instant(other: object) -> Optional[_dt.datetime]:
        if isinstance(other, PayPalDate):
            return other.utc
        if isinstance(other, _dt.datetime):
            return other
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PayPalDate):
            return (self.utc, self.text) == (other.utc, other.text)
        if isinstance(other, _dt.datetime):
            return self.utc == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.utc)

    def __lt__(self, other: Union[PayPalDate, _dt.datetime]) -> bool:
        instant = self._instant(other)
        return NotImplemented if instant is None else self.utc < instant

    def __le__(self, other: Union[PayPalDate, _dt.datetime]) -> bool:
        instant = self._instant(other)
        return NotImplemented if instant is None else self.utc <= instant

    def __gt__(self, other: Union[PayPalDate, _dt.datetime]) -> bool:
        instant = self._instant(other)
        return NotImplemented if instant is None else self.utc > instant

    def __ge__(self, other: Union[PayPalDate, _dt.datetime]) -> bool:
        instant = self._instant(other)
        return NotImplemented if instant is None else self.utc >= instant

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"PayPalDate({self.utc.isoformat()!r}, {self.text!r})"


@_dataclass(frozen=True)
class Period:
    """A subscription period: ``Period(3, "M")`` is three months."""

    count: int
    unit: Literal["D", "W", "M", "Y"]


def _restore(raw: bytes, limits: Tuple[int, int, int]) -> Message:
    return Message._of(_core.receive(raw, limits))


class _Frozen:
    """Attributes in the instance dictionary, written once by ipnkit; absent ones default to
    ``None`` on the class, so that ``dir()``, completion and ``help()`` list every one."""

    __slots__ = ()
    _KNOWN: Tuple[str, ...] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ipnkit.{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ipnkit.{type(self).__name__} is immutable")

    if not TYPE_CHECKING:  # a misspelling stays a type error for mypy

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            raise AttributeError(
                f"ipnkit.{type(self).__name__} has no attribute {name!r}"
                + _suggest(name, type(self)._KNOWN)
            )


_T = TypeVar("_T")


class _Lazy(Generic[_T]):
    """An attribute of a :class:`Message`, converted by the core when it is first read and then
    kept in the instance, so that later reads are plain attribute lookups and parsing converts
    nothing it does not have to. On the class it is ``None`` (the value of an absent variable),
    so that ``dir()``, completion and ``help()`` list every one."""

    __slots__ = ("_name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, message: Optional[Message], owner: Optional[type] = None) -> _T:
        if message is None:
            return None  # type: ignore[return-value]
        value: _T = message._native.attribute(self._name)
        message.__dict__[self._name] = value
        return value


class Record(_Frozen):
    """A frozen member of a group (cart item, option, Mass Pay item, Adaptive transaction):
    PayPal's names as attributes (``item.mc_gross``), ``None`` when absent."""

    _native: _core.NativeNotification
    _path: Tuple[Union[str, int], ...]

    @classmethod
    def _of(cls, values: Dict[str, Any]) -> Record:
        made = object.__new__(cls)
        object.__setattr__(made, "__dict__", values)
        return made

    def to_dict(self) -> Dict[str, Any]:
        """This member in the canonical JSON shape (as in the message's ``to_dict()``)."""
        return dict(_json.loads(self._native.record_json(self._path)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(_json.dumps(self.to_dict(), sort_keys=True))

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_restore_record, (self._native.raw, self._native.limits, self._path))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _restore_record(raw: bytes, limits: Tuple[int, int, int], path: Tuple[Union[str, int], ...]) -> Any:
    node: Any = _restore(raw, limits)
    for step in path:
        node = node[step] if isinstance(step, int) else getattr(node, step)
    return node


# --- GENERATED: records ---
# (written by bindings-python/generate_types.py from the core's schema; do not edit)


class ItemOption(Record):
    """A member of ``Message.options``."""

    _KNOWN = ('number', 'name', 'selection',)
    number: int
    name: Optional[str] = None
    selection: Optional[str] = None


class CartItem(Record):
    """A member of ``Message.items``."""

    _KNOWN = ('number', 'item_name', 'item_number', 'quantity', 'mc_gross', 'mc_shipping', 'mc_handling', 'tax', 'btn_id', 'options',)
    number: int
    item_name: Optional[str] = None
    item_number: Optional[str] = None
    quantity: Optional[int] = None
    mc_gross: Optional[Money] = None
    mc_shipping: Optional[Money] = None
    mc_handling: Optional[Money] = None
    tax: Optional[Money] = None
    btn_id: Optional[str] = None
    options: Sequence[ItemOption] = ()


class MasspayItem(Record):
    """A member of ``Message.masspay_items``."""

    _KNOWN = ('number', 'masspay_txn_id', 'receiver_email', 'unique_id', 'status', 'mc_currency', 'mc_gross', 'mc_fee', 'mc_handling', 'payment_gross', 'payment_fee',)
    number: int
    masspay_txn_id: Optional[str] = None
    receiver_email: Optional[str] = None
    unique_id: Optional[str] = None
    status: Optional[MasspayStatus] = None
    mc_currency: Optional[str] = None
    mc_gross: Optional[Money] = None
    mc_fee: Optional[Money] = None
    mc_handling: Optional[Money] = None
    payment_gross: Optional[Money] = None
    payment_fee: Optional[Money] = None


class AdaptiveTransaction(Record):
    """A member of ``Message.transactions``."""

    _KNOWN = ('index', 'id', 'id_for_sender_txn', 'receiver', 'amount', 'is_primary_receiver', 'status', 'status_for_sender_txn', 'pending_reason', 'payment_type', 'invoice_id', 'refund_id', 'refund_amount', 'refund_account_charged', 'extra',)
    index: int
    id: Optional[str] = None
    id_for_sender_txn: Optional[str] = None
    receiver: Optional[str] = None
    amount: Optional[Money] = None
    is_primary_receiver: Optional[bool] = None
    status: Optional[TransactionStatus] = None
    status_for_sender_txn: Optional[SenderTransactionStatus] = None
    pending_reason: Optional[AdaptivePendingReason] = None
    payment_type: Optional[str] = None
    invoice_id: Optional[str] = None
    refund_id: Optional[str] = None
    refund_amount: Optional[Money] = None
    refund_account_charged: Optional[str] = None
    extra: Sequence[Tuple[str, str]] = ()
# --- END GENERATED: records ---


class Message(_Frozen):
    """A parsed IPN message, frozen. Every variable of PayPal's IPN guide is an attribute named
    as PayPal names it (``m.mc_gross``, ``m.payment_date``), ``None`` when absent; ``event`` says
    what happened (see :data:`EVENTS`). Messages compare equal when parsed from the same bytes,
    and pickle and copy (Celery, multiprocessing) by their raw body."""

    _native: _core.NativeNotification
    event: EventCode
    """What happened: a key of :data:`EVENTS` (``payment_completed``, ``capture_completed``…)."""
    family: Family
    """The family of notification (``payment``, ``cart``, ``subscription``…)."""
    items: _Lazy[List[CartItem]] = _Lazy()
    """Cart items, by number."""
    options: _Lazy[List[ItemOption]] = _Lazy()
    """Options of a single item."""
    masspay_items: _Lazy[List[MasspayItem]] = _Lazy()
    """Mass Pay payments, by number."""
    transactions: _Lazy[List[AdaptiveTransaction]] = _Lazy()
    """Adaptive Payments transactions, by index."""
    fraud_filters: _Lazy[List[str]] = _Lazy()
    """``fraud_management_pending_filters_N``, by number."""

    # --- GENERATED: attributes ---
    # (written by bindings-python/generate_types.py from the core's schema; do not edit)
    _KNOWN = ('txn_type', 'txn_id', 'parent_txn_id', 'receipt_id', 'ipn_track_id', 'notify_version', 'verify_sign', 'charset', 'test_ipn', 'resend', 'business', 'receiver_email', 'receiver_id', 'residence_country', 'custom', 'invoice', 'memo', 'transaction_subject', 'first_name', 'last_name', 'payer_email', 'payer_id', 'payer_status', 'payer_business_name', 'contact_phone', 'address_name', 'address_street', 'address_city', 'address_state', 'address_zip', 'address_country', 'address_country_code', 'address_status', 'payment_status', 'pending_reason', 'reason_code', 'payment_type', 'protection_eligibility', 'payment_date', 'mc_currency', 'mc_gross', 'mc_fee', 'mc_handling', 'mc_shipping', 'tax', 'shipping', 'handling_amount', 'discount', 'shipping_discount', 'insurance_amount', 'payment_gross', 'payment_fee', 'settle_amount', 'settle_currency', 'exchange_rate', 'echeck_time_processed', 'item_name', 'item_number', 'quantity', 'shipping_method', 'num_cart_items', 'auth_id', 'auth_status', 'auth_amount', 'auth_exp', 'remaining_settle', 'transaction_entity', 'for_auction', 'auction_buyer_id', 'auction_closing_date', 'auction_multi_item', 'recurring_payment_id', 'rp_invoice_id', 'profile_status', 'product_name', 'product_type', 'period_type', 'payment_cycle', 'currency_code', 'amount', 'amount_per_cycle', 'initial_payment_amount', 'initial_payment_status', 'initial_payment_txn_id', 'outstanding_balance', 'next_payment_date', 'time_created', 'subscr_id', 'old_subscr_id', 'subscr_date', 'subscr_effective', 'period1', 'period2', 'period3', 'amount1', 'amount2', 'amount3', 'mc_amount1', 'mc_amount2', 'mc_amount3', 'recurring', 'reattempt', 'retry_at', 'recur_times', 'username', 'password', 'mp_id', 'mp_status', 'mp_desc', 'mp_custom', 'mp_currency', 'mp_cycle_start', 'case_id', 'case_type', 'case_creation_date', 'transaction_type', 'status', 'sender_email', 'action_type', 'payment_request_date', 'reverse_all_parallel_payments_on_error', 'pay_key', 'fees_payer', 'tracking_id', 'preapproval_key', 'return_url', 'cancel_url', 'ipn_notification_url', 'log_default_shipping_address_in_transaction', 'approved', 'current_number_of_payments', 'current_total_amount_of_all_payments', 'current_period_attempts', 'date_of_month', 'day_of_week', 'starting_date', 'ending_date', 'max_total_amount_of_all_payments', 'max_amount_per_payment', 'max_number_of_payments', 'max_number_of_payments_per_period', 'payment_period', 'pin_type', 'account_key', 'confirmation_code', 'event', 'family', 'items', 'options', 'masspay_items', 'transactions', 'fraud_filters', 'raw', 'to_dict', 'extra', 'variables', 'notices', 'delivery_key', 'lookup_id', 'postback', 'verification_request',)
    txn_type: _Lazy[Optional[TxnType]] = _Lazy()
    txn_id: _Lazy[Optional[str]] = _Lazy()
    parent_txn_id: _Lazy[Optional[str]] = _Lazy()
    receipt_id: _Lazy[Optional[str]] = _Lazy()
    ipn_track_id: _Lazy[Optional[str]] = _Lazy()
    notify_version: _Lazy[Optional[str]] = _Lazy()
    verify_sign: _Lazy[Optional[str]] = _Lazy()
    charset: _Lazy[Optional[str]] = _Lazy()
    test_ipn: _Lazy[Optional[bool]] = _Lazy()
    resend: _Lazy[Optional[bool]] = _Lazy()
    business: _Lazy[Optional[str]] = _Lazy()
    receiver_email: _Lazy[Optional[str]] = _Lazy()
    receiver_id: _Lazy[Optional[str]] = _Lazy()
    residence_country: _Lazy[Optional[str]] = _Lazy()
    custom: _Lazy[Optional[str]] = _Lazy()
    invoice: _Lazy[Optional[str]] = _Lazy()
    memo: _Lazy[Optional[str]] = _Lazy()
    transaction_subject: _Lazy[Optional[str]] = _Lazy()
    first_name: _Lazy[Optional[str]] = _Lazy()
    last_name: _Lazy[Optional[str]] = _Lazy()
    payer_email: _Lazy[Optional[str]] = _Lazy()
    payer_id: _Lazy[Optional[str]] = _Lazy()
    payer_status: _Lazy[Optional[PayerStatus]] = _Lazy()
    payer_business_name: _Lazy[Optional[str]] = _Lazy()
    contact_phone: _Lazy[Optional[str]] = _Lazy()
    address_name: _Lazy[Optional[str]] = _Lazy()
    address_street: _Lazy[Optional[str]] = _Lazy()
    address_city: _Lazy[Optional[str]] = _Lazy()
    address_state: _Lazy[Optional[str]] = _Lazy()
    address_zip: _Lazy[Optional[str]] = _Lazy()
    address_country: _Lazy[Optional[str]] = _Lazy()
    address_country_code: _Lazy[Optional[str]] = _Lazy()
    address_status: _Lazy[Optional[AddressStatus]] = _Lazy()
    payment_status: _Lazy[Optional[PaymentStatus]] = _Lazy()
    pending_reason: _Lazy[Optional[PendingReason]] = _Lazy()
    reason_code: _Lazy[Optional[ReasonCode]] = _Lazy()
    payment_type: _Lazy[Optional[PaymentType]] = _Lazy()
    protection_eligibility: _Lazy[Optional[ProtectionEligibility]] = _Lazy()
    payment_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    mc_currency: _Lazy[Optional[str]] = _Lazy()
    mc_gross: _Lazy[Optional[Money]] = _Lazy()
    mc_fee: _Lazy[Optional[Money]] = _Lazy()
    mc_handling: _Lazy[Optional[Money]] = _Lazy()
    mc_shipping: _Lazy[Optional[Money]] = _Lazy()
    tax: _Lazy[Optional[Money]] = _Lazy()
    shipping: _Lazy[Optional[Money]] = _Lazy()
    handling_amount: _Lazy[Optional[Money]] = _Lazy()
    discount: _Lazy[Optional[Money]] = _Lazy()
    shipping_discount: _Lazy[Optional[Money]] = _Lazy()
    insurance_amount: _Lazy[Optional[Money]] = _Lazy()
    payment_gross: _Lazy[Optional[Money]] = _Lazy()
    payment_fee: _Lazy[Optional[Money]] = _Lazy()
    settle_amount: _Lazy[Optional[Money]] = _Lazy()
    settle_currency: _Lazy[Optional[str]] = _Lazy()
    exchange_rate: _Lazy[Optional[Decimal]] = _Lazy()
    echeck_time_processed: _Lazy[Optional[PayPalDate]] = _Lazy()
    item_name: _Lazy[Optional[str]] = _Lazy()
    item_number: _Lazy[Optional[str]] = _Lazy()
    quantity: _Lazy[Optional[int]] = _Lazy()
    shipping_method: _Lazy[Optional[str]] = _Lazy()
    num_cart_items: _Lazy[Optional[int]] = _Lazy()
    auth_id: _Lazy[Optional[str]] = _Lazy()
    auth_status: _Lazy[Optional[AuthStatus]] = _Lazy()
    auth_amount: _Lazy[Optional[Money]] = _Lazy()
    auth_exp: _Lazy[Optional[PayPalDate]] = _Lazy()
    remaining_settle: _Lazy[Optional[Money]] = _Lazy()
    transaction_entity: _Lazy[Optional[TransactionEntity]] = _Lazy()
    for_auction: _Lazy[Optional[bool]] = _Lazy()
    auction_buyer_id: _Lazy[Optional[str]] = _Lazy()
    auction_closing_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    auction_multi_item: _Lazy[Optional[int]] = _Lazy()
    recurring_payment_id: _Lazy[Optional[str]] = _Lazy()
    rp_invoice_id: _Lazy[Optional[str]] = _Lazy()
    profile_status: _Lazy[Optional[ProfileStatus]] = _Lazy()
    product_name: _Lazy[Optional[str]] = _Lazy()
    product_type: _Lazy[Optional[str]] = _Lazy()
    period_type: _Lazy[Optional[PeriodType]] = _Lazy()
    payment_cycle: _Lazy[Optional[str]] = _Lazy()
    currency_code: _Lazy[Optional[str]] = _Lazy()
    amount: _Lazy[Optional[Money]] = _Lazy()
    amount_per_cycle: _Lazy[Optional[Money]] = _Lazy()
    initial_payment_amount: _Lazy[Optional[Money]] = _Lazy()
    initial_payment_status: _Lazy[Optional[str]] = _Lazy()
    initial_payment_txn_id: _Lazy[Optional[str]] = _Lazy()
    outstanding_balance: _Lazy[Optional[Money]] = _Lazy()
    next_payment_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    time_created: _Lazy[Optional[PayPalDate]] = _Lazy()
    subscr_id: _Lazy[Optional[str]] = _Lazy()
    old_subscr_id: _Lazy[Optional[str]] = _Lazy()
    subscr_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    subscr_effective: _Lazy[Optional[PayPalDate]] = _Lazy()
    period1: _Lazy[Optional[Period]] = _Lazy()
    period2: _Lazy[Optional[Period]] = _Lazy()
    period3: _Lazy[Optional[Period]] = _Lazy()
    amount1: _Lazy[Optional[Money]] = _Lazy()
    amount2: _Lazy[Optional[Money]] = _Lazy()
    amount3: _Lazy[Optional[Money]] = _Lazy()
    mc_amount1: _Lazy[Optional[Money]] = _Lazy()
    mc_amount2: _Lazy[Optional[Money]] = _Lazy()
    mc_amount3: _Lazy[Optional[Money]] = _Lazy()
    recurring: _Lazy[Optional[bool]] = _Lazy()
    reattempt: _Lazy[Optional[bool]] = _Lazy()
    retry_at: _Lazy[Optional[PayPalDate]] = _Lazy()
    recur_times: _Lazy[Optional[int]] = _Lazy()
    username: _Lazy[Optional[str]] = _Lazy()
    password: _Lazy[Optional[str]] = _Lazy()
    mp_id: _Lazy[Optional[str]] = _Lazy()
    mp_status: _Lazy[Optional[str]] = _Lazy()
    mp_desc: _Lazy[Optional[str]] = _Lazy()
    mp_custom: _Lazy[Optional[str]] = _Lazy()
    mp_currency: _Lazy[Optional[str]] = _Lazy()
    mp_cycle_start: _Lazy[Optional[int]] = _Lazy()
    case_id: _Lazy[Optional[str]] = _Lazy()
    case_type: _Lazy[Optional[CaseType]] = _Lazy()
    case_creation_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    transaction_type: _Lazy[Optional[AdaptiveType]] = _Lazy()
    status: _Lazy[Optional[AdaptiveStatus]] = _Lazy()
    sender_email: _Lazy[Optional[str]] = _Lazy()
    action_type: _Lazy[Optional[ActionType]] = _Lazy()
    payment_request_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    reverse_all_parallel_payments_on_error: _Lazy[Optional[bool]] = _Lazy()
    pay_key: _Lazy[Optional[str]] = _Lazy()
    fees_payer: _Lazy[Optional[FeesPayer]] = _Lazy()
    tracking_id: _Lazy[Optional[str]] = _Lazy()
    preapproval_key: _Lazy[Optional[str]] = _Lazy()
    return_url: _Lazy[Optional[str]] = _Lazy()
    cancel_url: _Lazy[Optional[str]] = _Lazy()
    ipn_notification_url: _Lazy[Optional[str]] = _Lazy()
    log_default_shipping_address_in_transaction: _Lazy[Optional[bool]] = _Lazy()
    approved: _Lazy[Optional[bool]] = _Lazy()
    current_number_of_payments: _Lazy[Optional[int]] = _Lazy()
    current_total_amount_of_all_payments: _Lazy[Optional[Money]] = _Lazy()
    current_period_attempts: _Lazy[Optional[int]] = _Lazy()
    date_of_month: _Lazy[Optional[int]] = _Lazy()
    day_of_week: _Lazy[Optional[str]] = _Lazy()
    starting_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    ending_date: _Lazy[Optional[PayPalDate]] = _Lazy()
    max_total_amount_of_all_payments: _Lazy[Optional[Money]] = _Lazy()
    max_amount_per_payment: _Lazy[Optional[Money]] = _Lazy()
    max_number_of_payments: _Lazy[Optional[int]] = _Lazy()
    max_number_of_payments_per_period: _Lazy[Optional[int]] = _Lazy()
    payment_period: _Lazy[Optional[PaymentPeriod]] = _Lazy()
    pin_type: _Lazy[Optional[PinType]] = _Lazy()
    account_key: _Lazy[Optional[str]] = _Lazy()
    confirmation_code: _Lazy[Optional[str]] = _Lazy()
    # --- END GENERATED: attributes ---

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a Message comes from ipnkit.parse(body)")

    @classmethod
    def _of(cls, native: _core.NativeNotification) -> Message:
        made = object.__new__(cls)
        object.__setattr__(
            made, "__dict__", {"_native": native, "event": native.event, "family": native.family}
        )
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self._native.raw == other._native.raw

    def __hash__(self) -> int:
        return hash(self._native.raw)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_restore, (self._native.raw, self._native.limits))

    def __repr__(self) -> str:
        return f"<ipnkit.Message event={self.event!r} txn_id={self.txn_id!r}>"

    @property
    def raw(self) -> bytes:
        """The body as received, byte for byte."""
        return bytes(self._native.raw)

    def to_dict(self) -> Dict[str, Any]:
        """The canonical JSON shape (amounts as strings, dates as RFC 3339 ``utc`` + ``text``):
        ``json.dumps(m.to_dict())`` is the canonical JSON every binding prints."""
        return dict(_json.loads(self._native.to_json()))

    @property
    def extra(self) -> List[Tuple[str, str]]:
        """Variables ipnkit does not model (and modelled ones not of their type), in order."""
        return list(self._native.extra())

    @property
    def variables(self) -> List[Tuple[str, str]]:
        """Every variable as received (decoded), in order: nothing is lost."""
        return list(self._native.variables())

    @property
    def notices(self) -> List[Tuple[NoticeCode, str]]:
        """(code, variable) of what is worth knowing but not an error (a value not of its type,
        a corrected time zone, a cart count that disagrees)."""
        return list(self._native.notices())

    @property
    def delivery_key(self) -> str:
        """The key that identifies this delivery across PayPal's retries and resends."""
        return str(self._native.delivery_key()[0])

    @property
    def lookup_id(self) -> str:
        """What to look stored delivery keys up by (the transaction)."""
        return str(self._native.delivery_key()[1])

    def postback(self) -> bytes:
        """``cmd=_notify-validate&`` followed by the body, byte for byte."""
        return bytes(self._native.postback())

    def verification_request(self, config: Config) -> VerificationRequest:
        """The postback request for the configured environment (never the message's
        ``test_ipn``)."""
        return _request(self._native, config)


Message.__doc__ = (Message.__doc__ or "") + "\n\nEvents (``m.event``):\n\n" + "\n".join(
    f"- {code}: {meaning}" for code, meaning in EVENTS.items()
)


class Limits(TypedDict, total=False):
    """Size limits, checked before any other work (defaults: 256 KiB, 8,192 variables, 128-byte
    keys)."""

    max_body_bytes: int
    max_fields: int
    max_key_bytes: int


class Config:
    """Your configuration, checked by the core once: the environment (``"live"`` or
    ``"sandbox"``), your receiver e-mails and account ids, the payment statuses that mean "paid"
    (PayPal's words, exactly: ``Completed``, ``Processed``…), the limits, and for tests a local
    stand-in's URL. A wrong type (a ``str`` where a list belongs) is a ``TypeError``
    (:class:`ArgumentError`); a wrong value a :class:`ConfigurationError` naming the key."""

    __slots__ = ("_native",)
    _native: _core.NativeConfig

    def __init__(
        self,
        *,
        environment: Literal["live", "sandbox"],
        receiver_emails: Sequence[str] = (),
        receiver_ids: Sequence[str] = (),
        final_statuses: Optional[Sequence[PaymentStatus]] = None,
        limits: Optional[Limits] = None,
        verify_url_for_testing: Optional[str] = None,
    ) -> None:
        data: Dict[str, Any] = {
            "environment": environment,
            "receiver_emails": receiver_emails,
            "receiver_ids": receiver_ids,
        }
        for key, value in (("final_statuses", final_statuses), ("limits", limits),
                           ("verify_url_for_testing", verify_url_for_testing)):
            if value is not None:
                data[key] = value
        object.__setattr__(self, "_native", _core.NativeConfig(data))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ipnkit.Config is immutable")

    @property
    def environment(self) -> Literal["live", "sandbox"]:
        """``live`` or ``sandbox``."""
        return self._native.environment

    def __repr__(self) -> str:
        return f"Config(environment={self.environment!r}, ...)"


class Expected:
    """What you know of the money a notification should carry, one of three answers: an order,
    ``Expected(amount="24.90", currency="EUR")`` (a ``str`` or ``Decimal``, compared exactly; a
    float is a ``TypeError``); any amount, ``Expected.any_amount()`` (donations); or no such
    order, ``Expected.no_order()`` (a payment is then refused ``order_not_found``)."""

    __slots__ = ("_native",)
    _native: _core.NativeExpected

    def __init__(self, *, amount: Union[str, Decimal], currency: str) -> None:
        object.__setattr__(self, "_native", _core.NativeExpected({"amount": amount, "currency": currency}))

    @classmethod
    def _of(cls, data: Dict[str, Any]) -> Expected:
        made = object.__new__(cls)
        object.__setattr__(made, "_native", _core.NativeExpected(data))
        return made

    @classmethod
    def any_amount(cls, *, currency: Optional[str] = None) -> Expected:
        """Any amount will do (donations, pay what you want); the currency is still checked
        when given."""
        return cls._of({"any_amount": True} if currency is None else {"any_amount": True, "currency": currency})

    @classmethod
    def no_order(cls) -> Expected:
        """You looked and have no order this notification pays: a payment is refused."""
        return cls._of({"no_order": True})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ipnkit.Expected is immutable")


def parse(body: bytes, *, config: Optional[Config] = None) -> Message:
    """Parses the raw bytes PayPal POSTed (within ``config``'s limits, else the defaults).
    Raises :class:`IpnError` (a subclass per kind)."""
    native = _core.receive(body, None if config is None else config._native.limits)
    return Message._of(native)


def postback(body: bytes) -> bytes:
    """``cmd=_notify-validate&`` followed by the body, byte for byte (whether or not its values
    decode)."""
    return bytes(_core.receive(body).postback())


class VerificationRequest(NamedTuple):
    """What to POST to PayPal: any HTTP client can send it as it is."""

    url: str
    headers: Dict[str, str]
    body: bytes


def _request(native: _core.NativeNotification, config: Config) -> VerificationRequest:
    url, headers, data = native.verification_request(config._native)
    return VerificationRequest(url, dict(headers), bytes(data))


def verification_request(body: bytes, config: Config) -> VerificationRequest:
    """The postback request for the configured environment (your configuration, never the
    message's ``test_ipn``), whether or not the body's values decode."""
    return _request(_core.receive(body, config._native.limits), config)


class Verdict:
    """PayPal's answer to a postback: ``kind`` is ``verified``, ``invalid`` or ``unexpected``
    (retry later), with the ``reason`` of an unexpected one.

    A verdict is made only from PayPal's answer as it came — :func:`verdict` with the HTTP status
    and body — or by :meth:`no_answer`; never from a kind you write, so that :func:`decide`
    cannot be told a message is verified when PayPal did not say so.
    """

    __slots__ = ("_answer",)
    _answer: _core.NativeVerdict

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "a Verdict comes from PayPal's answer: use ipnkit.verdict(status, body), "
            "or ipnkit.Verdict.no_answer() when there was none"
        )

    @classmethod
    def _of(cls, native: _core.NativeVerdict) -> Verdict:
        made = object.__new__(cls)
        object.__setattr__(made, "_answer", native)
        return made

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Verdict is immutable")

    @property
    def kind(self) -> VerdictKind:
        """``verified``, ``invalid`` or ``unexpected``."""
        kind: VerdictKind = self._answer.kind
        return kind

    @property
    def reason(self) -> Optional[UnexpectedReason]:
        """Why an answer was ``unexpected``, else None."""
        reason: Optional[UnexpectedReason] = self._answer.reason
        return reason

    @property
    def is_verified(self) -> bool:
        """Only HTTP 200 with a body that is exactly ``VERIFIED``."""
        return self.kind == "verified"

    @classmethod
    def no_answer(cls) -> Verdict:
        """The postback got no HTTP answer at all (timeout, refused or dropped connection):
        unexpected, to retry later."""
        return cls._of(_core.no_answer())

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
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError(
            "verdict(status, body) takes PayPal's answer to the postback as bytes (response.content "
            f"with requests, response.read() with urllib), not {type(body).__name__}; it is not the IPN body")
    return Verdict._of(_core.verdict(status, body))


def _stored_keys(keys: Sequence[str]) -> Sequence[str]:
    """The stored delivery keys, or a TypeError saying which one is not a ``str``."""
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence):
        raise TypeError(f"stored_keys must be a list of str (oldest first), not {type(keys).__name__}")
    for i, key in enumerate(keys):
        if not isinstance(key, str):
            raise TypeError(f"stored_keys must be str: stored_keys[{i}] is {type(key).__name__}")
    return keys


class Violation(NamedTuple):
    """A broken business rule: a stable ``code``, the ``field``, and for a status its word."""

    code: ViolationCode
    field: Optional[str]
    detail: Optional[str]


class Delivery(NamedTuple):
    """``new``, ``duplicate``, ``transition`` (from the state ``from_status`` to ``to_status``), or
    ``stale`` (a later state ``from_status`` was stored already; this delivery is ``to_status``:
    do not act)."""

    kind: DeliveryKind
    from_status: Optional[str]
    to_status: Optional[str]


def _delivery(data: Dict[str, Any]) -> Delivery:
    return Delivery(data["kind"], data.get("from"), data.get("to"))


class Act(NamedTuple):
    """Act: do it, and store ``delivery_key`` in the same transaction. Ship the goods only when
    ``amount`` is ``"matched"`` (``"not_asked"``: :meth:`Expected.any_amount`;
    ``"not_applicable"``: the event carries no amount)."""

    action: Literal["act"]
    event: EventCode
    family: Family
    delivery_key: str
    lookup_id: str
    delivery: Delivery
    amount: AmountCheck


class Skip(NamedTuple):
    """Skip: acted on already (``delivery.kind`` is ``duplicate`` or ``stale``). Do nothing."""

    action: Literal["skip"]
    event: EventCode
    family: Family
    delivery_key: str
    lookup_id: str
    delivery: Delivery


class Retry(NamedTuple):
    """Retry: PayPal's answer could not be used (``reason``); keep the body, post back later."""

    action: Literal["retry"]
    reason: UnexpectedReason


class RefusedNotVerified(NamedTuple):
    """Refused: PayPal answered INVALID. Keep the body, log it, act on nothing."""

    action: Literal["refuse"]
    why: Literal["not_verified"]


class RefusedUnreadable(NamedTuple):
    """Refused: verified, but a value cannot be read (``error``)."""

    action: Literal["refuse"]
    why: Literal["unreadable"]
    error: IpnError


class RefusedByRules(NamedTuple):
    """Refused by the rules (``violations``); tell the shop only when the message is ``ours``
    (paid to this merchant, in this environment)."""

    action: Literal["refuse"]
    why: Literal["rules"]
    event: EventCode
    family: Family
    delivery_key: str
    lookup_id: str
    violations: List[Violation]
    ours: bool


Decision = Union[Act, Skip, Retry, RefusedNotVerified, RefusedUnreadable, RefusedByRules]
"""What to do: one shape per ``action`` (and ``why``), narrowed by ``if d.action == "act":``."""


def _decision(data: Dict[str, Any]) -> Decision:
    """The core's decision, field for field."""
    action, why = data["action"], data.get("why")

    def about() -> Tuple[EventCode, Family, str, str]:
        return (data["event"], data["family"], data["delivery_key"], data["lookup_id"])

    if action == "act":
        return Act("act", *about(), _delivery(data["delivery"]), data["amount"])
    if action == "skip":
        return Skip("skip", *about(), _delivery(data["delivery"]))
    if action == "retry":
        return Retry("retry", data["reason"])
    if action == "refuse" and why == "not_verified":
        return RefusedNotVerified("refuse", "not_verified")
    if action == "refuse" and why == "unreadable":
        e = data["error"]
        return RefusedUnreadable("refuse", "unreadable", _ERROR_CLASSES[e["kind"]](e["code"], e.get("field"), e["message"]))
    if action == "refuse" and why == "rules":
        violations = [Violation(v["code"], v.get("field"), v.get("detail")) for v in data["violations"]]
        return RefusedByRules("refuse", "rules", *about(), violations, data["ours"])
    raise RuntimeError(f"ipnkit: a decision this package does not know ({action}, {why}): "
                       "its Python and native parts are from different versions")


def decide(
    message: Message, verdict: Verdict, *, config: Config, expected: Expected, stored_keys: Sequence[str]
) -> Decision:
    """The decision for ``message``, given PayPal's answer (``verdict`` must come from
    :func:`verdict` or :meth:`Verdict.no_answer`), your configuration, the order you expect,
    and the delivery keys you stored under ``message.lookup_id`` (oldest first; a list, never a
    single ``str``)."""
    if not isinstance(verdict, Verdict):
        raise TypeError("verdict must come from ipnkit.verdict(status, body)")
    if not isinstance(config, Config) or not isinstance(expected, Expected):
        raise TypeError("config must be an ipnkit.Config and expected an ipnkit.Expected")
    return _decision(_json.loads(
        message._native.decide(verdict._answer, config._native, expected._native, _stored_keys(stored_keys))
    ))


def classify(message: Message, stored_keys: Sequence[str]) -> Delivery:
    """Classifies a delivery against the keys stored under its :attr:`Message.lookup_id`, oldest
    first (a list, never a single ``str``). A stored text that is not a key ipnkit makes raises
    ``invalid_delivery_key``."""
    return _delivery(_json.loads(message._native.classify(_stored_keys(stored_keys))))


# --- PayPal REST webhooks -------------------------------------------------------------------


class WebhookVerifier:
    """Verifies the webhooks of one webhook id (PayPal's developer dashboard; ``WEBHOOK_ID`` for
    the Webhook Simulator's deliveries) in ``config``'s environment, offline: the certificate
    URL, its chain to DigiCert's root at the time given, its name, and RSA-SHA256 over the raw
    bytes. ``trust_anchors`` (PEM) replaces the bundled DigiCert certificates; ``replay_window``
    (seconds, default three days) refuses older transmissions; ``certificate_base_for_testing``
    (a local stand-in's URL, such as ``ipnkit sandbox``'s; sandbox only) also takes its
    certificates."""

    __slots__ = ("_native",)
    _native: _core.NativeWebhookVerifier

    def __init__(
        self, config: Config, webhook_id: str, *, trust_anchors: Optional[bytes] = None,
        replay_window: Optional[int] = None, certificate_base_for_testing: Optional[str] = None,
    ) -> None:
        if not isinstance(config, Config):
            raise TypeError("config must be an ipnkit.Config")
        object.__setattr__(self, "_native", _core.NativeWebhookVerifier(
            config._native, webhook_id, trust_anchors, replay_window, certificate_base_for_testing))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a WebhookVerifier is immutable")


class WebhookVerdict:
    """What the verifier concluded: ``kind`` is ``verified``, ``invalid`` (with the ``reason``:
    ``signature_mismatch``, ``cert_url_host``…) or ``unexpected`` (the certificate could not be
    had: verify again later). Made only by ipnkit, never from a kind you write."""

    __slots__ = ("_native",)
    _native: _core.NativeWebhookVerdict

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a WebhookVerdict comes from Webhook.verify or Webhook.certificate_request")

    @classmethod
    def _of(cls, native: _core.NativeWebhookVerdict) -> WebhookVerdict:
        made = object.__new__(cls)
        object.__setattr__(made, "_native", native)
        return made

    @classmethod
    def no_answer(cls) -> WebhookVerdict:
        """The certificate URL gave no HTTP answer at all: unexpected, to verify again later."""
        return cls._of(_core.webhook_no_answer())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a WebhookVerdict is immutable")

    @property
    def kind(self) -> VerdictKind:
        """``verified``, ``invalid`` or ``unexpected``."""
        kind: VerdictKind = self._native.kind
        return kind

    @property
    def reason(self) -> Optional[Union[WebhookInvalidReason, UnexpectedReason]]:
        """Why it is invalid or unexpected; None when verified."""
        reason: Optional[Union[WebhookInvalidReason, UnexpectedReason]] = self._native.reason
        return reason

    @property
    def is_verified(self) -> bool:
        """PayPal signed these bytes, for this webhook, with its certificate for this environment."""
        return self.kind == "verified"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WebhookVerdict):
            return NotImplemented
        return (self.kind, self.reason) == (other.kind, other.reason)

    def __hash__(self) -> int:
        return hash((self.kind, self.reason))

    def __repr__(self) -> str:
        return f"WebhookVerdict(kind={self.kind!r}, reason={self.reason!r})"


class CertificateRequest(NamedTuple):
    """What to GET (no redirects, the answer capped), and the key to cache the answer under."""

    url: str
    cache_key: str


class OnlineRequest(NamedTuple):
    """PayPal's ``verify-webhook-signature`` request: POST ``body`` to ``url`` as
    ``application/json`` with your OAuth bearer token."""

    url: str
    body: bytes


class WebhookResource(NamedTuple):
    """The resource a webhook is about, typed (every other field is in ``WebhookEvent.json``)."""

    kind: ResourceKind
    id: Optional[str]
    status: Optional[str]
    status_reason: Optional[str]
    amount: Optional[Money]
    create_time: Optional[PayPalDate]
    update_time: Optional[PayPalDate]
    payee_merchant_id: Optional[str]
    payee_email: Optional[str]
    custom_id: Optional[str]
    invoice_id: Optional[str]
    order_id: Optional[str]
    parent_id: Optional[str]
    billing_agreement_id: Optional[str]
    plan_id: Optional[str]
    disputed_transactions: Tuple[str, ...]
    case_type: Optional[str]


class WebhookEvent(NamedTuple):
    """A webhook's event: its envelope, its resource, IPN's ``event`` for the same fact, values
    not of their type as ``notices`` ((code, field) pairs), and the whole body as ``json``."""

    id: str
    event_type: str
    event: EventCode
    family: Family
    create_time: Optional[PayPalDate]
    resource_type: Optional[str]
    resource_version: Optional[str]
    summary: Optional[str]
    resource: WebhookResource
    notices: Tuple[Tuple[str, str], ...]
    json: Dict[str, Any]


def _webhook_date(data: Optional[Dict[str, str]]) -> Optional[PayPalDate]:
    if data is None:
        return None
    # The core writes UTC as RFC 3339 with 0, 3, 6 or 9 digits of fraction; a datetime holds
    # microseconds (as the native conversion of IPN dates keeps them).
    seconds, _, fraction = data["utc"].rstrip("Z").partition(".")
    utc = _dt.datetime.strptime(seconds, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=_dt.timezone.utc, microsecond=int(fraction[:6].ljust(6, "0")) if fraction else 0)
    return PayPalDate(utc, data["text"])


def _webhook_money(data: Optional[Dict[str, Optional[str]]]) -> Optional[Money]:
    if data is None or data["amount"] is None:
        return None
    return Money(Decimal(data["amount"]), data["currency"])


class Webhook:
    """A received webhook: the raw body and PayPal's five headers, read by
    :func:`receive_webhook`."""

    __slots__ = ("_native",)
    _native: _core.NativeWebhook

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a Webhook comes from ipnkit.receive_webhook(body, headers)")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Webhook is immutable")

    @property
    def body(self) -> bytes:
        """The body exactly as received."""
        return bytes(self._native.body())

    def certificate_request(self, verifier: WebhookVerifier) -> Union[CertificateRequest, WebhookVerdict]:
        """What to fetch, or the verdict refusing the certificate URL (nothing to fetch)."""
        url, key, refused = self._native.certificate_request(verifier._native)
        if refused is not None:
            return WebhookVerdict._of(refused)
        assert url is not None and key is not None
        return CertificateRequest(url, key)

    def verify(
        self, verifier: WebhookVerifier, status: int, certificate: bytes, *, now: Optional[float] = None
    ) -> WebhookVerdict:
        """The verdict, given what the certificate URL answered (``status``, the body as bytes),
        at ``now`` (Unix seconds; default the current time)."""
        if not isinstance(certificate, (bytes, bytearray)):
            raise TypeError(f"certificate must be the bytes the URL served, not {type(certificate).__name__}")
        when = _dt.datetime.now(_dt.timezone.utc).timestamp() if now is None else now
        return WebhookVerdict._of(self._native.verify(verifier._native, status, bytes(certificate), int(when)))

    def online_request(self, verifier: WebhookVerifier) -> Union[OnlineRequest, WebhookVerdict]:
        """PayPal's ``verify-webhook-signature`` request with the body's bytes spliced in, or the
        verdict refusing the algorithm."""
        url, body, refused = self._native.online_request(verifier._native)
        if refused is not None:
            return WebhookVerdict._of(refused)
        assert url is not None and body is not None
        return OnlineRequest(url, bytes(body))

    @staticmethod
    def online_verdict(verifier: WebhookVerifier, status: int, body: bytes) -> WebhookVerdict:
        """PayPal's answer to an :class:`OnlineRequest`: ``SUCCESS`` / ``FAILURE`` exactly."""
        return WebhookVerdict._of(_core.online_verdict(verifier._native, status, bytes(body)))

    @property
    def event(self) -> WebhookEvent:
        """The typed event; raises the error when the body is not one (``invalid_json``,
        ``duplicate_key``, ``invalid_field``)."""
        data = _json.loads(self._native.event_json())
        r = data["resource"]
        resource = WebhookResource(
            r["kind"], r["id"], r["status"], r["status_reason"], _webhook_money(r["amount"]),
            _webhook_date(r["create_time"]), _webhook_date(r["update_time"]), r["payee_merchant_id"],
            r["payee_email"], r["custom_id"], r["invoice_id"], r["order_id"], r["parent_id"],
            r["billing_agreement_id"], r["plan_id"], tuple(r["disputed_transactions"]), r["case_type"],
        )
        return WebhookEvent(
            data["id"], data["event_type"], data["event"], data["family"], _webhook_date(data["create_time"]),
            data["resource_type"], data["resource_version"], data["summary"], resource,
            tuple((n["code"], n["field"]) for n in data["notices"]), _json.loads(self.body),
        )

    def to_dict(self) -> Dict[str, Any]:
        """The event's canonical JSON (the same in every ipnkit binding and the CLI)."""
        result: Dict[str, Any] = _json.loads(self._native.event_json())
        return result


def receive_webhook(body: bytes, headers: Union[Mapping[str, str], Sequence[Tuple[str, str]]]) -> Webhook:
    """Reads a webhook: ``body`` exactly as received (``request.body`` in Django, never a parsed
    JSON) and the request's headers (a mapping such as ``request.headers``, or pairs). Raises
    :class:`HeaderError` for one of PayPal's five headers missing, repeated or malformed."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    made = object.__new__(Webhook)
    object.__setattr__(made, "_native", _core.receive_webhook(body, pairs))
    return made


def decide_webhook(
    webhook: Webhook, verdict: WebhookVerdict, *, config: Config, expected: Expected,
    stored_keys: Sequence[str],
) -> Decision:
    """The decision for a webhook: the same shapes as :func:`decide`'s, with delivery keys shared
    with IPN (the second telling of a payment, by either channel, is a duplicate)."""
    if not isinstance(verdict, WebhookVerdict):
        raise TypeError("verdict must come from Webhook.verify or Webhook.certificate_request")
    if not isinstance(config, Config) or not isinstance(expected, Expected):
        raise TypeError("config must be an ipnkit.Config and expected an ipnkit.Expected")
    return _decision(_json.loads(
        webhook._native.decide(verdict._native, config._native, expected._native, _stored_keys(stored_keys))
    ))


# --- One call: the host's HTTP with the standard library, the core's decision ----------------

_ANSWER_CAP = 64 * 1024
"""The most of an answer read: PayPal's answers are a word or a certificate of 3 KiB."""


class Opener(Protocol):
    """What the one-call functions open requests with: ``urllib.request.OpenerDirector``'s
    ``open`` (give your own for a proxy, or in tests)."""

    def open(self, fullurl: _urlrequest.Request, data: Optional[bytes] = None, timeout: float = ...) -> Any: ...


class _NoRedirect(_urlrequest.HTTPRedirectHandler):
    """A redirect is an answer (not PayPal's), never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener() -> Opener:
    return _urlrequest.build_opener(_NoRedirect())


def _exchange(opener: Opener, request: _urlrequest.Request, timeout: float) -> Optional[Tuple[int, bytes]]:
    """One HTTP exchange: no redirect followed, a deadline, the answer read to 64 KiB. ``None``
    when there is no whole answer (a timeout, a refused connection, an answer over the cap)."""
    try:
        response = opener.open(request, timeout=timeout)
    except _urlerror.HTTPError as e:  # a status other than 2xx (a 3xx too): an answer
        response = e
    except (OSError, ValueError):  # URLError, timeouts, refused or dropped connections
        return None
    try:
        with response:
            data = response.read(_ANSWER_CAP + 1)
            status = int(response.status)
    except (OSError, ValueError):
        return None
    return None if len(data) > _ANSWER_CAP else (status, bytes(data))


def handle_ipn(
    body: bytes, *, config: Config, expected: Expected, stored_keys: Sequence[str],
    opener: Optional[Opener] = None, timeout: float = 30.0,
) -> Decision:
    """One call for an IPN: posts the body back to PayPal with ``urllib`` (the configured
    environment's endpoint; no redirect followed, ``timeout`` seconds, the answer read to 64 KiB)
    and returns the core's decision. No answer, or an unreadable one, is a ``retry`` decision,
    never a verdict. Store the raw body and answer PayPal 200 before calling it."""
    if not isinstance(config, Config) or not isinstance(expected, Expected):
        raise TypeError("config must be an ipnkit.Config and expected an ipnkit.Expected")
    native = _core.receive(body, config._native.limits)
    url, headers, data = native.verification_request(config._native)
    request = _urlrequest.Request(url, data=bytes(data), headers=dict(headers), method="POST")
    answer = _exchange(opener or _opener(), request, timeout)
    verdict = _core.no_answer() if answer is None else _core.verdict(answer[0], answer[1])
    return _decision(_json.loads(native.decide(verdict, config._native, expected._native, _stored_keys(stored_keys))))


def handle_webhook(
    body: bytes, headers: Union[Mapping[str, str], Sequence[Tuple[str, str]]], *, config: Config,
    verifier: WebhookVerifier, expected: Expected, stored_keys: Sequence[str],
    certificates: Optional[MutableMapping[str, Tuple[int, bytes]]] = None,
    opener: Optional[Opener] = None, timeout: float = 30.0, now: Optional[float] = None,
) -> Decision:
    """One call for a webhook: reads it, takes PayPal's certificate from ``certificates`` (a
    mapping by cache key that lives across calls: a dict, or your cache) or fetches it with
    ``urllib`` from a URL the core judged PayPal's (no redirect, ``timeout``, 64 KiB), verifies
    offline at ``now`` (default the current time) and returns the core's decision. A certificate
    that cannot be had is a ``retry`` decision. Raises :class:`HeaderError` for a missing,
    repeated or malformed PayPal header."""
    webhook = receive_webhook(body, headers)
    wanted = webhook.certificate_request(verifier)
    if isinstance(wanted, WebhookVerdict):
        verdict = wanted
    else:
        cache: MutableMapping[str, Tuple[int, bytes]] = {} if certificates is None else certificates
        answer = cache.get(wanted.cache_key)
        if answer is None:
            answer = _exchange(opener or _opener(), _urlrequest.Request(wanted.url, method="GET"), timeout)
            if answer is not None and answer[0] == 200:
                cache[wanted.cache_key] = answer
        verdict = WebhookVerdict.no_answer() if answer is None else webhook.verify(
            verifier, answer[0], answer[1], now=now)
    return decide_webhook(webhook, verdict, config=config, expected=expected, stored_keys=stored_keys)
