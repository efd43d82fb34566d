"""The typed attributes of `ipnkit.Message` and the vocabularies' `Literal` aliases are generated
from the core's lists; this fails when they drift (run `python bindings-python/generate_types.py`)."""

import importlib.util
import pathlib
import typing

import ipnkit

HERE = pathlib.Path(__file__).resolve().parents[1]


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_types", HERE / "generate_types.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_block_is_current():
    generator = load_generator()
    source = (HERE / "python" / "ipnkit" / "__init__.py").read_text(encoding="utf-8")
    assert generator.render(source) == source, "stale: run bindings-python/generate_types.py"


def test_every_modelled_variable_has_an_annotation_and_every_vocabulary_an_alias():
    hints = typing.get_type_hints(ipnkit.Message, globalns=vars(ipnkit))
    assert set(ipnkit.MODELLED_VARIABLES) <= set(hints)
    for vocab in ipnkit.schema()["vocabularies"]:
        assert typing.get_args(getattr(ipnkit, vocab["name"])) == tuple(vocab["words"]), vocab["name"]
    for group in ipnkit.schema()["groups"]:
        record_hints = typing.get_type_hints(getattr(ipnkit, group["record"]), globalns=vars(ipnkit))
        assert {m["name"] for m in group["members"]} <= set(record_hints), group["name"]


def test_runtime_values_are_what_the_annotations_say():
    m = ipnkit.parse((HERE.parent / "tests" / "vectors" / "subscr_signup--with_trial.body").read_bytes())
    assert isinstance(m.mc_amount3, ipnkit.Money)
    assert isinstance(m.subscr_date, ipnkit.PayPalDate)
    assert isinstance(m.period3, ipnkit.Period)
    assert m.txn_type in typing.get_args(ipnkit.TxnType)
    assert m.event in typing.get_args(ipnkit.EventCode)


def test_mypy_sees_the_types_and_catches_typos(tmp_path):
    import os
    import subprocess
    import sys

    user = tmp_path / "user.py"
    user.write_text(
        "import ipnkit\n"
        "m = ipnkit.parse(b'mc_gross=1.00')\n"
        "reveal_type(m.mc_gross)\n"
        "reveal_type(m.payment_date)\n"
        "wrong: int = m.quantity\n"
        "m.mc_gros\n"
        "if m.event == 'payment_complete': pass\n"
        "if m.payment_status == 'Complete': pass\n"
        "v = ipnkit.verdict(200, b'VERIFIED')\n"
        "if v.kind == 'verifed': pass\n"
        "d = ipnkit.classify(m, [])\n"
        "if d.kind == 'dupe': pass\n"
        "for item in m.items: item.item_nme\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict-equality", str(user)],
        capture_output=True, text=True, env={**os.environ, "MYPY_CACHE_DIR": os.devnull}, check=False,
    )
    out = run.stdout
    assert "No module named mypy" not in run.stderr, "mypy is missing where the tests run: pip install mypy"
    # mypy writes an optional type as `X | None`, or as `Union[X, None]` / `Optional[X]` when
    # the Python it checks for (the one running it) is older than 3.10.
    def optional(t: str, revealed: bool) -> tuple:
        return (f"{t} | None", f"Union[{t}, None]") if revealed else (f"{t} | None", f"Optional[{t}]")

    for t in ("ipnkit.Money", "ipnkit.PayPalDate"):
        assert any(f'Revealed type is "{o}"' in out for o in optional(t, True)), out
    assert any(f'expression has type "{o}", variable has type "int"' in out for o in optional("int", False)), out
    assert '"Message" has no attribute "mc_gros"' in out, out
    assert '"CartItem" has no attribute "item_nme"' in out, out
    for typo in ("payment_complete", "Complete", "verifed", "dupe"):
        assert f"Literal['{typo}']" in out, (typo, out)
