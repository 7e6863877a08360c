//! Shared immutable strings for the fields that 100 000 backup tasks repeat (namespace, vault,
//! schedule, raw phase, ttl, failure message) and for a task's name, which its record, its
//! inventory key and the task index all hold. Owned `String`s cost a heap block per field per
//! task (32-48 bytes under glibc); an interned [`SharedStr`] costs 16 bytes and one block per
//! distinct value.

use serde::{Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::ops::Deref;
use std::sync::{Arc, LazyLock};

/// An immutable string whose clones share one allocation. Compares, orders, hashes, prints
/// and serializes as the text it holds, like a `String`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SharedStr(Arc<str>);

/// Ordered as the text, without reading it when both share one allocation: the inventory's
/// keys are interned, and a lookup of (engine, namespace, name) among 100 000 compared the
/// same namespace byte by byte at every step.
impl Ord for SharedStr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.shares_with(other) {
            std::cmp::Ordering::Equal
        } else {
            self.as_str().cmp(other.as_str())
        }
    }
}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

static EMPTY: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));

impl SharedStr {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether both share one allocation (the interner's work is done).
    pub fn shares_with(&self, other: &SharedStr) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for SharedStr {
    /// The empty string, one allocation for the whole process: most messages are empty.
    fn default() -> Self {
        SharedStr(EMPTY.clone())
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        if s.is_empty() {
            SharedStr::default()
        } else {
            SharedStr(Arc::from(s))
        }
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr::from(s.as_str())
    }
}

impl From<&String> for SharedStr {
    fn from(s: &String) -> Self {
        SharedStr::from(s.as_str())
    }
}

impl From<SharedStr> for String {
    fn from(s: SharedStr) -> Self {
        s.as_str().to_string()
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<SharedStr> for str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == *other.0
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        **self == *other.0
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        **self == *other.0
    }
}

/// An immutable list of shared strings (a task's included namespaces), shared like
/// [`SharedStr`]: the tasks of one schedule all carry the same list.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedList(Arc<[SharedStr]>);

static EMPTY_LIST: LazyLock<Arc<[SharedStr]>> = LazyLock::new(|| Arc::from(Vec::new()));

impl Default for SharedList {
    fn default() -> Self {
        SharedList(EMPTY_LIST.clone())
    }
}

impl Deref for SharedList {
    type Target = [SharedStr];
    fn deref(&self) -> &[SharedStr] {
        &self.0
    }
}

impl From<Vec<String>> for SharedList {
    fn from(v: Vec<String>) -> Self {
        if v.is_empty() {
            SharedList::default()
        } else {
            SharedList(v.into_iter().map(SharedStr::from).collect())
        }
    }
}

impl fmt::Debug for SharedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl Serialize for SharedList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for SharedList {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| *a == *b.as_ref())
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for SharedList {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == **other
    }
}

/// One table of distinct values of type `T` behind `Arc`s.
#[derive(Debug, Clone)]
struct Table<T: Eq + Hash + Clone> {
    values: HashSet<T>,
    /// Size after the last sweep; the next sweep runs when the table has doubled since.
    swept_at: usize,
}

impl<T: Eq + Hash + Clone> Default for Table<T> {
    fn default() -> Self {
        Table {
            values: HashSet::new(),
            swept_at: 0,
        }
    }
}

impl<T: Eq + Hash + Clone> Table<T> {
    fn intern(&mut self, value: &mut T, unused: impl Fn(&T) -> bool) {
        if let Some(shared) = self.values.get(value) {
            *value = shared.clone();
            return;
        }
        // Values whose records are gone (a unique failure message, a deleted namespace) would
        // otherwise stay forever in a long-running watch; dropping them when the table has
        // doubled keeps the cost amortized O(1) per insert.
        if self.values.len() >= (2 * self.swept_at).max(1024) {
            self.values.retain(|v| !unused(v));
            self.swept_at = self.values.len();
        }
        self.values.insert(value.clone());
    }
}

/// The inventory's interner: replaces a record's repeated values by the one shared copy.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    strings: Table<SharedStr>,
    lists: Table<SharedList>,
}

impl Interner {
    pub fn str(&mut self, s: &mut SharedStr) {
        if s.is_empty() {
            *s = SharedStr::default();
            return;
        }
        self.strings.intern(s, |v| Arc::strong_count(&v.0) == 1);
    }

    pub fn list(&mut self, l: &mut SharedList) {
        if l.is_empty() {
            *l = SharedList::default();
            return;
        }
        for s in Arc::make_mut(&mut l.0) {
            self.str(s);
        }
        self.lists.intern(l, |v| Arc::strong_count(&v.0) == 1);
    }

    /// Distinct values held (strings, lists).
    pub fn len(&self) -> (usize, usize) {
        (self.strings.values.len(), self.lists.values.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_prints_and_serializes_as_its_text() {
        let s = SharedStr::from("vault-a");
        assert_eq!(s, "vault-a");
        assert_eq!("vault-a", s);
        assert_eq!(s, String::from("vault-a"));
        assert_eq!(format!("{s} {s:?}"), "vault-a \"vault-a\"");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"vault-a\"");
        let (a, b) = (SharedStr::from("a"), SharedStr::from("b"));
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Less, "ordered by text");
        let l = SharedList::from(vec!["a".to_string(), "b".to_string()]);
        assert_eq!(l, vec!["a", "b"]);
        assert_eq!(format!("{l:?}"), "[\"a\", \"b\"]");
        assert_eq!(serde_json::to_string(&l).unwrap(), "[\"a\",\"b\"]");
        assert_eq!(l.join(","), "a,b");
    }

    #[test]
    fn interned_values_share_one_allocation() {
        let mut interner = Interner::default();
        let (mut a, mut b) = (SharedStr::from("velero"), SharedStr::from("velero"));
        assert!(!a.shares_with(&b));
        interner.str(&mut a);
        interner.str(&mut b);
        assert!(a.shares_with(&b));
        let mut l1 = SharedList::from(vec!["app".to_string()]);
        let mut l2 = SharedList::from(vec!["app".to_string()]);
        interner.list(&mut l1);
        interner.list(&mut l2);
        assert!(Arc::ptr_eq(&l1.0, &l2.0));
        let mut app = SharedStr::from("app");
        interner.str(&mut app);
        assert!(l1[0].shares_with(&app), "list elements are interned too");
        assert_eq!(interner.len(), (2, 1), "\"velero\" and \"app\"; one list");
    }

    #[test]
    fn values_no_record_holds_are_dropped_as_the_table_grows() {
        let mut interner = Interner::default();
        let mut kept = SharedStr::from("kept");
        interner.str(&mut kept);
        for i in 0..10_000 {
            let mut s = SharedStr::from(format!("message {i}"));
            interner.str(&mut s);
        }
        let (strings, _) = interner.len();
        assert!(strings <= 1_024, "unused values were swept, {strings} held");
        let mut again = SharedStr::from("kept");
        interner.str(&mut again);
        assert!(
            again.shares_with(&kept),
            "a value still in use survives the sweeps"
        );
    }
}
