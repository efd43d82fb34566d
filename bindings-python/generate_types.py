"""Writes the generated parts of `python/ipnkit/__init__.py` from the core's schema
(`ipnkit.host::schema`, through `_native.schema()`): the `Literal` aliases of every vocabulary and
code list, the event table, one exception class per error kind, the record classes of every group,
and the typed attributes of `ipnkit.Message`. `tests/test_types.py` fails when a block is stale.

    python bindings-python/generate_types.py [--check]        (with the wheel installed)
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
from typing import Any, Dict, List

from ipnkit import _native

PACKAGE = pathlib.Path(__file__).resolve().parent / "python" / "ipnkit" / "__init__.py"
NOTE = "# (written by bindings-python/generate_types.py from the core's schema; do not edit)"

SIMPLE = {
    "text": "str", "flag": "bool", "count": "int", "decimal": "Decimal", "currency": "str",
    "date": "PayPalDate", "money": "Money", "period": "Period",
}

# Python's own exception for a value of the wrong type: the core's `argument` kind is also one.
PYTHON_BASES = {"argument": "TypeError"}


def literal(values: List[str]) -> str:
    return "Literal[" + ", ".join(repr(v) for v in values) + "]"


def annotation(kind: str, records: Dict[str, str]) -> str:
    if kind.startswith("vocab:"):
        return kind[len("vocab:"):]
    if kind.startswith("records:"):
        return f"Sequence[{records[kind[len('records:'):]]}]"
    if kind == "pairs":
        return "Sequence[Tuple[str, str]]"
    return SIMPLE[kind]


def module_block(schema: Dict[str, Any]) -> List[str]:
    lines = []
    for vocab in schema["vocabularies"]:
        lines.append(f"{vocab['name']} = {literal(vocab['words'])}")
        lines.append(f'"""PayPal\'s documented values of `{vocab["name"]}`."""')
    codes = [
        ("EventCode", [e["code"] for e in schema["events"]], "What happened (see `EVENTS`)."),
        ("Family", schema["families"], "The family of notification."),
        ("ViolationCode", schema["violations"], "A broken business rule."),
        ("DeliveryKind", schema["deliveries"], "A delivery against the stored keys."),
        ("VerdictKind", schema["verdicts"], "What PayPal's answer means."),
        ("UnexpectedReason", schema["unexpected"], "Why PayPal's answer is unexpected."),
        ("Action", schema["actions"], "What to do with a notification."),
        ("RefusalCode", schema["refusals"], "Why a notification is refused."),
        ("AmountCheck", schema["amount_checks"], "How an accepted notification's amount was judged: ship only on ``matched``."),
        ("NoticeCode", schema["notices"], "What is worth knowing about a message."),
        ("WebhookInvalidReason", schema["webhook_invalid"], "Why a webhook is not PayPal's (for this configuration)."),
        ("ResourceKind", schema["resource_kinds"], "What a webhook's resource is."),
        ("ErrorCode", [c for e in schema["errors"] for c in e["codes"]], "An error's stable code."),
    ]
    for name, values, doc in codes:
        lines.append(f"{name} = {literal(values)}")
        lines.append(f'"""{doc}"""')
    lines.append("EVENTS: Dict[EventCode, str] = {")
    for e in schema["events"]:
        lines.append(f"    {e['code']!r}: {e['meaning']!r},")
    lines.append("}")
    lines.append('"""Every event with its meaning. "Paid" is `payment_completed` *and* `capture_completed`."""')
    for title, values in [
        ("EVENT_CODES", [e["code"] for e in schema["events"]]),
        ("ERROR_CODES", [c for e in schema["errors"] for c in e["codes"]]),
        ("VIOLATION_CODES", schema["violations"]),
        ("MODELLED_VARIABLES", [v["name"] for v in schema["variables"]]),
    ]:
        lines.append(f"{title}: Tuple[str, ...] = ({', '.join(repr(v) for v in values)},)")
    for error in schema["errors"]:
        bases = ", ".join(["IpnError"] + ([PYTHON_BASES[error["kind"]]] if error["kind"] in PYTHON_BASES else []))
        codes_text = ", ".join(f"``{c}``" for c in error["codes"])
        lines.append("")
        lines.append("")
        lines.append(f"class {error['class']}({bases}):")
        lines.append(f'    """{error["doc"]} Codes: {codes_text}."""')
    lines.append("")
    lines.append("")
    lines.append("_ERROR_CLASSES: Dict[str, Type[IpnError]] = {")
    for error in schema["errors"]:
        lines.append(f"    {error['kind']!r}: {error['class']},")
    lines.append("}")
    lines.append('"""The exception class of each error kind."""')
    return lines


def records_block(schema: Dict[str, Any]) -> List[str]:
    records = {g["name"]: g["record"] for g in schema["groups"]}
    lines = []
    for group in schema["groups"]:
        lines.append("")
        lines.append("")
        lines.append(f"class {group['record']}(Record):")
        lines.append(f'    """A member of ``Message.{group["name"]}``."""')
        lines.append("")
        names = [m["name"] for m in group["members"]]
        lines.append(f"    _KNOWN = ({', '.join(repr(n) for n in names)},)")
        for member in group["members"]:
            kind = member["kind"]
            if member["name"] in ("number", "index"):
                lines.append(f"    {member['name']}: int")
            elif kind.startswith("records:") or kind == "pairs":
                lines.append(f"    {member['name']}: {annotation(kind, records)} = ()")
            else:
                lines.append(f"    {member['name']}: Optional[{annotation(kind, records)}] = None")
    return lines


def attribute_block(schema: Dict[str, Any]) -> List[str]:
    records = {g["name"]: g["record"] for g in schema["groups"]}
    names = [v["name"] for v in schema["variables"]]
    fixed = ["event", "family", "items", "options", "masspay_items", "transactions", "fraud_filters",
             "raw", "to_dict", "extra", "variables", "notices", "delivery_key", "lookup_id",
             "postback", "verification_request"]
    lines = [f"    _KNOWN = ({', '.join(repr(n) for n in names + fixed)},)"]
    for v in schema["variables"]:
        lines.append(f"    {v['name']}: _Lazy[Optional[{annotation(v['kind'], records)}]] = _Lazy()")
    return lines


BLOCKS = [
    ("# --- GENERATED: module ---", "# --- END GENERATED: module ---", module_block, ""),
    ("# --- GENERATED: records ---", "# --- END GENERATED: records ---", records_block, ""),
    ("    # --- GENERATED: attributes ---", "    # --- END GENERATED: attributes ---", attribute_block, "    "),
]


def render(text: str) -> str:
    schema = json.loads(_native.schema())
    for start, end, block, indent in BLOCKS:
        body = "\n".join([start, indent + NOTE] + block(schema) + [end])
        text, count = re.subn(re.escape(start) + r".*?" + re.escape(end), lambda _: body, text, flags=re.S)
        if count != 1:
            raise SystemExit(f"{PACKAGE}: the marker {start.strip()!r} must appear once")
    return text


if __name__ == "__main__":
    current = PACKAGE.read_text(encoding="utf-8")
    updated = render(current)
    if "--check" in sys.argv:
        sys.exit(0 if updated == current else 1)
    PACKAGE.write_text(updated, encoding="utf-8")
