//! Plain data as hosts hold it, and the one reader of a configuration and an expected order.
//!
//! A binding converts its host's values into [`Plain`] without deciding anything (a Python
//! dict, a JavaScript object, a PHP array become a [`Plain::Map`]…), or hands the core a serde
//! [`Deserializer`](serde::Deserializer), which becomes a [`Plain`] the same way; the core then
//! reads the keys it knows, with errors that name the key and never the value. Neither serde's
//! derive nor its messages decide anything here, so every host (and the wasm module, which
//! links no deserializer at all) gets the same answers.

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, FieldName, Problem};

/// Plain data: what a host's configuration and expected order are made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    /// `None`, `null`, `undefined`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number (wide enough for any host's integers).
    Int(i128),
    /// Any other number (a fraction, an exponent, beyond the integers).
    Float(f64),
    /// A string.
    Text(String),
    /// A list.
    List(Vec<Plain>),
    /// A map with string keys, in the host's order; a key given twice stays twice (the reader
    /// refuses it).
    Map(Vec<(String, Plain)>),
    /// A host value that is not plain data (an object, a byte string that is not UTF-8): the
    /// reader refuses it as [`Error::WrongType`] at its path, as it does any value of the wrong
    /// type, so a binding converts without deciding.
    NotPlain,
}

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Plain, D::Error> {
        d.deserialize_any(PlainVisitor)
    }
}

struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = Plain;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("plain data")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Plain, E> {
        Ok(Plain::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Plain, E> {
        Ok(Plain::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Plain, E> {
        Ok(Plain::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Plain, E> {
        Ok(Plain::Int(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Plain, E> {
        Ok(Plain::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Plain, E> {
        Ok(Plain::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Plain, E> {
        Ok(Plain::Text(v))
    }

    fn visit_unit<E>(self) -> Result<Plain, E> {
        Ok(Plain::Null)
    }

    fn visit_none<E>(self) -> Result<Plain, E> {
        Ok(Plain::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Plain, D::Error> {
        Plain::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Plain, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Plain::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Plain, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Plain>()? {
            entries.push(entry);
        }
        Ok(Plain::Map(entries))
    }
}

/// `path.key`, or `key` at the top.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn wrong(field: &str) -> Error {
    Error::WrongType {
        field: FieldName::new(field),
    }
}

pub(super) fn invalid(field: &str, problem: Problem) -> Error {
    Error::InvalidConfiguration {
        field: FieldName::new(field),
        problem,
    }
}

/// The values of a map's `names`, read at `path` (`""` at the top, where a wrong type is
/// reported as `"."`): a key that is not one of `names`, or one given twice, is refused.
pub(super) fn entries<'p, const N: usize>(
    value: &'p Plain,
    path: &str,
    names: [&str; N],
) -> Result<[Option<&'p Plain>; N], Error> {
    let map = match value {
        Plain::Map(map) => map.as_slice(),
        // A host whose empty collection is both a list and a map (PHP's `[]`) passes a list.
        Plain::List(items) if items.is_empty() => &[],
        _ => return Err(wrong(if path.is_empty() { "." } else { path })),
    };
    let mut found = [None; N];
    for (key, value) in map {
        let slot = names
            .iter()
            .position(|name| name == key)
            .and_then(|i| found.get_mut(i))
            .ok_or_else(|| invalid(&join(path, key), Problem::UnknownKey))?;
        if slot.replace(value).is_some() {
            return Err(invalid(&join(path, key), Problem::InvalidValue));
        }
    }
    Ok(found)
}

/// A string; absent or null is `None` (an optional key).
pub(super) fn optional_text<'p>(
    value: Option<&'p Plain>,
    field: &str,
) -> Result<Option<&'p str>, Error> {
    match value {
        None | Some(Plain::Null) => Ok(None),
        Some(Plain::Text(text)) => Ok(Some(text)),
        Some(_) => Err(wrong(field)),
    }
}

/// A list of strings; absent is `None`, and so is null when `null_is_absent`.
pub(super) fn texts<'p>(
    value: Option<&'p Plain>,
    field: &str,
    null_is_absent: bool,
) -> Result<Option<Vec<&'p str>>, Error> {
    match value {
        None => Ok(None),
        Some(Plain::Null) if null_is_absent => Ok(None),
        Some(Plain::List(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Plain::Text(text) => Ok(text.as_str()),
                _ => Err(wrong(&format!("{field}[{i}]"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(wrong(field)),
    }
}

/// A whole number; absent or null is `None`.
pub(super) fn optional_int(value: Option<&Plain>, field: &str) -> Result<Option<i128>, Error> {
    match value {
        None | Some(Plain::Null) => Ok(None),
        Some(Plain::Int(n)) => Ok(Some(*n)),
        Some(_) => Err(wrong(field)),
    }
}

/// A boolean; absent is `false`.
pub(super) fn flag(value: Option<&Plain>, field: &str) -> Result<bool, Error> {
    match value {
        None => Ok(false),
        Some(Plain::Bool(b)) => Ok(*b),
        Some(_) => Err(wrong(field)),
    }
}

/// Plain data from any serde [`Deserializer`](de::Deserializer) (a Python value, a JavaScript
/// value, JSON): what cannot be plain data (bytes, a map with keys that are not strings) is
/// [`Error::WrongType`] at its path.
pub(super) fn from_data<'de, D: de::Deserializer<'de>>(data: D) -> Result<Plain, Error> {
    serde_path_to_error::deserialize(data).map_err(|e| wrong(&e.path().to_string()))
}

/// Plain data from JSON text: text that is not one JSON value is
/// [`Error::InvalidConfiguration`] of `"."`.
pub(super) fn from_json(text: &str) -> Result<Plain, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if e.inner().is_data() {
            wrong(&e.path().to_string())
        } else {
            invalid(".", Problem::InvalidValue)
        }
    })?;
    de.end().map_err(|_| invalid(".", Problem::InvalidValue))?;
    Ok(value)
}
