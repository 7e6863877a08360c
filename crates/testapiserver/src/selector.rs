//! Label and field selectors, parsed from the query string and matched against JSON objects.

use serde_json::Value;

/// One label requirement, as `labels.Parse` in apimachinery understands it.
#[derive(Debug, Clone, PartialEq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed `labelSelector`; all requirements must hold. Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LabelSelector {
    requirements: Vec<LabelRequirement>,
}

impl LabelSelector {
    pub(crate) fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_top_level(input) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            requirements.push(parse_label_requirement(term)?);
        }
        Ok(Self { requirements })
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        if self.requirements.is_empty() {
            return true;
        }
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let get = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => get(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelRequirement::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelRequirement::Exists(k) => get(k).is_some(),
            LabelRequirement::DoesNotExist(k) => get(k).is_none(),
            LabelRequirement::GreaterThan(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            LabelRequirement::LessThan(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

/// Splits on commas that are not inside a `( ... )` value set.
fn split_top_level(input: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_label_requirement(term: &str) -> Result<LabelRequirement, String> {
    if let Some(key) = term.strip_prefix('!') {
        return Ok(LabelRequirement::DoesNotExist(label_key(key, term)?));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(LabelRequirement::NotEquals(
            label_key(k, term)?,
            label_value(v, term)?,
        ));
    }
    if let Some((k, v)) = term.split_once("==") {
        return Ok(LabelRequirement::Equals(
            label_key(k, term)?,
            label_value(v, term)?,
        ));
    }
    if let Some((k, v)) = term.split_once('=') {
        return Ok(LabelRequirement::Equals(
            label_key(k, term)?,
            label_value(v, term)?,
        ));
    }
    if let Some(open) = term.find('(') {
        let head = term[..open].trim();
        let Some(body) = term[open + 1..].trim_end().strip_suffix(')') else {
            return Err(format!("unable to parse requirement {term:?}: missing ')'"));
        };
        let values: Vec<String> = body
            .split(',')
            .map(|v| label_value(v, term))
            .collect::<Result<_, _>>()?;
        let (key, op) = head
            .rsplit_once(char::is_whitespace)
            .ok_or_else(|| format!("unable to parse requirement {term:?}: expected in/notin"))?;
        let key = label_key(key, term)?;
        return match op {
            "in" => Ok(LabelRequirement::In(key, values)),
            "notin" => Ok(LabelRequirement::NotIn(key, values)),
            other => Err(format!(
                "unable to parse requirement {term:?}: unknown operator {other:?}"
            )),
        };
    }
    for (op, gt) in [('>', true), ('<', false)] {
        if let Some((k, v)) = term.split_once(op) {
            let key = label_key(k, term)?;
            let n = v
                .trim()
                .parse::<i64>()
                .map_err(|e| format!("unable to parse requirement {term:?}: {e}"))?;
            return Ok(if gt {
                LabelRequirement::GreaterThan(key, n)
            } else {
                LabelRequirement::LessThan(key, n)
            });
        }
    }
    Ok(LabelRequirement::Exists(label_key(term, term)?))
}

fn label_key(key: &str, term: &str) -> Result<String, String> {
    let key = key.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(format!(
            "unable to parse requirement {term:?}: invalid label key {key:?}"
        ));
    }
    Ok(key.to_string())
}

fn label_value(value: &str, term: &str) -> Result<String, String> {
    let value = value.trim();
    if value.contains(char::is_whitespace) || value.contains(['(', ')', '=', '!']) {
        return Err(format!(
            "unable to parse requirement {term:?}: invalid label value {value:?}"
        ));
    }
    Ok(value.to_string())
}

/// One field requirement: a dotted path into the object compared with a value.
#[derive(Debug, Clone, PartialEq)]
struct FieldRequirement {
    path: Vec<String>,
    value: String,
    equal: bool,
}

/// A parsed `fieldSelector`; all requirements must hold. Empty matches everything.
///
/// Any dotted path is accepted (the real apiserver only allows a per-type set), and a
/// missing field compares as the empty string.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    pub(crate) fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_unescaped_commas(input) {
            if term.trim().is_empty() {
                continue;
            }
            requirements.push(parse_field_requirement(&term)?);
        }
        Ok(Self { requirements })
    }

    /// A selector for one object name, used when a watch names the object in its path.
    pub(crate) fn name(name: &str) -> Self {
        Self {
            requirements: vec![FieldRequirement {
                path: vec!["metadata".into(), "name".into()],
                value: name.to_string(),
                equal: true,
            }],
        }
    }

    pub(crate) fn and(mut self, other: Self) -> Self {
        self.requirements.extend(other.requirements);
        self
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let mut cur = Some(obj);
            for seg in &r.path {
                cur = cur.and_then(|v| v.get(seg));
            }
            let actual = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == r.value) == r.equal
        })
    }
}

