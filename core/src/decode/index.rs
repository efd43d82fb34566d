//! The lookup index of decoded variables by name, which also finds a name given twice.
//!
//! An open-addressing table of positions, built in one pass in body order: a variable costs one
//! hash and, nearly always, one probe. Names are compared only when their hashes are equal, so the
//! index stays correct however many names collide; and since [`hash`](super::hash) is not keyed,
//! a body crafted to collide would make probing quadratic: after a few probes too many the table
//! is given up for a sorted list of (hash, position), which costs O(n log n) whatever the names.
//!
//! The duplicate reported is the same either way: the variable whose second occurrence comes
//! first in the body, with its first occurrence.

use std::convert::Infallible;

use super::Span;

/// A name given twice: the positions of its first and second occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Duplicate {
    pub(super) first: usize,
    pub(super) second: usize,
}

/// Variables by name: see the [module docs](self).
#[derive(Debug, Clone)]
pub(super) enum Index {
    /// Open addressing: each slot holds a position, or [`EMPTY`]. The slot of a hash is its top
    /// bits (the multiply in the hash mixes best into them).
    Table { slots: Vec<u32>, shift: u32 },
    /// (hash, position), sorted: binary search, for bodies whose names collide.
    Sorted(Vec<(u64, u32)>),
}

impl Index {
    /// Indexes the variables at `spans` (keys in `text`), in body order, and finds a name given
    /// twice.
    pub(super) fn build(spans: &[Span], text: &[u8]) -> Result<Index, Duplicate> {
        fill(spans, text, 0..spans.len(), Err)
    }

    /// Indexes the variables at `spans` whose names are already known to be distinct (a
    /// [`Message`](crate::Message) checks them as it reads them), so nothing is refused: a
    /// lookup still compares the name it is given.
    pub(super) fn of_distinct(spans: &[Span], text: &[u8]) -> Index {
        let Ok(index) = fill(spans, text, 0..spans.len(), |_| Ok::<(), Infallible>(()));
        index
    }

    /// Whether the variables at `positions` (ascending, each below `spans.len()`) have
    /// distinct names. A position past the end is not a distinct name: the caller then reads
    /// the body again with the general path.
    pub(super) fn distinct(spans: &[Span], text: &[u8], positions: &[u32]) -> bool {
        // A few (most messages' extras): a 64-bit filter of their hashes, and only a name whose
        // bit is taken compared with those before it. No table to allocate.
        if positions.len() <= 64 {
            let mut seen = 0u64;
            for (n, &i) in positions.iter().enumerate() {
                let Some(span) = spans.get(i as usize) else {
                    return false;
                };
                let bit = 1u64 << (span.hash >> 58);
                if seen & bit != 0 {
                    let name = text.get(span.key());
                    let same = |&&first: &&u32| {
                        spans
                            .get(first as usize)
                            .is_some_and(|s| s.hash == span.hash && text.get(s.key()) == name)
                    };
                    if positions.iter().take(n).any(|first| same(&first)) {
                        return false;
                    }
                }
                seen |= bit;
            }
            return true;
        }
        positions.iter().all(|&i| (i as usize) < spans.len())
            && fill(spans, text, positions.iter().map(|&i| i as usize), Err).is_ok()
    }
}

/// Indexes the variables at `positions` (ascending), calling `twice` for a name found at two of
/// them: its error stops the build.
fn fill<E>(
    spans: &[Span],
    text: &[u8],
    positions: impl ExactSizeIterator<Item = usize> + Clone,
    twice: impl Fn(Duplicate) -> Result<(), E>,
) -> Result<Index, E> {
    // Every position is below `spans.len()` (the callers' contract), and every span lies in
    // `text`: `get` always finds them.
    let hash = |i: usize| spans.get(i).map_or(0, |s| s.hash);
    let key = |i: usize| {
        spans
            .get(i)
            .and_then(|s| text.get(s.key()))
            .unwrap_or_default()
    };
    let n = positions.len();
    // At most half full: probes stay short.
    let bits = (2 * n).max(16).next_power_of_two().trailing_zeros();
    let shift = 64 - bits;
    // Empty is not zero, so the table is not zero-allocated: glibc serves small blocks from
    // a per-thread cache that `calloc` bypasses (the compiler turns a zero fill into one).
    let mut slots: Vec<u32> = vec![EMPTY; 1 << bits];
    let mask = slots.len() - 1;
    // Beyond this many probes in all, the names collide by design, not by chance.
    let mut budget = 4 * n + 64;
    for i in positions.clone() {
        let h = hash(i);
        let mut at = slot_of(h, shift);
        loop {
            // `at` is masked to the table: the sorted form would still answer correctly.
            let Some(slot) = slots.get_mut(at) else {
                return sorted(positions, hash, key, twice);
            };
            if *slot == EMPTY {
                *slot = position(i);
                break;
            }
            let j = *slot as usize;
            if hash(j) == h && key(j) == key(i) {
                twice(Duplicate {
                    first: j,
                    second: i,
                })?;
            }
            budget = match budget.checked_sub(1) {
                Some(left) => left,
                None => return sorted(positions, hash, key, twice),
            };
            at = (at + 1) & mask;
        }
    }
    Ok(Index::Table { slots, shift })
}

