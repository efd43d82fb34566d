"""Writes the typed attributes of `ipnkit.Message` (and the vocabularies' `Literal` aliases) into
`python/ipnkit/__init__.py`, between the GENERATED markers, from the core's own lists
(`MODELLED_KINDS`, `VOCABULARIES`). `tests/test_types.py` fails when the block is stale.

    python bindings-python/generate_types.py        (with the wheel installed)
"""

import pathlib
import re
import sys

from ipnkit import _native

PACKAGE = pathlib.Path(__file__).resolve().parent / "python" / "ipnkit" / "__init__.py"
START, END = "# --- GENERATED: vocabularies ---", "# --- END GENERATED: vocabularies ---"
ATTR_START, ATTR_END = "    # --- GENERATED: attributes ---", "    # --- END GENERATED: attributes ---"

SIMPLE = {
    "text": "str", "flag": "bool", "count": "int", "decimal": "Decimal", "currency": "str",
    "date": "PayPalDate", "money": "Money", "period": "Period",
}


def vocab_block() -> str:
    lines = [START]
    for name, known in _native.VOCABULARIES:
        values = ", ".join(repr(v) for v in known)
        lines.append(f"{name} = Literal[{values}]")
        lines.append(f'"""`{name}`: PayPal\'s documented values (others arrive as plain `str`)."""')
    lines.append(END)
    return "\n".join(lines)


def attribute_block() -> str:
    lines = [ATTR_START]
    for name, kind in _native.MODELLED_KINDS:
        if kind.startswith("vocab:"):
            annotation = f"Optional[Union[{kind[len('vocab:'):]}, str]]"
        else:
            annotation = f"Optional[{SIMPLE[kind]}]"
        lines.append(f"    {name}: {annotation}")
    lines.append(ATTR_END)
    return "\n".join(lines)


def render(text: str) -> str:
    text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: vocab_block(), text, flags=re.S)
    return re.sub(re.escape(ATTR_START) + r".*?" + re.escape(ATTR_END), lambda _: attribute_block(),
                  text, flags=re.S)


if __name__ == "__main__":
    current = PACKAGE.read_text(encoding="utf-8")
    updated = render(current)
    if "--check" in sys.argv:
        sys.exit(0 if updated == current else 1)
    PACKAGE.write_text(updated, encoding="utf-8")
