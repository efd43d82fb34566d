"""The README's Python examples, run as written: the quickstart cannot rot."""

import re

from conftest import ROOT


def test_readme_python_examples_run():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has no Python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "__main__"})


def test_readme_shows_the_framework_examples_as_they_are_tested():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(# examples/(\S+?\.py).*?)```", text, flags=re.S)
    assert {name for _, name in blocks} == {"django_views.py", "flask_app.py"}
    for block, name in blocks:
        assert block == (ROOT / "bindings-python" / "examples" / name).read_text(encoding="utf-8"), name


def test_the_package_readme_example_runs():
    """bindings-python/README.md is the package's page on PyPI: its example runs as written."""
    text = (ROOT / "bindings-python" / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the package's README has no Python example"
    for block in blocks:
        scope = {"__name__": "__main__"}
        exec(compile(block, "bindings-python/README.md", "exec"), scope)
        assert callable(scope["on_ipn"])
