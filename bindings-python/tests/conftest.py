"""Shared paths: the cross-language vectors and the shared corpus (a test that needs the corpus
fails with a message saying where it looked)."""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"


def corpus_dir() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("IPNKIT_CORPUS", ROOT.parent / "shared" / "corpus"))
    if not (path / "SOURCES.md").is_file():
        pytest.fail(f"the IPN corpus is missing: expected {path} (set IPNKIT_CORPUS to its path)")
    return path


def files(directory: pathlib.Path, pattern: str) -> list[pathlib.Path]:
    """The files of `directory` matching `pattern`, sorted; an empty match is an error (at
    collection), never a silently empty loop or parameter list."""
    found = sorted(directory.glob(pattern))
    if not found:
        raise FileNotFoundError(f"no {pattern} file in {directory}")
    return found
