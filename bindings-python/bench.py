"""`ipnkit.parse` against `urllib.parse.parse_qsl` + `dict` on the shared corpus, side by side.

    python bindings-python/bench.py        (after installing the wheel)

The baseline only splits and percent-decodes (as UTF-8, leniently, keeping one of two copies of
a duplicated key); `ipnkit.parse` also decodes each message's charset strictly, refuses duplicates,
and builds the typed message. An attribute is converted to its Python object when it is first
read (the "+ 3 attributes" line pays for three) and kept in the instance: reading it again is a
plain attribute lookup (the last two lines, in microseconds per read).
"""

import os
import pathlib
import timeit
import urllib.parse

import ipnkit

root = pathlib.Path(__file__).resolve().parents[1]
corpus = pathlib.Path(os.environ.get("IPNKIT_CORPUS", root.parent / "shared" / "corpus"))
bodies = [p.read_bytes() for p in sorted(corpus.glob("*.body"))]
bodies += [p.read_bytes() for p in sorted((root / "tests" / "vectors").glob("*.body"))]


def baseline():
    for b in bodies:
        dict(urllib.parse.parse_qsl(b.decode("latin-1"), keep_blank_values=True))


def typed():
    for b in bodies:
        ipnkit.parse(b)


def typed_and_read():
    for b in bodies:
        m = ipnkit.parse(b)
        m.mc_gross, m.payment_date, m.event


MESSAGE = ipnkit.parse(bodies[0])


def read_text_attribute():
    m = MESSAGE
    for _ in range(1000):
        m.txn_id


def read_money_attribute():
    m = MESSAGE
    for _ in range(1000):
        m.mc_gross


def best(fn, number=200):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number / len(bodies) * 1e6


base = best(baseline)
print(f"{len(bodies)} messages, microseconds per message (best of 5 x 200 rounds)")
print(f"  urllib.parse.parse_qsl + dict : {base:7.2f}")
for name, fn in [("ipnkit.parse", typed), ("ipnkit.parse + 3 attributes", typed_and_read)]:
    t = best(fn)
    print(f"  {name:30}: {t:7.2f}   ({base / t:.1f}x faster)")

for name, fn in [("text attribute (m.txn_id)", read_text_attribute), ("money attribute (m.mc_gross)", read_money_attribute)]:
    t = min(timeit.repeat(fn, number=200, repeat=5)) / 200 / 1000 * 1e6
    print(f"  read {name:30}: {t:7.3f} per read")
