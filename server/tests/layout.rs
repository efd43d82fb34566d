//! The server's house rules, checked on its own sources: one module per step, no module
//! importing one that imports it (directly or around a loop), and no file that grows past
//! about 600 lines (a sign it does more than one job). Tests are counted apart.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The longest a source file may be, in lines of code (tests and comments aside).
const MAX_LINES: usize = 600;

/// Files allowed more, each doing one job that does not split well: the PostgreSQL engine is
/// one `Store` implementation, statement by statement.
const LONGER: &[(&str, usize)] = &[("store/postgres.rs", 700)];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `listener::settle` for `src/listener/settle.rs`, `listener` for `src/listener/mod.rs`, ``
/// for `src/lib.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod" && p != "lib")
        .collect();
    parts.join("::")
}

/// The code of a file without its `#[cfg(test)]` module (the rest of the file from there) and
/// without comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a file's code names: `crate::a::b`, `super::x`, and a child `c::` of its own.
fn references(module: &str, code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let parent = |m: &str| {
        m.rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_owned())
    };
    let mut found = BTreeSet::new();
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.contains("::"))
        .collect();
    for word in words {
        let mut steps = word.split("::").filter(|s| !s.is_empty()).peekable();
        let mut path = match steps.peek().copied() {
            Some("crate") => {
                steps.next();
                String::new()
            }
            Some("super") => {
                steps.next();
                parent(module)
            }
            Some("self") => {
                steps.next();
                module.to_owned()
            }
            Some(first) if modules.contains(&join(module, first)) => module.to_owned(),
            _ => continue,
        };
        // The longest module the path names.
        let mut named = None;
        for step in steps {
            let next = join(&path, step);
            if !modules.contains(&next) {
                break;
            }
            path = next;
            named = Some(path.clone());
        }
        if let Some(named) = named.or_else(|| (!path.is_empty()).then(|| path.clone()))
            && named != module
        {
            found.insert(named);
        }
    }
    found
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}::{b}")
    }
}

#[test]
fn no_module_imports_one_that_imports_it_and_no_file_does_two_jobs() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut long = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let code = code(&fs::read_to_string(file).unwrap());
        let lines = code.lines().count();
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let max = LONGER
            .iter()
            .find(|(name, _)| *name == rel)
            .map_or(MAX_LINES, |(_, max)| *max);
        if lines > max {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
        // lib.rs names every module: it is the root, not a step.
        if !module.is_empty() {
            graph.insert(module.clone(), references(&module, &code, &modules));
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
    // Every loop in the graph: a module reaching itself.
    let mut loops = Vec::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in graph.get(&at).into_iter().flatten() {
                if next == start {
                    loops.push(path.join(" -> ") + " -> " + start);
                } else if graph.contains_key(next) && seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(
        loops.is_empty(),
        "modules that import each other: {loops:#?}"
    );
    // The check sees what it should: the listener's steps are there, and settle uses postback.
    for step in [
        "listener::intake",
        "listener::postback",
        "listener::settle",
        "listener::outbox",
        "listener::metrics",
        "store",
        "sandbox::faults",
        "sandbox::express",
    ] {
        assert!(modules.contains(step), "{step} is not a module");
    }
    assert!(graph["listener::settle"].contains("listener::postback"));
}
