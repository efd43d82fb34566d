//! JSON read strictly: a key given twice in one object is an error naming its path, as a
//! variable given twice is in an IPN body. serde_json keeps the last copy silently; PayPal signed
//! both, and another parser would keep the first.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, FieldName};

/// Reads a JSON document whose top level is an object.
pub(super) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Strict {
        path: String::new(),
        duplicate: &duplicate,
    };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::InvalidJson { line: 1, column: 1 }),
        Err(e) => match duplicate.into_inner() {
            Some(path) => Err(Error::DuplicateJsonKey {
                field: FieldName::new(path),
            }),
            None => Err(Error::InvalidJson {
                line: e.line(),
                column: e.column(),
            }),
        },
    }
}

/// A value at `path`; records the path of the first key found twice.
struct Strict<'d> {
    path: String,
    duplicate: &'d RefCell<Option<String>>,
}

impl Strict<'_> {
    fn child(&self, name: &str) -> Self {
        let path = if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        };
        Strict {
            path,
            duplicate: self.duplicate,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child(&out.len().to_string()))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key);
            if out.contains_key(&key) {
                self.duplicate.replace(Some(child.path));
                return Err(de::Error::custom("a key given twice"));
            }
            let value = map.next_value_seed(child)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_twice_is_refused_with_its_path_at_any_depth() {
        let e = parse_object(br#"{"a":1,"a":2}"#).unwrap_err();
        assert_eq!((e.code(), e.field()), ("duplicate_key", Some("a")));
        let e = parse_object(br#"{"resource":{"amount":{"value":"1.00","value":"9.00"}}}"#)
            .unwrap_err();
        assert_eq!(e.field(), Some("resource.amount.value"));
        let e = parse_object(br#"{"links":[{"rel":"self"},{"rel":"a","rel":"b"}]}"#).unwrap_err();
        assert_eq!(e.field(), Some("links.1.rel"));
        // The same key in two objects is no duplicate.
        assert!(parse_object(br#"{"a":{"id":1},"b":{"id":1}}"#).is_ok());
    }

    #[test]
    fn what_is_not_one_json_object_is_invalid_json_with_a_position() {
        for bad in [
            &b""[..],
            b"[]",
            b"\"x\"",
            b"{",
            b"{}{}",
            b"{\"a\":1,}",
            b"{\"a\":NaN}",
            b"{\"a\":\"\xff\"}",
        ] {
            let e = parse_object(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_json", "{bad:?}");
        }
        // `1 2`: the fault is the `2`, on line 2.
        let e = parse_object(b"{\n  \"a\": 1 2\n}").unwrap_err();
        assert!(matches!(e, Error::InvalidJson { line: 2, .. }), "{e:?}");
        // Deep nesting is an error, never a stack overflow.
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_object(deep.as_bytes()).unwrap_err().code(),
            "invalid_json"
        );
    }
}