/// The sorted form, for names that collide.
#[cold]
fn sorted<'t, E>(
    positions: impl Iterator<Item = usize>,
    hash: impl Fn(usize) -> u64,
    key: impl Fn(usize) -> &'t [u8],
    twice: impl Fn(Duplicate) -> Result<(), E>,
) -> Result<Index, E> {
    let mut sorted: Vec<(u64, u32)> = positions.map(|i| (hash(i), position(i))).collect();
    sorted.sort_unstable();
    // Duplicates share a hash: within each run of equal hashes, sort by (name, position) so
    // that equal names are neighbours (O(n log n) however large the run). The earliest
    // second occurrence is always a name's second position, whose neighbour before it is
    // that name's first.
    let mut found: Option<Duplicate> = None;
    for run in sorted
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
    {
        let mut positions: Vec<usize> = run.iter().map(|&(_, i)| i as usize).collect();
        // Positions are distinct, so this order is total: no stable sort needed (the wasm
        // build then links one sort, not two).
        positions.sort_unstable_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
        for w in positions.windows(2) {
            if let [first, second] = *w
                && key(first) == key(second)
                && found.is_none_or(|d| second < d.second)
            {
                found = Some(Duplicate { first, second });
            }
        }
    }
    match found {
        Some(duplicate) => twice(duplicate).map(|()| Index::Sorted(sorted)),
        None => Ok(Index::Sorted(sorted)),
    }
}

impl Index {
    /// The positions whose hash is `h`, in no particular order: the candidates for a name.
    pub(super) fn candidates(&self, h: u64) -> Candidates<'_> {
        match self {
            Index::Table { slots, shift } => Candidates::Table {
                slots,
                at: slot_of(h, *shift),
            },
            Index::Sorted(sorted) => {
                let start = sorted.partition_point(|&(hi, _)| hi < h);
                Candidates::Sorted {
                    // A partition point is at most the length: never out of range.
                    run: sorted.get(start..).unwrap_or_default(),
                    h,
                }
            }
        }
    }
}

#[allow(clippy::cast_possible_truncation)] // under 2^bits: fits any usize
fn slot_of(h: u64, shift: u32) -> usize {
    (h >> shift) as usize
}

/// A slot of the table that holds no position.
const EMPTY: u32 = u32::MAX;

/// Positions count the fields of a body of at most [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES)
/// bytes (each field at least one byte), so they fit a `u32` below [`EMPTY`]; the conversion
/// cannot fail (checked at compile time below).
fn position(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(EMPTY - 1)
}

const _: () = assert!((crate::MAX_BODY_BYTES as u64) < EMPTY as u64);

