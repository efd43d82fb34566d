//! The canonical JSON of DESIGN.md: `event`, `family`, the typed variables present (PayPal's
//! names, declaration order), the grouped lists, `notices`, then `extra`.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::Message;

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("event", &self.event)?;
        map.serialize_entry("family", &self.family)?;
        for (name, value) in self.present() {
            map.serialize_entry(name, &value)?;
        }
        if !self.options.is_empty() {
            map.serialize_entry("options", &self.options)?;
        }
        if !self.items.is_empty() {
            map.serialize_entry("items", &self.items)?;
        }
        if !self.masspay_items.is_empty() {
            map.serialize_entry("masspay_items", &self.masspay_items)?;
        }
        if !self.transactions.is_empty() {
            map.serialize_entry("transactions", &self.transactions)?;
        }
        if !self.fraud_filters.is_empty() {
            map.serialize_entry("fraud_filters", &self.fraud_filters)?;
        }
        if !self.notices.is_empty() {
            map.serialize_entry("notices", &self.notices)?;
        }
        if !self.extra.is_empty() {
            let extra: Vec<(&str, &str)> = self.extra().collect();
            map.serialize_entry("extra", &extra)?;
        }
        map.end()
    }
}

impl Message {
    /// The canonical JSON of DESIGN.md, compact. Every binding and the CLI print this.
    ///
    /// The message serializes only strings, numbers, lists and maps with string keys, which
    /// serde_json never refuses; the error is serde_json's, passed on rather than hidden.
    pub fn to_canonical_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }

    /// The canonical JSON, indented for people (and the golden files).
    pub fn to_canonical_json_pretty(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}
