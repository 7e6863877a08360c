//! One parsed document of an export, mapped while it is read.
//!
//! A `kubectl get -o yaml` List of 100 000 objects is one document: parsing it into one value
//! tree and mapping afterwards held the whole tree (several times the file) at once. Here each
//! item of a List (or of a top-level array) becomes a value, is mapped into its record and
//! dropped before the next item is read, so a document costs its records plus one object.
//! The same serde visitor serves the YAML and the JSON parser.

use super::MAX_PROBLEMS_PER_FILE;
use crate::dialect::{self, Mapped, ObjectError};
use crate::model::Record;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// What the elements of a document became, summed as they are read: a document of millions
/// of tiny elements costs counters, not one entry each.
#[derive(Debug, Default)]
pub(super) struct Objects {
    pub records: Vec<Record>,
    /// Elements read, objects or not (they number the problems).
    pub elements: usize,
    /// Kubernetes objects among them (mappings with apiVersion and kind).
    pub objects: usize,
    pub irrelevant: usize,
    /// `apiVersion/kind` of objects backupscope does not read, with counts.
    pub unknown_kinds: BTreeMap<String, usize>,
    /// The first [`MAX_PROBLEMS_PER_FILE`] problems: (element number from 1, object name or
    /// "", why in words); `problems` counts them all.
    pub first_problems: Vec<(usize, String, String)>,
    pub problems: usize,
}

/// A document, already mapped: the objects it held and what was ignored.
#[derive(Debug, Default)]
pub(super) struct Document {
    pub objects: Objects,
    /// Something in the document that was not read, said in words (a List whose `items` is
    /// not a sequence).
    pub ignored: Option<String>,
    /// The document was a List (or a sequence) of objects, even an empty one.
    pub list: bool,
}

const MAX_LABEL_CHARS: usize = 200;

impl Objects {
    fn add(&mut self, obj: Value) {
        self.elements += 1;
        let mapped = dialect::map(&obj);
        if !matches!(mapped, Err(ObjectError::NotAnObject)) {
            self.objects += 1;
        }
        match mapped {
            Ok(Mapped::Record(r)) => self.records.push(*r),
            Ok(Mapped::Irrelevant) => self.irrelevant += 1,
            Ok(Mapped::UnknownKind) => {
                let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("?");
                let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("?");
                let key: String = format!("{api}/{kind}")
                    .chars()
                    .take(MAX_LABEL_CHARS)
                    .collect();
                *self.unknown_kinds.entry(key).or_default() += 1;
            }
            Err(error) => {
                self.problems += 1;
                if self.first_problems.len() < MAX_PROBLEMS_PER_FILE {
                    let name = obj
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .map(|n| n.chars().take(100).collect())
                        .unwrap_or_default();
                    self.first_problems
                        .push((self.elements, name, problem(&error, &obj)));
                }
            }
        }
    }
}

/// Why an object was not read, with a hint where its shape tells more: an object whose
/// indentation an issue tracker stripped has its `name` at the top level.
fn problem(error: &ObjectError, obj: &Value) -> String {
    let lost = matches!(error, ObjectError::NoName { .. })
        && obj.get("name").is_some_and(|n| !n.is_object());
    if !lost {
        return error.to_string();
    }
    let moved = if obj.get("namespace").is_some() {
        "name and namespace"
    } else {
        "name"
    };
    format!("{error}: its indentation looks lost ({moved} at the top level, outside metadata)")
}

fn is_list_kind(kind: Option<&str>) -> bool {
    kind.is_some_and(|k| k.ends_with("List"))
}