/// Splits on commas not escaped with a backslash, removing the escapes as apimachinery does.
fn split_unescaped_commas(input: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push('\\');
                if let Some(next) = chars.next() {
                    cur.push(next);
                }
            }
            ',' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

fn parse_field_requirement(term: &str) -> Result<FieldRequirement, String> {
    // Find the first unescaped operator; values may contain escaped '=' and '!'.
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                return field_requirement(&term[..i], &term[i + 2..], false, term);
            }
            b'=' if bytes.get(i + 1) == Some(&b'=') => {
                return field_requirement(&term[..i], &term[i + 2..], true, term);
            }
            b'=' => return field_requirement(&term[..i], &term[i + 1..], true, term),
            _ => i += 1,
        }
    }
    Err(format!("invalid selector: {term:?}; can't understand it"))
}

fn field_requirement(
    path: &str,
    value: &str,
    equal: bool,
    term: &str,
) -> Result<FieldRequirement, String> {
    let path = path.trim();
    if path.is_empty() {
        return Err(format!("invalid selector: {term:?}: empty field path"));
    }
    let mut unescaped = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => unescaped.push(next),
                None => return Err(format!("invalid selector: {term:?}: dangling escape")),
            }
        } else {
            unescaped.push(c);
        }
    }
    Ok(FieldRequirement {
        path: path.split('.').map(str::to_string).collect(),
        value: unescaped,
        equal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels},
               "type": "Warning", "involvedObject": {"kind": "Backup"}, "count": 3})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "velero", "tier": "2"}));
        let cases = [
            ("", true),
            ("app=velero", true),
            ("app==velero", true),
            ("app!=velero", false),
            ("missing!=x", true),
            ("app in (velero, csdr)", true),
            ("app in (csdr)", false),
            ("app notin (csdr)", true),
            ("missing notin (csdr)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("tier>1", true),
            ("tier<2", false),
            ("app=velero,tier in (1,2)", true),
            ("app=velero,!tier", false),
        ];
        for (sel, want) in cases {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&o), want, "selector {sel:?}");
        }
        let unlabeled = json!({"metadata": {"name": "b"}});
        assert!(!LabelSelector::parse("app").unwrap().matches(&unlabeled));
        assert!(LabelSelector::parse("app!=x").unwrap().matches(&unlabeled));
    }

    #[test]
    fn bad_label_selectors_are_rejected() {
        for sel in ["app in (a", "a b", "x=(y)", "n>abc"] {
            assert!(LabelSelector::parse(sel).is_err(), "{sel:?} should fail");
        }
    }

    #[test]
    fn field_paths() {
        let o = obj(json!({}));
        let cases = [
            ("metadata.name=a", true),
            ("metadata.name!=a", false),
            ("metadata.namespace==ns", true),
            ("type!=Normal", true),
            ("involvedObject.kind=Backup,type=Warning", true),
            ("count=3", true),
            ("spec.nodeName=", true),
            ("spec.nodeName!=", false),
        ];
        for (sel, want) in cases {
            let s = FieldSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&o), want, "selector {sel:?}");
        }
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    #[test]
    fn field_escapes() {
        let o = json!({"metadata": {"name": "a,b=c"}});
        let s = FieldSelector::parse(r"metadata.name=a\,b\=c").unwrap();
        assert!(s.matches(&o));
    }
}
