//! Lenient field access on raw objects, in the spirit of kubectl: a missing field or one of the
//! wrong type reads as empty, never as an error, so one odd object cannot hide the others.

use crate::model::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;

/// The value at a path of object keys, if every step exists.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, key| v.get(key))
}

/// A string field; numbers and booleans are rendered the way YAML would read them back.
pub fn string(v: &Value, path: &[&str]) -> String {
    match at(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// A boolean field; accepts `true`/`false` also as strings (hand-written YAML often quotes).
pub fn boolean(v: &Value, path: &[&str]) -> Option<bool> {
    match at(v, path)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A non-negative count; a negative, fractional or non-numeric value reads as absent.
pub fn count(v: &Value, path: &[&str]) -> Option<u64> {
    match at(v, path)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A signed integer (exit codes).
pub fn integer(v: &Value, path: &[&str]) -> Option<i64> {
    match at(v, path)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An RFC 3339 timestamp; anything unparseable reads as absent.
pub fn time(v: &Value, path: &[&str]) -> Option<Timestamp> {
    match at(v, path)? {
        Value::String(s) if s.len() <= 64 => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list of strings; non-string items are skipped.
pub fn strings(v: &Value, path: &[&str]) -> Vec<String> {
    match at(v, path) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A string map (labels, annotations, selectors); non-string values are skipped.
pub fn string_map(v: &Value, path: &[&str]) -> BTreeMap<String, String> {
    match at(v, path) {
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

pub fn name(v: &Value) -> String {
    string(v, &["metadata", "name"])
}

pub fn namespace(v: &Value) -> String {
    string(v, &["metadata", "namespace"])
}

pub fn created(v: &Value) -> Option<Timestamp> {
    time(v, &["metadata", "creationTimestamp"])
}

pub fn label(v: &Value, key: &str) -> String {
    string(v, &["metadata", "labels", key])
}

pub fn annotation(v: &Value, key: &str) -> String {
    string(v, &["metadata", "annotations", key])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_read_as_empty() {
        let v = json!({"spec": {"a": 5, "b": ["x", 1], "c": {"k": "v", "n": 1}, "d": "yes",
                       "e": -3, "t": "not a time", "u": "2026-11-25T09:00:00Z"}});
        assert_eq!(string(&v, &["spec", "a"]), "5");
        assert_eq!(string(&v, &["spec", "b"]), "");
        assert_eq!(string(&v, &["spec", "missing", "deeper"]), "");
        assert_eq!(strings(&v, &["spec", "b"]), vec!["x"]);
        assert_eq!(string_map(&v, &["spec", "c"]).len(), 1);
        assert_eq!(boolean(&v, &["spec", "d"]), Some(true));
        assert_eq!(count(&v, &["spec", "e"]), None);
        assert_eq!(integer(&v, &["spec", "e"]), Some(-3));
        assert_eq!(time(&v, &["spec", "t"]), None);
        assert!(time(&v, &["spec", "u"]).is_some());
        assert_eq!(string(&json!("scalar"), &["spec"]), "");
    }
}
