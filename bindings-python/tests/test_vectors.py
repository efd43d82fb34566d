"""The same golden canonical JSON as the Rust tests, for every vector and corpus message."""

import json
import urllib.parse

import pytest

import ipnkit
from conftest import VECTORS, corpus_dir, files

BODIES = files(VECTORS, "*.body")
CODECS = {"windows-1252": "cp1252", "UTF-8": "utf-8"}


@pytest.mark.parametrize("body", BODIES, ids=lambda p: p.stem)
def test_vector_matches_its_golden_json(body):
    expected = json.loads(body.with_suffix(".json").read_text(encoding="utf-8"))
    assert ipnkit.parse(body.read_bytes()).to_dict() == expected


@pytest.mark.parametrize("body", BODIES, ids=lambda p: p.stem)
def test_vector_variables_match_pythons_own_decoder(body):
    expected = json.loads(body.with_suffix(".fields.json").read_text(encoding="utf-8"))
    assert ipnkit.parse(body.read_bytes()).variables == [tuple(p) for p in expected]


def encode(pairs):
    charset = dict(pairs).get("charset", "windows-1252")
    codec = CODECS[charset]
    return "&".join(
        urllib.parse.quote_plus(k.encode(codec)) + "=" + urllib.parse.quote_plus(v.encode(codec))
        for k, v in pairs
    ).encode("ascii")


def test_corpus_messages_match_their_golden_json():
    corpus = corpus_dir()
    checked = set()
    for path in sorted(corpus.iterdir()):
        if path.name.endswith(".body"):
            # A raw body as a project captured it: the postback is it, byte for byte.
            raw, stem = path.read_bytes(), path.name[: -len(".body")]
            assert ipnkit.postback(raw) == b"cmd=_notify-validate&" + raw, stem
        elif path.name.endswith(".fields.json"):
            # Decoded pairs as a project's tests assert them: put on the wire by Python's own
            # encoder in the message's charset, they decode back to exactly those pairs.
            pairs = json.loads(path.read_text(encoding="utf-8"))
            raw = encode(pairs)
            stem = path.name[: -len(".fields.json")]
            assert ipnkit.parse(raw).variables == [tuple(p) for p in pairs], stem
        else:
            continue
        golden = json.loads((VECTORS / "corpus" / f"{stem}.json").read_text(encoding="utf-8"))
        assert ipnkit.parse(raw).to_dict() == golden, stem
        checked.add(stem)
    # Every corpus message has its golden JSON, and every golden JSON its corpus message.
    assert checked == {p.stem for p in (VECTORS / "corpus").glob("*.json")}, "corpus and goldens differ"
