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
    assert set(hints) == set(ipnkit.MODELLED_VARIABLES)
    for name, known in ipnkit._native.VOCABULARIES:
        assert typing.get_args(getattr(ipnkit, name)) == tuple(known), name


def test_runtime_values_are_what_the_annotations_say():
    m = ipnkit.parse((HERE.parent / "tests" / "vectors" / "subscr_signup--with_trial.body").read_bytes())
    assert isinstance(m.mc_amount3, ipnkit.Money)
    assert isinstance(m.subscr_date, ipnkit.PayPalDate)
    assert isinstance(m.period3, ipnkit.Period)
    assert m.txn_type in typing.get_args(ipnkit.TxnType)


def test_mypy_sees_the_types(tmp_path):
    import os
    import subprocess
    import sys

    user = tmp_path / "user.py"
    user.write_text(
        "import ipnkit\n"
        "m = ipnkit.parse(b'mc_gross=1.00')\n"
        "reveal_type(m.mc_gross)\n"
        "reveal_type(m.payment_date)\n"
        "wrong: int = m.quantity\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", str(user)],
        capture_output=True, text=True, env={**os.environ, "MYPY_CACHE_DIR": os.devnull}, check=False,
    )
    assert 'Revealed type is "tuple[decimal.Decimal, str | None, fallback=ipnkit.Money] | None"' in run.stdout, run.stdout
    assert 'fallback=ipnkit.PayPalDate] | None"' in run.stdout, run.stdout
    assert 'expression has type "int | None", variable has type "int"' in run.stdout, run.stdout
