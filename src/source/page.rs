//! One page of a list response, decoded object by object.
//!
//! kube's `client.request::<ObjectList<Value>>` collects a page's body, copies it into a
//! String, and decodes every object of the page before the first can be mapped; the list path
//! then mapped them and freed them all together. At 100 000 objects that made glibc's
//! allocator the largest cost of an initial list (about 45 % of its CPU, `malloc_consolidate`
//! included). Here each object is decoded, handed over and dropped before the next one is
//! read, so the same few blocks are reused throughout; `managedFields` are skipped unparsed.
//!
//! What is accepted is what `ObjectList<Value>` accepted (tests below compare the two): any
//! JSON value as an item (the caller skips what it cannot read), `items` null or an array,
//! `metadata` absent or a ListMeta.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Decodes a list response body, calling `object` for each item as soon as it is decoded;
/// returns the list's metadata (continue token, resourceVersion).
///
/// On an error some objects may already have been handed over: the caller must discard what
/// it got from a page that fails.
pub(super) fn decode(
    body: &[u8],
    object: &mut impl FnMut(Value),
) -> Result<ListMeta, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let meta = PageSeed { object }.deserialize(&mut de)?;
    de.end()?;
    Ok(meta)
}

/// The page: its `metadata`, its `items`; every other key (`kind`, `apiVersion`) is skipped.
struct PageSeed<'a, F> {
    object: &'a mut F,
}

impl<'de, F: FnMut(Value)> DeserializeSeed<'de> for PageSeed<'_, F> {
    type Value = ListMeta;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ListMeta, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Value)> Visitor<'de> for PageSeed<'_, F> {
    type Value = ListMeta;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes list (an object with items)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListMeta, A::Error> {
        let mut meta = None;
        let mut items = false;
        while let Some(key) = map.next_key::<PageKey>()? {
            match key {
                PageKey::Metadata => {
                    meta = Some(map.next_value::<ListMeta>()?);
                }
                PageKey::Items => {
                    map.next_value_seed(ItemsSeed {
                        object: &mut *self.object,
                    })?;
                    items = true;
                }
                PageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // A body without items is not a list (a Status, a proxy's `{}`): reading it as an
        // empty one would remove every object the inventory holds for the target.
        if !items {
            return Err(de::Error::missing_field("items"));
        }
        Ok(meta.unwrap_or_default())
    }
}

/// The keys of a page that matter, compared without allocating.
enum PageKey {
    Metadata,
    Items,
    Other,
}

impl<'de> serde::Deserialize<'de> for PageKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(PageKeyVisitor)
    }
}

struct PageKeyVisitor;

impl Visitor<'_> for PageKeyVisitor {
    type Value = PageKey;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<PageKey, E> {
        Ok(match key {
            "metadata" => PageKey::Metadata,
            "items" => PageKey::Items,
            _ => PageKey::Other,
        })
    }
}

/// `items`: null, or an array whose elements go to the callback one at a time.
struct ItemsSeed<'a, F> {
    object: &'a mut F,
}

impl<'de, F: FnMut(Value)> DeserializeSeed<'de> for ItemsSeed<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, F: FnMut(Value)> Visitor<'de> for ItemsSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects, or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element_seed(ITEM)? {
            (self.object)(item);
        }
        Ok(())
    }
}

/// A JSON value as `Value` builds it, except that in an object the member at this path is
/// skipped unparsed: items are read with `metadata.managedFields` left out, which nothing
/// reads and which on a real cluster is often the larger part of an object.
struct Pruned(&'static [&'static str]);

const ITEM: Pruned = Pruned(&["metadata", "managedFields"]);

impl<'de> DeserializeSeed<'de> for Pruned {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.0 {
                [last] if key == *last => {
                    map.next_value::<IgnoredAny>()?;
                }
                [first, rest @ ..] if key == *first => {
                    let value = map.next_value_seed(Pruned(rest))?;
                    out.insert(key, value);
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    out.insert(key, value);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        serde::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::ObjectList;
    use serde_json::json;

    /// What `decode` makes of a body: the items and the list metadata, or that it failed.
    fn decoded(body: &[u8]) -> Option<(Vec<Value>, Option<String>, Option<String>)> {
        let mut items = Vec::new();
        let meta = decode(body, &mut |o| items.push(o)).ok()?;
        Some((items, meta.continue_, meta.resource_version))
    }

    /// What kube's `ObjectList<Value>` (the decoder this one replaced) made of it, with
    /// managedFields removed as the list path removed them afterwards.
    fn reference(body: &[u8]) -> Option<(Vec<Value>, Option<String>, Option<String>)> {
        let list: ObjectList<Value> = serde_json::from_slice(body).ok()?;
        let items = list
            .items
            .into_iter()
            .map(|mut o| {
                if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("managedFields");
                }
                o
            })
            .collect();
        Some((
            items,
            list.metadata.continue_,
            list.metadata.resource_version,
        ))
    }

