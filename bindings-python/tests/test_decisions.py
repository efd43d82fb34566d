"""The shared decision cases (tests/decisions/cases.json): this package decides each as the core's
golden file says (tests/decisions/decisions.json), through its public API, every field converted."""

import json
from pathlib import Path
from typing import Any, Dict

import ipnkit

DECISIONS = Path(__file__).resolve().parents[2] / "tests" / "decisions"


def as_core_json(d: ipnkit.Decision) -> Dict[str, Any]:
    """The public decision back in the core's JSON shape (None fields left out, as the core
    leaves them out)."""
    out: Dict[str, Any] = {}
    for name, value in d._asdict().items():
        if isinstance(value, ipnkit.Delivery):
            value = {k: v for k, v in (("kind", value.kind), ("from", value.from_status),
                                       ("to", value.to_status)) if v is not None}
        elif isinstance(value, list):
            value = [{k: v for k, v in x._asdict().items() if v is not None} for x in value]
        elif isinstance(value, ipnkit.IpnError):
            value = {"code": value.code, "field": value.field, "message": str(value),
                     "kind": {c: k for k, c in ipnkit._ERROR_CLASSES.items()}[type(value)]}
        out[name] = value
    return out


def test_every_shared_case_decides_as_the_core_does():
    cases = json.loads((DECISIONS / "cases.json").read_text())["cases"]
    golden = json.loads((DECISIONS / "decisions.json").read_text())
    assert [c["name"] for c in cases] == [g["name"] for g in golden]
    for case, want in zip(cases, golden):
        body = case["body"].encode()
        config = ipnkit.Config(**case["config"])
        expected = ipnkit.Expected._of(case["expected"])
        answer = (ipnkit.Verdict.no_answer() if case["status"] is None
                  else ipnkit.verdict(case["status"], case["answer"].encode()))
        try:
            message = ipnkit.parse(body)
        except ipnkit.IpnError:
            # A body that does not decode never becomes a Message; the core still decides it
            # (its native notification keeps the error): the same JSON, and the conversion.
            native = ipnkit._core.receive(body).decide(answer._answer, config._native, expected._native,
                                                       case["stored"])
            assert json.loads(native) == want["decision"], case["name"]
            decision = ipnkit._decision(json.loads(native))
        else:
            decision = ipnkit.decide(message, answer, config=config, expected=expected,
                                     stored_keys=case["stored"])
        assert as_core_json(decision) == want["decision"], case["name"]
