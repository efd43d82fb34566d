//! Conversions between PHP values and the core's: the raw body argument, plain data (PHP
//! arrays) for the configuration and the expected order, and the core's serialized outputs as
//! PHP arrays.

use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::FromZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ArrayKey, ZendHashTable, Zval};
use ipnkit::host::Plain;

use crate::errors::{bug, type_error};

/// The raw body argument: a PHP string of any bytes, borrowed for the call. Anything else is
/// kept as its type so that the function can say what to pass instead (the arginfo says
/// `string`).
pub enum Raw<'a> {
    /// The bytes.
    Bytes(&'a [u8]),
    /// An array: `$_POST`, `$request->all()`, decoded and re-encoded already.
    Array,
    /// Anything else.
    Other(DataType),
}

impl<'a> FromZval<'a> for Raw<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        Some(match zval.zend_str() {
            Some(text) => Raw::Bytes(text.as_bytes()),
            None if zval.is_array() => Raw::Array,
            None => Raw::Other(zval.get_type()),
        })
    }
}

impl<'a> Raw<'a> {
    /// The bytes, or the `\TypeError` that says to pass the raw body.
    pub(crate) fn bytes(&self, function: &str) -> PhpResult<&'a [u8]> {
        match self {
            Raw::Bytes(bytes) => Ok(bytes),
            Raw::Array => Err(type_error(format!(
                "{function}(): the raw body must be a string, not an array: pass \
                 file_get_contents('php://input'), never $_POST or a framework's parsed input \
                 (PHP has decoded it: the postback would not be PayPal's bytes, and \
                 transaction[0].id becomes a nested array)"
            ))),
            Raw::Other(ty) => Err(type_error(format!(
                "{function}(): the raw body must be a string, {ty} given: pass \
                 file_get_contents('php://input')"
            ))),
        }
    }
}

/// Plain data from a PHP value: an array whose keys are 0, 1, 2… in order is a list, any other
/// array a map (integer keys as their decimal text), `[]` an empty list (the core reads it as
/// an empty map where a map belongs). Objects and strings that are not UTF-8 are not plain
/// data: the core refuses them as `wrong_type` at their path.
pub(crate) fn plain(value: &Zval) -> Plain {
    if value.is_null() {
        Plain::Null
    } else if let Some(flag) = value.bool() {
        Plain::Bool(flag)
    } else if let Some(n) = value.long() {
        Plain::Int(n.into())
    } else if let Some(x) = value.double() {
        Plain::Float(x)
    } else if let Some(text) = value.zend_str() {
        match text.as_str() {
            Ok(text) => Plain::Text(text.to_owned()),
            Err(_) => Plain::NotPlain,
        }
    } else if let Some(array) = value.array() {
        if array.has_sequential_keys() {
            Plain::List(array.values().map(plain).collect())
        } else {
            let entries = array.iter().map(|(key, value)| {
                let key = match key {
                    ArrayKey::Long(n) => n.to_string(),
                    ArrayKey::String(s) => s,
                    ArrayKey::Str(s) => s.to_owned(),
                    ArrayKey::ZendString(s) => s.as_str().ok()?.to_owned(),
                };
                Some((key, plain(value)))
            });
            // A key that is not UTF-8 makes the whole map something other than plain data.
            entries
                .collect::<Option<_>>()
                .map_or(Plain::NotPlain, Plain::Map)
        }
    } else {
        Plain::NotPlain
    }
}

/// A PHP value from the core's serialized output: maps become arrays with string keys in
/// order, lists become lists. Numbers are whole in every output of the core (counts, indexes);
/// one beyond PHP's integers would be a bug, reported as an `\Error`.
pub(crate) fn php(value: &serde_json::Value) -> PhpResult<Zval> {
    use serde_json::Value;
    let mut zval = Zval::new();
    match value {
        Value::Null => {}
        Value::Bool(flag) => zval.set_bool(*flag),
        Value::Number(n) => match n.as_i64() {
            Some(n) => zval.set_long(n),
            None => return Err(bug("a number outside PHP's integers in the core's output")),
        },
        Value::String(text) => zval.set_string(text, false)?,
        Value::Array(_) | Value::Object(_) => zval.set_hashtable(array(value)?),
    }
    Ok(zval)
}

/// A list or a map of the core's output as a PHP array.
pub(crate) fn array(value: &serde_json::Value) -> PhpResult<ZBox<ZendHashTable>> {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            let mut array = ZendHashTable::with_capacity(len(items.len()));
            for item in items {
                array.push(php(item)?)?;
            }
            Ok(array)
        }
        Value::Object(map) => {
            let mut array = ZendHashTable::with_capacity(len(map.len()));
            for (key, item) in map {
                array.insert(key.as_str(), php(item)?)?;
            }
            Ok(array)
        }
        _ => Err(bug("an output that is not a list or a map")),
    }
}

fn len(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The core's serialized output of a value that serializes as a list or a map, as a PHP array.
pub(crate) fn array_of<T: serde::Serialize>(value: &T) -> PhpResult<ZBox<ZendHashTable>> {
    let value = serde_json::to_value(value).map_err(|e| bug(&e.to_string()))?;
    array(&value)
}

/// A PHP string holding any bytes.
pub(crate) fn bytes(data: &[u8]) -> Binary<u8> {
    Binary::from(data.to_vec())
}