    #[test]
    fn accepts_and_rejects_what_object_list_did() {
        let accepted = [
            r#"{"kind":"BackupList","apiVersion":"velero.io/v1","metadata":{"resourceVersion":"7","continue":"c1"},"items":[{"metadata":{"name":"a","namespace":"velero"}}]}"#,
            // Metadata after the items, no type fields, no metadata, null items.
            r#"{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}],"metadata":{"resourceVersion":"9"}}"#,
            r#"{"items":[]}"#,
            r#"{"items":null}"#,
            // Malformed items are the caller's to skip, never the page's to fail.
            r#"{"metadata":{"resourceVersion":"1"},"items":[1,"x",null,true,[1,{"a":2}],{},{"metadata":"oops"},{"metadata":[1]},{"metadata":{"name":{"deep":[]}}},-1.5e300]}"#,
            // Duplicate keys: the last wins, as in `Value`.
            r#"{"items":[{"metadata":{"name":"a","name":"b"},"spec":1,"spec":2}]}"#,
            r#"{"items":[{"metadata":{"name":"a","managedFields":[{"manager":"kubectl","fieldsV1":{"f:spec":{}}}],"uid":"u"}}]}"#,
            r#"{"items":[{"spec":{"metadata":{"managedFields":"kept: not an object's metadata"}}}]}"#,
        ];
        // Not a list, items not an array, a bad ListMeta, broken JSON.
        let rejected = [
            r#"{}"#,
            r#"{"metadata":{"resourceVersion":"1"}}"#,
            r#"{"kind":"Status","status":"Failure","code":500}"#,
            r#"{"items":{"a":1}}"#,
            r#"{"items":"nope"}"#,
            r#"{"metadata":{"resourceVersion":5},"items":[]}"#,
            r#"{"metadata":"x","items":[]}"#,
            r#"{"metadata":null,"items":[]}"#,
            r#"[]"#,
            r#"null"#,
            r#""#,
            r#"{"items":[{"metadata":{"name":"a"}}"#,
            r#"{"items":[{"metadata":{"name":"a"}}]} trailing"#,
            r#"{"items":[{"metadata":{"name":"a\ud800"}}]}"#,
        ];
        let differ: Vec<_> = accepted
            .iter()
            .filter(|b| {
                decoded(b.as_bytes()).is_none() || decoded(b.as_bytes()) != reference(b.as_bytes())
            })
            .chain(
                rejected.iter().filter(|b| {
                    decoded(b.as_bytes()).is_some() || reference(b.as_bytes()).is_some()
                }),
            )
            .collect();
        assert!(
            differ.is_empty(),
            "decoded otherwise than before: {differ:#?}"
        );
    }

    #[test]
    fn invalid_utf8_and_deep_nesting_fail_the_page_without_a_panic() {
        let mut body = br#"{"items":[{"metadata":{"name":"a"#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(br#""}}]}"#);
        assert!(decoded(&body).is_none());
        let deep = format!(
            r#"{{"items":[{}{}]}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(decoded(deep.as_bytes()).is_none());
        assert!(reference(deep.as_bytes()).is_none());
    }

    /// Random damage to a valid page (a byte replaced by one that matters to JSON, or the
    /// body cut short) is accepted or refused exactly as before, with the same objects.
    #[test]
    fn damaged_pages_decode_as_before() {
        let page = json!({"kind": "BackupList", "apiVersion": "velero.io/v1",
        "metadata": {"resourceVersion": "12", "continue": "abc"},
        "items": [
            {"metadata": {"name": "a", "namespace": "velero", "labels": {"k": "v"},
                          "managedFields": [{"manager": "m"}]},
             "spec": {"ttl": "720h", "includedNamespaces": ["x", "y"]},
             "status": {"phase": "Failed", "errors": 3, "progress": {"n": 1.5}}},
            {"metadata": {"name": "b", "namespace": "velero"}, "status": null}
        ]})
        .to_string()
        .into_bytes();
        let specials = b"{}[]:,\"0-e.ntfu \\";
        // A fixed linear congruential sequence: the same cases on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as usize % bound
        };
        let mut differ = Vec::new();
        let mut accepted = 0;
        for round in 0..3000 {
            let mut body = page.clone();
            if round % 10 == 0 {
                body.truncate(next(page.len()));
            } else {
                for _ in 0..1 + next(3) {
                    let at = next(body.len());
                    body[at] = specials[next(specials.len())];
                }
            }
            let got = decoded(&body);
            accepted += usize::from(got.is_some());
            if got != reference(&body) {
                differ.push(String::from_utf8_lossy(&body).into_owned());
            }
        }
        assert!(
            differ.is_empty(),
            "decoded otherwise than before: {differ:#?}"
        );
        // Damage inside strings keeps a page valid: both outcomes are exercised.
        assert!(
            (300..2700).contains(&accepted),
            "{accepted} of 3000 accepted"
        );
    }

    #[test]
    fn a_huge_page_is_handed_over_object_by_object() {
        let item = |i: usize| {
            json!({"apiVersion": "velero.io/v1", "kind": "Backup",
                   "metadata": {"name": format!("b-{i}"), "namespace": "velero",
                                "managedFields": [{"manager": "velero", "fieldsV1": {"f:status": {}}}]},
                   "status": {"phase": "Completed", "big": "x".repeat(i % 5000)}})
        };
        let body = json!({"metadata": {"resourceVersion": "42", "continue": "next"},
                          "items": (0..20_000).map(item).collect::<Vec<_>>()})
        .to_string();
        let mut names = Vec::new();
        let meta = decode(body.as_bytes(), &mut |o| {
            assert!(o["metadata"].get("managedFields").is_none());
            names.push(o["metadata"]["name"].as_str().unwrap_or("").to_string());
        })
        .expect("a valid page");
        assert_eq!(names.len(), 20_000);
        assert_eq!(names[19_999], "b-19999");
        assert_eq!(meta.resource_version.as_deref(), Some("42"));
        assert_eq!(meta.continue_.as_deref(), Some("next"));
        assert_eq!(decoded(body.as_bytes()), reference(body.as_bytes()));
    }
}