/// Positions that may hold a name (see [`Index::candidates`]): the caller compares names.
pub(super) enum Candidates<'i> {
    Table { slots: &'i [u32], at: usize },
    Sorted { run: &'i [(u64, u32)], h: u64 },
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            Candidates::Table { slots, at } => {
                let slot = *slots.get(*at)?;
                if slot == EMPTY {
                    return None;
                }
                *at = (*at + 1) & (slots.len() - 1);
                Some(slot as usize)
            }
            Candidates::Sorted { run, h } => {
                let (&(hi, i), rest) = run.split_first()?;
                if hi != *h {
                    return None;
                }
                *run = rest;
                Some(i as usize)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spans over `keys` laid end to end, with the given hashes.
    fn spans(keys: &[(u64, &str)]) -> (Vec<Span>, String) {
        let mut text = String::new();
        let spans = keys
            .iter()
            .map(|&(hash, k)| {
                let start = u32::try_from(text.len()).unwrap_or(u32::MAX);
                text.push_str(k);
                let end = u32::try_from(text.len()).unwrap_or(u32::MAX);
                Span {
                    key_start: start,
                    key_end: end,
                    value_start: end,
                    value_end: end,
                    hash,
                }
            })
            .collect();
        (spans, text)
    }

    fn build(keys: &[(u64, &str)]) -> Result<Index, Duplicate> {
        let (spans, text) = spans(keys);
        Index::build(&spans, text.as_bytes())
    }

    fn find(index: &Index, keys: &[(u64, &str)], key: &str, h: u64) -> Option<usize> {
        index
            .candidates(h)
            .find(|&i| keys.get(i).is_some_and(|&(hi, k)| hi == h && k == key))
    }

    #[test]
    fn the_earliest_second_occurrence_is_reported_in_both_forms() {
        // b (at 1 and 4) and a (at 0 and 3): a's second occurrence comes first.
        let keys = [(1, "a"), (2, "b"), (3, "c"), (1, "a"), (2, "b")];
        assert_eq!(
            build(&keys).err(),
            Some(Duplicate {
                first: 0,
                second: 3
            })
        );
        // Every name on one hash: the table gives up for the sorted form, same answer.
        let colliding: Vec<(u64, String)> = (0..100)
            .map(|i| (7, format!("k{i}")))
            .chain([(7, "k5".to_owned()), (7, "k3".to_owned())])
            .collect();
        let colliding: Vec<(u64, &str)> = colliding.iter().map(|(h, k)| (*h, k.as_str())).collect();
        assert_eq!(
            build(&colliding).err(),
            Some(Duplicate {
                first: 5,
                second: 100
            })
        );
        let few = [(7, "a"), (7, "b"), (7, "c"), (7, "b"), (7, "a")];
        assert_eq!(
            build(&few).err(),
            Some(Duplicate {
                first: 1,
                second: 3
            })
        );
    }

    #[test]
    fn colliding_names_switch_to_the_sorted_form_and_stay_found() {
        let names: Vec<String> = (0..500).map(|i| format!("k{i}")).collect();
        let keys: Vec<(u64, &str)> = names.iter().map(|n| (42, n.as_str())).collect();
        let index = build(&keys).unwrap_or_else(|d| panic!("{d:?}"));
        assert!(matches!(index, Index::Sorted(_)));
        for (i, &(h, k)) in keys.iter().enumerate() {
            assert_eq!(find(&index, &keys, k, h), Some(i));
        }
        assert_eq!(find(&index, &keys, "k500", 42), None);
        assert_eq!(find(&index, &keys, "k1", 43), None);
    }

    #[test]
    fn distinct_checks_the_positions_it_is_given() {
        let names: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        let mut keys: Vec<(u64, &str)> = names
            .iter()
            .map(|n| (super::super::hash(n), n.as_str()))
            .collect();
        keys.push((super::super::hash("k7"), "k7")); // at 200: k7 again
        let (spans, text) = spans(&keys);
        let text = text.as_bytes();
        // A few, through the filter; many, through the table.
        assert!(Index::distinct(&spans, text, &[1, 7, 9]));
        assert!(!Index::distinct(&spans, text, &[1, 7, 9, 200]));
        assert!(Index::distinct(&spans, text, &[1, 9, 200]));
        let many: Vec<u32> = (0..=200).collect();
        assert!(!Index::distinct(&spans, text, &many));
        assert!(Index::distinct(&spans, text, &many[..200]));
        // Every name on one filter bit: compared by name, still distinct.
        let same_bit: Vec<(u64, &str)> = names.iter().take(40).map(|n| (9, n.as_str())).collect();
        let (spans, text) = super::tests::spans(&same_bit);
        let all: Vec<u32> = (0..40).collect();
        assert!(Index::distinct(&spans, text.as_bytes(), &all));
        // A position past the end is not a distinct name.
        assert!(!Index::distinct(&spans, text.as_bytes(), &[0, 40]));
    }

    #[test]
    fn distinct_hashes_use_the_table() {
        let keys = [(u64::MAX, "x"), (0, "y"), (1 << 63, "z")];
        let index = build(&keys).unwrap_or_else(|d| panic!("{d:?}"));
        assert!(matches!(index, Index::Table { .. }));
        assert_eq!(find(&index, &keys, "z", 1 << 63), Some(2));
        assert_eq!(find(&index, &keys, "w", 5), None);
    }
}
