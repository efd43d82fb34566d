"""The compiled core. Use the ``ipnkit`` package instead: it wraps these in Python idioms."""

from datetime import datetime
from decimal import Decimal
from typing import List, Optional, Tuple, Union, final

from typing_extensions import TypeAlias

_Body: TypeAlias = Union[bytes, bytearray]

__all__ = [
    "NativeError",
    "ERROR_CODES",
    "EVENT_CODES",
    "VIOLATION_CODES",
    "MODELLED_VARIABLES",
    "MODELLED_KINDS",
    "VOCABULARIES",
    "NativeMessage",
    "NativeVerdict",
    "parse",
    "postback",
    "verification_request",
    "verdict",
    "no_answer",
]

ERROR_CODES: List[str]
EVENT_CODES: List[str]
VIOLATION_CODES: List[str]
MODELLED_VARIABLES: List[str]
MODELLED_KINDS: List[Tuple[str, str]]
VOCABULARIES: List[Tuple[str, List[str]]]

class NativeError(Exception):
    """An ipnkit error: args are (code, field, message)."""

@final
class NativeVerdict:
    """PayPal's answer to a postback, as it came, or none at all."""

    @property
    def kind(self) -> str:
        """``verified``, ``invalid`` or ``unexpected``."""
    @property
    def reason(self) -> Optional[str]:
        """Why an answer was unexpected, else None."""

@final
class NativeMessage:
    """A parsed message."""

    @property
    def event(self) -> str:
        """The event's code."""
    @property
    def family(self) -> str:
        """The family's code."""
    def get(
        self, name: str
    ) -> Union[
        None, str, bool, int, Decimal, Tuple[Decimal, Optional[str]], Tuple[datetime, str], Tuple[int, str]
    ]:
        """The value of a modelled variable, converted; None when absent."""
    def extra(self) -> List[Tuple[str, str]]:
        """Unmodelled variables, in order."""
    def variables(self) -> List[Tuple[str, str]]:
        """Every variable, in order."""
    def to_json(self) -> str:
        """The canonical JSON."""
    def delivery_key(self) -> Tuple[str, str]:
        """(delivery key, lookup id)."""
    def check(
        self,
        verdict: NativeVerdict,
        environment: str,
        receiver_emails: List[str],
        receiver_ids: List[str],
        amount: Optional[Decimal] = None,
        currency: Optional[str] = None,
        final_statuses: Optional[List[str]] = None,
    ) -> List[Tuple[str, Optional[str], Optional[str]]]:
        """The policy check: [(code, field, detail)], from PayPal's answer as it came."""
    def classify(self, stored: List[str]) -> Tuple[str, Optional[str], Optional[str]]:
        """The delivery's classification against stored keys: (kind, from, to)."""

def parse(body: _Body) -> NativeMessage:
    """Parses a raw body into a message."""

def postback(body: _Body) -> bytes:
    """The verification postback of a raw body."""

def verification_request(
    body: _Body, environment: str, base_url_for_testing: Optional[str] = None
) -> Tuple[str, List[Tuple[str, str]], bytes]:
    """(url, [(header, value)], body) of the verification request."""

def verdict(status: int, body: _Body) -> NativeVerdict:
    """PayPal's answer to a postback, kept as it came."""

def no_answer() -> NativeVerdict:
    """The postback got no HTTP answer at all."""