/// Words for a value that should have been a sequence.
fn shape(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// The `items` of a document that may be a List: mapped one by one when it is a sequence,
/// kept as a value otherwise (it is then an ordinary field, or the List's mistake).
enum Items {
    Mapped(Objects),
    Other(Value),
}

struct ItemsVisitor;

impl<'de> Visitor<'de> for ItemsVisitor {
    type Value = Items;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the items of a List")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
        let mut objects = Objects::default();
        while let Some(item) = seq.next_element::<Value>()? {
            objects.add(item);
        }
        Ok(Items::Mapped(objects))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Items, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Items::Other)
    }

    fn visit_unit<E>(self) -> Result<Items, E> {
        Ok(Items::Other(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Items, E> {
        Ok(Items::Other(Value::Null))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Items, E> {
        Ok(Items::Other(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Items, E> {
        Ok(Items::Other(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Items, E> {
        Ok(Items::Other(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Items, E> {
        Ok(Items::Other(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Items, E> {
        Ok(Items::Other(Value::String(v.into())))
    }
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemsVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object, a List of them or a sequence of them")
    }

    /// A sequence of objects (`[{...}, {...}]` or a YAML sequence), as kubectl accepts.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Document, A::Error> {
        match ItemsVisitor.visit_seq(seq)? {
            Items::Mapped(objects) => Ok(Document {
                objects,
                ignored: None,
                list: true,
            }),
            Items::Other(_) => Ok(Document::default()),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut fields = Map::new();
        let mut items = None;
        while let Some(key) = map.next_key::<String>()? {
            // kubectl writes keys sorted, so `items` comes before `kind`: a sequence of items
            // is mapped as it is read unless the kind, already known, says this is no List.
            let kind_says_object = fields
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| !k.ends_with("List"));
            if key == "items" && !kind_says_object {
                items = Some(map.next_value::<Items>()?);
            } else {
                let value = map.next_value::<Value>()?;
                fields.insert(key, value);
            }
        }
        let kind = fields.get("kind").and_then(Value::as_str);
        Ok(match items {
            // Like kubectl (apimachinery decodes any object with `items` as a list), a
            // sequence of items is read whatever the kind.
            Some(Items::Mapped(objects)) => Document {
                objects,
                ignored: None,
                list: true,
            },
            Some(Items::Other(v)) if is_list_kind(kind) => Document {
                objects: Objects::default(),
                ignored: Some(format!(
                    "a {} whose `items` is {}, not a sequence of objects: its content was \
                     ignored",
                    kind.unwrap_or("List"),
                    shape(&v)
                )),
                list: true,
            },
            Some(Items::Other(v)) => {
                fields.insert("items".into(), v);
                single(Value::Object(fields))
            }
            None => single(Value::Object(fields)),
        })
    }

    fn visit_unit<E>(self) -> Result<Document, E> {
        Ok(Document::default())
    }

    fn visit_none<E>(self) -> Result<Document, E> {
        Ok(Document::default())
    }

    fn visit_bool<E>(self, v: bool) -> Result<Document, E> {
        Ok(single(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Document, E> {
        Ok(single(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Document, E> {
        Ok(single(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Document, E> {
        Ok(single(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Document, E> {
        Ok(single(Value::String(v.into())))
    }
}

fn single(v: Value) -> Document {
    let mut objects = Objects::default();
    objects.add(v);
    Document {
        objects,
        ignored: None,
        list: false,
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocumentVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Document {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn list_items_are_mapped_one_by_one_whatever_the_key_order() {
        let backup = r#"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"b","namespace":"velero"}}"#;
        for text in [
            format!(r#"{{"apiVersion":"v1","items":[{backup},{backup}],"kind":"List"}}"#),
            format!(r#"{{"kind":"BackupList","items":[{backup},{backup}]}}"#),
            format!("[{backup},{backup}]"),
        ] {
            let d = doc(&text);
            assert_eq!(
                (d.objects.elements, d.objects.records.len()),
                (2, 2),
                "{text}: {:?}",
                d.objects
            );
        }
    }

    #[test]
    fn a_list_whose_items_is_no_sequence_says_what_was_ignored() {
        for (items, shape) in [
            (
                r#"{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":"b"}}"#,
                "a mapping",
            ),
            (r#""text""#, "a string"),
            ("null", "null"),
        ] {
            let d = doc(&format!(
                r#"{{"apiVersion":"v1","items":{items},"kind":"List"}}"#
            ));
            assert_eq!(d.objects.elements, 0);
            assert_eq!(
                d.ignored.as_deref(),
                Some(
                    format!(
                        "a List whose `items` is {shape}, not a sequence of objects: its \
                         content was ignored"
                    )
                    .as_str()
                )
            );
        }
    }

    #[test]
    fn an_object_with_an_items_field_stays_one_object() {
        let d = doc(
            r#"{"apiVersion":"v1","kind":"ConfigMap","items":{"a":1},"metadata":{"name":"c"}}"#,
        );
        assert!(d.ignored.is_none());
        assert_eq!(d.objects.elements, 1);
        assert_eq!(d.objects.unknown_kinds.get("v1/ConfigMap"), Some(&1));
    }
}
