//! A fast reader for the YAML that `kubectl get -o yaml` writes (sigs.k8s.io/yaml, go-yaml's
//! emitter), as a serde `Deserializer`, so the same `Document` visitor reads it as reads what
//! serde-saphyr parses.
//!
//! serde-saphyr spends about 90 ns a byte in a general YAML parser (a 100 000-task export took
//! 10 s); this reader walks lines. It accepts only a subset and gives up ([`Refused`]) on
//! anything else, and then the whole file is parsed again by serde-saphyr from its start:
//! serde-saphyr stays the one authority for errors, their messages and hostile input, and for
//! what this reader accepts it must produce exactly what serde-saphyr produces (the
//! differential tests below compare both on examples, generated texts and edge cases).
//!
//! The subset: block mappings and block sequences (a sequence under a key at the key's
//! indentation or deeper), `- ` items that open a mapping on their line, plain scalars (folded
//! over more-indented lines), single- and double-quoted scalars (folded, with escapes), literal
//! block scalars `|`, `|-`, `|+`, `{}` and `[]`, `---` between documents, whole-line comments
//! between nodes. Plain scalars resolve as serde-saphyr resolves them with `yaml_options`;
//! the rare one that may be a number in another spelling (`0x1F`, `1e3`, `.inf`, `0123`) is
//! handed to serde-saphyr alone.
//!
//! Refused: anchors, aliases, tags, directives, `...`, flow collections with content, `? `
//! complex keys, plain keys that are not plainly strings (numbers, null, booleans, `<<`),
//! tabs outside block scalars, carriage returns, non-printable characters and byte order
//! marks, folded (`>`) block scalars and indentation indicators, empty block scalars, a scalar
//! on the line after its key, a comment after a node on its line, plain scalars holding `: `
//! or ` #`, lines over [`MAX_LINE_BYTES`] and scalars over [`MAX_SCALAR_BYTES`], nesting
//! deeper than [`MAX_NESTING`], a key repeated in a mapping (serde-saphyr names it: YAML keys
//! are unique, and two objects pasted without `---` read as one mapping), a file without
//! documents, and every syntax error.

use super::document::Document;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::io::{BufRead, Read};

/// Deeper nesting is left to serde-saphyr (and its depth budget, `MAX_DEPTH`).
pub(super) const MAX_NESTING: usize = 100;
/// YAML limits implicit keys to 1024 characters; longer ones are serde-saphyr's to judge.
const MAX_KEY_BYTES: usize = 1024;
/// Longer lines and scalars are left to serde-saphyr and its scalar budget: this reader holds
/// a line and a scalar in memory, and a hostile file may be one line of 500 MB. Kubernetes
/// caps all annotations of an object at 256 KiB.
const MAX_LINE_BYTES: u64 = 1024 * 1024;
const MAX_SCALAR_BYTES: usize = 4 * 1024 * 1024;

/// Mappings with more keys look their keys up in a hash set rather than a list.
const FEW_KEYS: usize = 16;

/// Why the fast reader gave up (for tests and debugging: the file is parsed again anyway).
#[derive(Debug)]
pub(super) struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Refused(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Refused>;

/// Every document of the stream, mapped, or why the fast reader gave up.
pub(super) fn documents(input: impl BufRead) -> Result<Vec<Document>> {
    read(input)
}

/// Every (non-empty) document of the stream as a `T`, or why the fast reader gave up.
pub(super) fn read<T: de::DeserializeOwned>(input: impl BufRead) -> Result<Vec<T>> {
    let mut p = Parser::new(input);
    p.advance()?;
    let mut documents = Vec::new();
    loop {
        p.skip_blank()?;
        if p.eof {
            break;
        }
        if p.line == "---" {
            p.advance()?;
            continue;
        }
        if p.line.starts_with("---") || p.line.starts_with("...") {
            return p.refuse("a document marker with content");
        }
        if p.indent() != 0 {
            return p.refuse("an indented document");
        }
        documents.push(T::deserialize(Root { p: &mut p })?);
        p.skip_blank()?;
        if !p.eof && p.line != "---" {
            return p.refuse("text after the end of a document");
        }
    }
    if documents.is_empty() {
        return Err(Refused("no document".into()));
    }
    Ok(documents)
}

/// The root node of a document, at column 0 of the current line.
struct Root<'p, R> {
    p: &'p mut Parser<R>,
}

impl<'de, R: BufRead> Deserializer<'de> for Root<'_, R> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.p.dash_at(0) {
            self.p.seq_at(0, visitor)
        } else if key_end(&self.p.line).is_some() {
            self.p.map_at(0, visitor)
        } else {
            self.p
                .refuse("a document that is not a block mapping or sequence")
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct Parser<R> {
    input: R,
    /// The current line, without its line break.
    line: String,
    /// Column (byte offset; only spaces and `- ` precede it) where the unread part of the
    /// line starts.
    pos: usize,
    /// The current line holds a tab (allowed only in block scalar content).
    tab: bool,
    /// The current line ended with a line break (the last one may not).
    newline: bool,
    /// No current line: the input is read.
    eof: bool,
    /// 1-based number of the current line.
    number: usize,
    depth: usize,
    /// Scalars that are not one slice of one line are assembled here.
    scratch: String,
    /// The keys of the mappings being read, one set per nesting level (reused).
    keys: Vec<Keys>,
    /// Keyed per parser, so a file cannot choose keys whose hashes collide.
    hasher: RandomState,
}

/// Hashes of the keys of one mapping, to refuse a repeated key. Two different keys that
/// collide by chance only send the file to serde-saphyr, which compares the keys themselves.
#[derive(Default)]
struct Keys {
    few: Vec<u64>,
    many: HashSet<u64, BuildHasherDefault<Prehashed>>,
}

impl Keys {
    fn clear(&mut self) {
        self.few.clear();
        // A set that once held a huge mapping would cost its size at every clear.
        if self.many.capacity() > 1024 {
            self.many = HashSet::default();
        } else {
            self.many.clear();
        }
    }

    /// Adds a key's hash; `false` when the mapping had it already.
    fn insert(&mut self, hash: u64) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&hash) {
                return false;
            }
            if self.few.len() < FEW_KEYS {
                self.few.push(hash);
                return true;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(hash)
    }
}

/// The hash set's hasher: its values are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Characters that may not start a plain scalar (or a plain key) in this subset.
fn bad_plain_start(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Where a key ends (the offset of its `:`) when `s` starts with `key: ` or `key:` at the end
/// of the line: a plain key up to the first `: `, or a quoted one on this line.
fn key_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let colon = match b.first()? {
        b'"' => {
            let mut j = 1;
            loop {
                match b.get(j)? {
                    b'\\' => j += 2,
                    b'"' => break j + 1,
                    _ => j += 1,
                }
            }
        }
        b'\'' => {
            let mut j = 1;
            loop {
                match b.get(j)? {
                    b'\'' if b.get(j + 1) == Some(&b'\'') => j += 2,
                    b'\'' => break j + 1,
                    _ => j += 1,
                }
            }
        }
        _ => {
            let mut from = 0;
            loop {
                let at = from + s[from..].find(':')?;
                if matches!(b.get(at + 1), None | Some(b' ')) {
                    break at;
                }
                from = at + 1;
            }
        }
    };
    (b.get(colon) == Some(&b':') && matches!(b.get(colon + 1), None | Some(b' '))).then_some(colon)
}

/// Whether a plain key is a string that reads the same whatever serde-saphyr does with keys
/// (numbers, null and booleans are left to it, as are `<<` merge keys).
fn plain_key_is_string(key: &str) -> bool {
    let b = key.as_bytes();
    if b.is_empty() || bad_plain_start(b[0]) || key == "<<" {
        return false;
    }
    if matches!(
        key,
        "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    ) {
        return false;
    }
    !matches!(b[0], b'0'..=b'9' | b'+' | b'.')
        || !(key.contains('_') || maybe_number(key.strip_prefix('+').unwrap_or(key)))
}

impl<R: BufRead> Parser<R> {
    fn new(input: R) -> Self {
        Parser {
            input,
            line: String::new(),
            pos: 0,
            tab: false,
            newline: false,
            eof: false,
            number: 0,
            depth: 0,
            scratch: String::new(),
            keys: Vec::new(),
            hasher: RandomState::new(),
        }
    }

    fn refuse<T>(&self, why: &str) -> Result<T> {
        Err(Refused(format!("line {}: {why}", self.number)))
    }

    /// Reads the next line; refuses characters outside the subset (carriage returns,
    /// control and non-printable characters, byte order marks).
    fn advance(&mut self) -> Result<()> {
        self.line.clear();
        self.pos = 0;
        let n = (&mut self.input)
            .take(MAX_LINE_BYTES)
            .read_line(&mut self.line)
            .map_err(|e| Refused(format!("read: {e}")))?;
        if n as u64 == MAX_LINE_BYTES && !self.line.ends_with('\n') {
            return self.refuse("a long line");
        }
        if self.scratch.len() > MAX_SCALAR_BYTES {
            return self.refuse("a long scalar");
        }
        if n == 0 {
            self.eof = true;
            self.newline = false;
            return Ok(());
        }
        self.number += 1;
        self.newline = self.line.ends_with('\n');
        if self.newline {
            self.line.pop();
        }
        let bytes = self.line.as_bytes();
        self.tab = false;
        for &b in bytes {
            if b < 0x20 || b == 0x7f {
                if b != b'\t' {
                    return self.refuse("a control character");
                }
                self.tab = true;
            }
        }
        if !self.line.is_ascii()
            && self.line.chars().any(|c| {
                matches!(
                    c,
                    '\u{80}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                )
            })
        {
            return self.refuse("a non-printable character");
        }
        Ok(())
    }

    fn indent(&self) -> usize {
        self.line.len() - self.line.trim_start_matches(' ').len()
    }

    /// Whether the line holds only spaces (no node, no comment).
    fn blank(&self) -> bool {
        self.line.bytes().all(|b| b == b' ')
    }

    /// Skips lines without nodes: blank ones and whole-line comments.
    fn skip_blank(&mut self) -> Result<()> {
        while !self.eof {
            let rest = self.line.trim_start_matches(' ');
            if !(rest.is_empty() || rest.starts_with('#')) {
                break;
            }
            if self.tab {
                return self.refuse("a tab");
            }
            self.advance()?;
        }
        Ok(())
    }

    /// Moves to the next entry of a block collection at column `at` (a `what`); `Ok(false)`
    /// when the collection ends before it: at the end of the input, or where `ends` (given
    /// the next line's indentation) says what follows belongs further out.
    fn next_entry(
        &mut self,
        at: usize,
        what: &str,
        ends: impl Fn(&Self, usize) -> bool,
    ) -> Result<bool> {
        self.skip_blank()?;
        if self.eof {
            return Ok(false);
        }
        let ind = self.indent();
        if ends(self, ind) {
            return Ok(false);
        }
        if ind > at {
            return self.refuse(&format!("a line indented deeper than its {what}"));
        }
        if self.tab {
            return self.refuse("a tab");
        }
        Ok(true)
    }

    /// Whether a block sequence entry starts at column `at`.
    fn dash_at(&self, at: usize) -> bool {
        let rest = &self.line.as_bytes()[at..];
        rest.first() == Some(&b'-') && matches!(rest.get(1), None | Some(b' '))
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.refuse("deep nesting");
        }
        Ok(())
    }

    /// A block mapping whose first key starts at column `m` of the current line.
    fn map_at<'de, V: Visitor<'de>>(&mut self, m: usize, visitor: V) -> Result<V::Value> {
        if self.tab {
            return self.refuse("a tab");
        }
        self.enter()?;
        self.pos = m;
        let level = self.depth;
        if self.keys.len() <= level {
            self.keys.resize_with(level + 1, Keys::default);
        }
        self.keys[level].clear();
        let mut access = BlockMap {
            p: self,
            m,
            level,
            first: true,
            done: false,
        };
        let value = visitor.visit_map(&mut access)?;
        if !access.done {
            return self.refuse("a mapping not read to its end");
        }
        self.depth -= 1;
        Ok(value)
    }

    /// A block sequence whose first `-` is at column `n` of the current line.
    fn seq_at<'de, V: Visitor<'de>>(&mut self, n: usize, visitor: V) -> Result<V::Value> {
        if self.tab {
            return self.refuse("a tab");
        }
        self.enter()?;
        let mut access = BlockSeq {
            p: self,
            n,
            first: true,
            done: false,
        };
        let value = visitor.visit_seq(&mut access)?;
        if !access.done {
            return self.refuse("a sequence not read to its end");
        }
        self.depth -= 1;
        Ok(value)
    }

    /// The rest of the line after a quoted scalar or `{}`/`[]` must be empty (a comment is
    /// left to serde-saphyr); then the next line is read.
    fn end_of_node_line(&mut self) -> Result<()> {
        if !self.line[self.pos..].bytes().all(|b| b == b' ') {
            return self.refuse("text after a node");
        }
        self.advance()
    }

    /// Folds the line break(s) after the current line into `scratch` for a multi-line quoted
    /// scalar, and moves to the first non-blank line, which must be indented past `parent`.
    /// `escaped`: the break was escaped with `\` (joins without a space).
    fn fold_quoted(&mut self, parent: isize, escaped: bool) -> Result<()> {
        if self.tab {
            return self.refuse("a tab in a quoted scalar");
        }
        self.advance()?;
        let mut blanks = 0;
        while !self.eof && self.blank() {
            blanks += 1;
            self.advance()?;
        }
        if self.eof {
            return self.refuse("an unterminated quoted scalar");
        }
        if self.tab {
            return self.refuse("a tab in a quoted scalar");
        }
        let ind = self.indent();
        if ind as isize <= parent {
            return self.refuse("a quoted scalar's line not indented");
        }
        if escaped {
            if blanks > 0 {
                return self.refuse("an escaped line break before blank lines");
            }
        } else if blanks == 0 {
            self.scratch.push(' ');
        } else {
            (0..blanks).for_each(|_| self.scratch.push('\n'));
        }
        self.pos = ind;
        Ok(())
    }

    /// A double-quoted scalar starting at `pos` into `scratch`; `pos` ends after its closing
    /// quote. `parent`: the indentation its continuation lines must exceed, or `None` for a
    /// key (one line only).
    fn double_quoted(&mut self, parent: Option<isize>) -> Result<()> {
        self.scratch.clear();
        let mut i = self.pos + 1;
        // Trailing spaces of a line are folded away, escaped ones are content.
        let mut keep = 0;
        loop {
            let b = self.line.as_bytes();
            let stop = b[i..]
                .iter()
                .position(|c| *c == b'"' || *c == b'\\')
                .map(|k| i + k);
            let chunk_end = stop.unwrap_or(b.len());
            let chunk = &self.line[i..chunk_end];
            self.scratch.push_str(chunk);
            if chunk.bytes().any(|c| c != b' ') {
                keep = self.scratch.len() - (chunk.len() - chunk.trim_end_matches(' ').len());
            }
            let Some(at) = stop else {
                let Some(parent) = parent else {
                    return self.refuse("a multi-line quoted key");
                };
                self.scratch.truncate(keep);
                self.fold_quoted(parent, false)?;
                keep = self.scratch.len();
                i = self.pos;
                continue;
            };
            if b[at] == b'"' {
                self.pos = at + 1;
                return Ok(());
            }
            let Some(&e) = b.get(at + 1) else {
                // An escaped line break: nothing joins the lines.
                let Some(parent) = parent else {
                    return self.refuse("a multi-line quoted key");
                };
                self.fold_quoted(parent, true)?;
                keep = self.scratch.len();
                i = self.pos;
                continue;
            };
            i = at + 2;
            let simple = match e {
                b'0' => Some('\0'),
                b'a' => Some('\u{7}'),
                b'b' => Some('\u{8}'),
                b't' => Some('\t'),
                b'n' => Some('\n'),
                b'v' => Some('\u{b}'),
                b'f' => Some('\u{c}'),
                b'r' => Some('\r'),
                b'e' => Some('\u{1b}'),
                b' ' => Some(' '),
                b'"' => Some('"'),
                b'/' => Some('/'),
                b'\\' => Some('\\'),
                b'N' => Some('\u{85}'),
                b'_' => Some('\u{a0}'),
                b'L' => Some('\u{2028}'),
                b'P' => Some('\u{2029}'),
                _ => None,
            };
            let c = match (simple, e) {
                (Some(c), _) => c,
                (None, b'x' | b'u' | b'U') => {
                    let digits = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = self.line.get(i..i + digits).unwrap_or("");
                    if hex.len() != digits || !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                        return self.refuse("a bad escape");
                    }
                    i += digits;
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(c) => c,
                        None => return self.refuse("an escape of no character"),
                    }
                }
                _ => return self.refuse("an unknown escape"),
            };
            self.scratch.push(c);
            keep = self.scratch.len();
        }
    }

    /// A single-quoted scalar starting at `pos` into `scratch` (see [`Self::double_quoted`]).
    fn single_quoted(&mut self, parent: Option<isize>) -> Result<()> {
        self.scratch.clear();
        let mut i = self.pos + 1;
        let mut keep = 0;
        loop {
            let b = self.line.as_bytes();
            let stop = b[i..].iter().position(|c| *c == b'\'').map(|k| i + k);
            let chunk_end = stop.unwrap_or(b.len());
            let chunk = &self.line[i..chunk_end];
            self.scratch.push_str(chunk);
            if chunk.bytes().any(|c| c != b' ') {
                keep = self.scratch.len() - (chunk.len() - chunk.trim_end_matches(' ').len());
            }
            let Some(at) = stop else {
                let Some(parent) = parent else {
                    return self.refuse("a multi-line quoted key");
                };
                self.scratch.truncate(keep);
                self.fold_quoted(parent, false)?;
                keep = self.scratch.len();
                i = self.pos;
                continue;
            };
            if b.get(at + 1) == Some(&b'\'') {
                self.scratch.push('\'');
                keep = self.scratch.len();
                i = at + 2;
                continue;
            }
            self.pos = at + 1;
            return Ok(());
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+` at `pos`) into `scratch`; its lines must be
    /// indented past `parent`.
    fn literal(&mut self, parent: isize) -> Result<()> {
        let chomp = match &self.line[self.pos..] {
            "|" => b' ',
            "|-" => b'-',
            "|+" => b'+',
            _ => return self.refuse("a block scalar header"),
        };
        self.scratch.clear();
        self.advance()?;
        // Leading empty lines, before the first content line sets the indentation.
        let mut leading = Vec::new();
        while !self.eof && self.blank() {
            leading.push(self.line.len());
            self.advance()?;
        }
        if self.eof || self.indent() as isize <= parent {
            return self.refuse("an empty block scalar");
        }
        let indent = self.indent();
        if leading.iter().any(|n| *n > indent) {
            return self.refuse("a block scalar's leading spaces");
        }
        (0..leading.len()).for_each(|_| self.scratch.push('\n'));
        let mut pending = 0;
        let mut first = true;
        loop {
            if !self.newline {
                // The last line of the file without a break: chomping differs.
                return self.refuse("a block scalar at the end without a line break");
            }
            if !first {
                self.scratch.push('\n');
            }
            (0..pending).for_each(|_| self.scratch.push('\n'));
            pending = 0;
            first = false;
            self.scratch.push_str(&self.line[indent..]);
            self.advance()?;
            loop {
                if self.eof {
                    break;
                }
                if self.blank() {
                    if self.line.len() > indent {
                        return self.refuse("spaces as block scalar content");
                    }
                    pending += 1;
                    self.advance()?;
                    continue;
                }
                break;
            }
            if self.eof || self.indent() < indent {
                break;
            }
        }
        match chomp {
            b'-' => {}
            b'+' => (0..=pending).for_each(|_| self.scratch.push('\n')),
            _ => self.scratch.push('\n'),
        }
        Ok(())
    }

    /// A plain scalar starting at `pos` (continued on lines indented past `parent`), resolved
    /// as serde-saphyr resolves it.
    fn plain<'de, V: Visitor<'de>>(&mut self, parent: isize, visitor: V) -> Result<V::Value> {
        let text = self.line[self.pos..].trim_end_matches(' ');
        if text.contains(" #") || text.contains(": ") || text.ends_with(':') {
            return self.refuse("a comment or `: ` in a plain scalar");
        }
        let b = text.as_bytes();
        // `-5` and `-x` are plain scalars, `- x` a sequence entry.
        if bad_plain_start(b[0]) && !(b[0] == b'-' && b.len() > 1 && b[1] != b' ') {
            return self.refuse("a plain scalar starting with an indicator");
        }
        self.scratch.clear();
        self.scratch.push_str(text);
        self.advance()?;
        loop {
            let mut blanks = 0;
            while !self.eof && self.blank() {
                blanks += 1;
                self.advance()?;
            }
            if self.eof || self.indent() as isize <= parent {
                break;
            }
            if self.tab {
                return self.refuse("a tab");
            }
            let more = self.line.trim_matches(' ');
            if bad_plain_start(more.as_bytes()[0])
                || more.contains(" #")
                || more.contains(": ")
                || more.ends_with(':')
            {
                return self.refuse("a plain scalar's line that may be more");
            }
            if blanks == 0 {
                self.scratch.push(' ');
            } else {
                (0..blanks).for_each(|_| self.scratch.push('\n'));
            }
            self.scratch.push_str(more);
            self.advance()?;
        }
        resolve_plain(&self.scratch, visitor).or_else(|e| self.refuse(&e.0))
    }

    /// The node after `key:` or `- `, at `pos`; `parent` is the indentation of the
    /// collection holding it; `item`: it follows `- `.
    fn node<'de, V: Visitor<'de>>(
        &mut self,
        parent: usize,
        item: bool,
        visitor: V,
    ) -> Result<V::Value> {
        let rest = self.line[self.pos..].trim_start_matches(' ');
        self.pos = self.line.len() - rest.len();
        if rest.is_empty() {
            self.advance()?;
            self.skip_blank()?;
            if self.eof {
                return visitor.visit_unit();
            }
            let ind = self.indent();
            let dash = self.dash_at(ind);
            if ind > parent {
                if dash {
                    return self.seq_at(ind, visitor);
                }
                if key_end(&self.line[ind..]).is_some() {
                    return self.map_at(ind, visitor);
                }
                return self.refuse("a scalar on the line after its key");
            }
            if !item && ind == parent && dash {
                return self.seq_at(ind, visitor);
            }
            return visitor.visit_unit();
        }
        let parent = parent as isize;
        match rest.as_bytes()[0] {
            b'|' => {
                self.literal(parent)?;
                visitor.visit_str(&self.scratch)
            }
            b'"' | b'\'' => {
                if item && key_end(rest).is_some() {
                    return self.map_at(self.pos, visitor);
                }
                if rest.starts_with('"') {
                    self.double_quoted(Some(parent))?;
                } else {
                    self.single_quoted(Some(parent))?;
                }
                self.end_of_node_line()?;
                visitor.visit_str(&self.scratch)
            }
            b'{' | b'[' if rest.trim_end_matches(' ').len() == 2 => {
                let empty = rest.starts_with("{}") || rest.starts_with("[]");
                if !empty {
                    return self.refuse("a flow collection");
                }
                let map = rest.starts_with('{');
                self.pos = self.line.len();
                self.advance()?;
                if map {
                    visitor.visit_map(Empty)
                } else {
                    visitor.visit_seq(Empty)
                }
            }
            _ => {
                if item && key_end(rest).is_some() {
                    return self.map_at(self.pos, visitor);
                }
                self.plain(parent, visitor)
            }
        }
    }
}

/// Plain scalars as serde-saphyr resolves them with `yaml_options` (YAML 1.2 core, strict
/// booleans, underscored numbers as strings): common shapes here, anything that may be a
/// number in another spelling (radixes, floats, big or zero-led integers) by serde-saphyr.
fn resolve_plain<'de, V: Visitor<'de>>(text: &str, visitor: V) -> Result<V::Value> {
    match text {
        "~" | "null" | "Null" | "NULL" => return visitor.visit_unit(),
        "true" | "True" | "TRUE" => return visitor.visit_bool(true),
        "false" | "False" | "FALSE" => return visitor.visit_bool(false),
        _ => {}
    }
    // Callers never hand over an empty scalar; should one come, serde-saphyr decides.
    let Some(&first) = text.as_bytes().first() else {
        return Err(Refused("an empty plain scalar".into()));
    };
    if !matches!(first, b'0'..=b'9' | b'+' | b'-' | b'.') {
        return visitor.visit_str(text);
    }
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let simple = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|d| d.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if simple && !(neg && digits == "0") {
        let n: u64 = digits.parse().map_err(|_| Refused("an integer".into()))?;
        return if neg {
            visitor.visit_i64(-(n as i64))
        } else {
            visitor.visit_u64(n)
        };
    }
    // serde-saphyr keeps underscored numbers as strings before it tries any number.
    if text.contains('_') {
        return visitor.visit_str(text);
    }
    if !maybe_number(text) {
        // Neither an integer nor a float Rust (and so serde-saphyr) would parse.
        return visitor.visit_str(text);
    }
    if text.starts_with("--") || text.starts_with("..") {
        return Err(Refused("a plain scalar like a document marker".into()));
    }
    let value: serde_json::Value =
        serde_saphyr::from_str_with_options(text, super::yaml_options(text.len() as u64))
            .map_err(|e| Refused(format!("serde-saphyr on {text:?}: {e}")))?;
    match value {
        serde_json::Value::String(s) => visitor.visit_str(&s),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                visitor.visit_u64(u)
            } else if let Some(i) = n.as_i64() {
                visitor.visit_i64(i)
            } else if let Some(f) = n.as_f64() {
                visitor.visit_f64(f)
            } else {
                Err(Refused("a number".into()))
            }
        }
        serde_json::Value::Bool(v) => visitor.visit_bool(v),
        _ => Err(Refused(format!("a plain scalar {text:?} of another kind"))),
    }
}

/// Whether serde-saphyr might read `text` (a plain scalar starting with a digit, sign or
/// dot, without `_`) as a number: a radix prefix, `.inf`/`.nan`, or the shape of a decimal.
fn maybe_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let radix = unsigned.len() > 1
        && unsigned.starts_with('0')
        && matches!(
            unsigned.as_bytes()[1],
            b'x' | b'X' | b'o' | b'O' | b'b' | b'B'
        );
    let non_finite = matches!(
        unsigned,
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    );
    radix || non_finite || float_shaped(text)
}

/// Whether `text` has the shape of a decimal integer or float: digits, at most one `.`, at
/// most one exponent, signs only in front and after the exponent. Everything Rust's float
/// and integer parsers accept has it; what lacks it is a string to serde-saphyr.
fn float_shaped(text: &str) -> bool {
    let b = text.as_bytes();
    let (mut dots, mut exps) = (0, 0);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {}
            b'.' if dots == 0 && exps == 0 => dots += 1,
            b'e' | b'E' if exps == 0 => exps += 1,
            b'+' | b'-' if i == 0 || matches!(b[i - 1], b'e' | b'E') => {}
            _ => return false,
        }
    }
    true
}

/// `{}` and `[]`.
struct Empty;

impl<'de> MapAccess<'de> for Empty {
    type Error = Refused;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _: K) -> Result<Option<K::Value>> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value> {
        Err(Refused("a value of an empty mapping".into()))
    }
}

impl<'de> SeqAccess<'de> for Empty {
    type Error = Refused;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, _: T) -> Result<Option<T::Value>> {
        Ok(None)
    }
}

struct BlockMap<'p, R> {
    p: &'p mut Parser<R>,
    m: usize,
    /// Nesting level: which of the parser's key sets is this mapping's.
    level: usize,
    first: bool,
    done: bool,
}

impl<'de, R: BufRead> MapAccess<'de> for BlockMap<'_, R> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let p = &mut *self.p;
        if self.done {
            return Ok(None);
        }
        if !self.first {
            let m = self.m;
            let ends = |p: &Parser<R>, ind: usize| ind < m || (ind == 0 && p.line == "---");
            if !p.next_entry(m, "mapping", ends)? {
                self.done = true;
                return Ok(None);
            }
            p.pos = m;
        }
        self.first = false;
        let rest = &p.line[p.pos..];
        let Some(colon) = key_end(rest) else {
            return p.refuse("a mapping line without a key");
        };
        let value_at = p.pos + colon + 1;
        let key = match rest.as_bytes()[0] {
            b'"' => {
                p.double_quoted(None)?;
                p.scratch.as_str()
            }
            b'\'' => {
                p.single_quoted(None)?;
                p.scratch.as_str()
            }
            _ => {
                let key = rest[..colon].trim_end_matches(' ');
                if !plain_key_is_string(key) || key.contains(" #") {
                    return p.refuse("a plain key that may not be a string");
                }
                key
            }
        };
        if key.len() > MAX_KEY_BYTES {
            return p.refuse("a long key");
        }
        if !p.keys[self.level].insert(p.hasher.hash_one(key)) {
            return p.refuse("a repeated key");
        }
        let key = seed.deserialize(de::value::StrDeserializer::<Refused>::new(key))?;
        p.pos = value_at;
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(Node {
            p: &mut *self.p,
            parent: self.m,
            item: false,
        })
    }
}

struct BlockSeq<'p, R> {
    p: &'p mut Parser<R>,
    n: usize,
    first: bool,
    done: bool,
}

impl<'de, R: BufRead> SeqAccess<'de> for BlockSeq<'_, R> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let p = &mut *self.p;
        if self.done {
            return Ok(None);
        }
        if !self.first {
            let n = self.n;
            // A line at the sequence's column without a dash belongs to a collection further
            // out (or is refused there).
            let ends = |p: &Parser<R>, ind: usize| ind < n || (ind == n && !p.dash_at(ind));
            if !p.next_entry(n, "sequence", ends)? {
                self.done = true;
                return Ok(None);
            }
        }
        self.first = false;
        p.pos = self.n + 1;
        let rest = p.line[p.pos..].trim_start_matches(' ');
        if rest.starts_with('-') && matches!(rest.as_bytes().get(1), None | Some(b' ')) {
            return p.refuse("a sequence in a sequence on one line");
        }
        seed.deserialize(Node {
            p,
            parent: self.n,
            item: true,
        })
        .map(Some)
    }
}

/// One node, as serde sees it.
struct Node<'p, R> {
    p: &'p mut Parser<R>,
    parent: usize,
    item: bool,
}

impl<'de, R: BufRead> Deserializer<'de> for Node<'_, R> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.p.node(self.parent, self.item, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn saphyr_values(text: &str) -> std::result::Result<Vec<Value>, String> {
        let mut out = Vec::new();
        let mut input = text.as_bytes();
        let options = super::super::yaml_options(text.len() as u64);
        for v in serde_saphyr::read_with_options::<_, Value>(&mut input, options) {
            match v {
                // The fast reader yields no empty documents (they hold no objects either way).
                Ok(Value::Null) => {}
                Ok(v) => out.push(v),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(out)
    }

    fn saphyr_documents(text: &str) -> String {
        let empty = format!("{:?}", Document::default());
        match super::super::yaml_documents(text.as_bytes(), text.len() as u64) {
            Ok(documents) => documents
                .iter()
                .map(|d| format!("{d:?}"))
                .filter(|d| *d != empty)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(p) => format!("error {:?}", p.error),
        }
    }

    /// When the fast reader accepts `text`, it must read what serde-saphyr reads, as values
    /// and as mapped documents: `Ok(true)`; `Ok(false)` when it refuses; `Err` says how the
    /// two differ.
    fn compare(text: &str) -> std::result::Result<bool, String> {
        let Ok(fast) = read::<Value>(text.as_bytes()) else {
            return Ok(false);
        };
        let slow = saphyr_values(text);
        if Ok(&fast) != slow.as_ref() {
            return Err(format!(
                "values differ for:\n{text}\nfast: {fast:?}\nslow: {slow:?}"
            ));
        }
        let documents = documents(text.as_bytes())
            .map_err(|e| format!("documents refused where values were read: {e}"))?;
        let documents: Vec<String> = documents.iter().map(|d| format!("{d:?}")).collect();
        let (fast, slow) = (documents.join("\n"), saphyr_documents(text));
        if fast != slow {
            return Err(format!(
                "documents differ for:\n{text}\nfast: {fast}\nslow: {slow}"
            ));
        }
        Ok(true)
    }

    fn same(text: &str) -> bool {
        compare(text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Why the fast reader refused, without the line number (to count reasons).
    fn reason(text: &str) -> String {
        match read::<Value>(text.as_bytes()) {
            Ok(_) => "accepted".into(),
            Err(e) => {
                e.0.split_once(": ")
                    .map_or(e.0.clone(), |(_, r)| r.to_string())
            }
        }
    }

    /// The List shape the benchmark writes (and kubectl: items under `- `, sorted keys).
    fn list_of(objects: &[Value]) -> String {
        let mut out = String::from("apiVersion: v1\nitems:\n");
        for o in objects {
            let text = serde_norway::to_string(o).unwrap();
            for (i, line) in text.lines().enumerate() {
                out.push_str(if i == 0 { "- " } else { "  " });
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push_str("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
        out
    }

    fn backup(i: usize) -> Value {
        json!({
            "apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": format!("schedule-0001-{i:08}"), "namespace": "velero",
                "uid": format!("00000003-0000-0000-0000-{i:012}"), "resourceVersion": "1",
                "generation": 5, "creationTimestamp": "2025-01-01T00:00:00Z",
                "labels": {"velero.io/schedule-name": "schedule-0001"},
                "annotations": {"velero.io/source-cluster-k8s-minor-version": "33"}},
            "spec": {"storageLocation": "vault-0001", "includedNamespaces": ["app-1"],
                "ttl": "720h0m0s", "snapshotVolumes": true, "hooks": {}, "metadata": {}},
            "status": {"phase": "Completed", "version": 1, "formatVersion": "1.1.0",
                "progress": {"totalItems": 812, "itemsBackedUp": 812}, "errors": -3,
                "failureReason": "velero backup process timeout: it took longer than the \
                    four hours it was given, see the logs of the velero pod for the details"}
        })
    }

    #[test]
    fn the_benchmark_shape_is_read_fast_and_alike() {
        let objects: Vec<Value> = (0..50).map(backup).collect();
        let text = list_of(&objects);
        assert!(same(&text), "refused the benchmark shape");
        let d = documents(text.as_bytes()).unwrap();
        assert_eq!(d[0].objects.records.len(), 50);
    }

    fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                yaml_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_yaml_file_of_the_examples_and_tests_reads_alike() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        yaml_files(&root.join("examples"), &mut files);
        yaml_files(&root.join("tests"), &mut files);
        files.sort();
        assert!(files.len() > 10, "{files:?}");
        let mut accepted = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            // Kubernetes objects in the examples are kubectl's shape: they must be read fast.
            if same(&text) {
                accepted += 1;
            } else if f.starts_with(root.join("examples")) && text.contains("apiVersion") {
                panic!(
                    "{} was refused: {:?}",
                    f.display(),
                    read::<Value>(text.as_bytes()).err()
                );
            }
        }
        assert!(accepted > 0);
    }

    /// Edge cases, accepted or not; either way the result must be serde-saphyr's.
    const EDGES: &[&str] = &[
        "a: 0x1F\nb: 0o17\nc: 1e3\nd: .inf\ne: -.inf\nf: .nan\ng: 1_000\nh: 0123\ni: +5\nj: -0\n",
        "k: 12345678901234567890\nl: -9223372036854775809\nm: 1.5\nn: 1.\no: .5\np: 1e999\n",
        "q: 0X1F\nr: 0b101\ns: -.NaN\nt: +.inf\nu: 1.1.0\nv: 00000003-0000\nw: 1e\nx: -\n",
        "a: -5\nb: -foo\nc: --x\nd: 9223372036854775807\ne: -9223372036854775808\nf: 0\n",
        "a: ~\nb: null\nc: Null\nd: NULL\ne: true\nf: False\ng: yes\nh: on\ni: y\nj:\nk: nULL\n",
        "a: TRUE\nb: tRue\nc: inf\nd: nan\ne: +inf\nf: Infinity\ng: 720h0m0s\nh: 10:30\n",
        "a: \"x\\ty\\u00e9\\U0001F600\\x41 \\\"q\\\" \\\\ \\/ \\N\\_\\L\\P\\e\\0\\a\\b\\v\\f\\r\\ \"\n",
        "a: \"abc\\\n  def\"\nb: \"abc \\\n   def\"\n",
        "a: \"abc\n  def\n\n  ghi\n\n\n  jkl  \n  \"\nb: 'it''s\n  a   \n  test'\n",
        "a: \"\\uD83D\\uDE00\"\n",
        "a: \"\\q\"\n",
        "a: |\n  line1\n\n  line3\n\nb: |-\n  x\n  y\nc: |+\n  keep\n\n\nd: 1\n",
        "a: |\n    indented\n  # not a comment\n   more\n  last\nb: |\n\n  after blank\n",
        "a: |\n  x\n    \nb: 1\n",
        "a: |\n x\n",
        "- |\n  x\n- y\n- |-\n  z\n",
        "a: |2\n   x\n",
        "a: >\n  x\n",
        "a: |\n    x\n  y\n",
        "a: |\n  x",
        "a:\n- 1\n- 2\nb:\n  - x\n  -\n  - y: 1\n    z: 2\n",
        "- a: 1\n  b: 2\n- c\n-\n  d: 3\n- - e\n",
        "- a: 1\n  b: 2\n- c\n-\n  d: 3\n-   e: 4\n    f: 5\n",
        "a:\n  b:\n  - 1\n  c: 2\nd:\n- x: 1\n  y:\n  - 2\n",
        "a: this is a long\n  plain scalar\n\n  with a blank\n\n\nb: 1\n",
        "a: plain\n  - dash\n",
        "a: plain\n  #comment\n",
        "a: plain\n# comment\n  more\n",
        "# top\na: 1\n  # indented comment\nb: 2\n# end\n",
        "---\na: 1\n---\nb: 2\n",
        "---\n---\na: 1\n",
        "a: 1\n...\n",
        "--- a: 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\na: 2\nb:\n  c: 1\n  c: 2\n",
        "\"quoted key\": 1\n'single': 2\n\"\": 3\n\"a\\tb\": 4\n'it''s': 5\n",
        "1: a\n",
        "null: a\n",
        "~: a\n",
        "<<: {a: b}\n",
        "<<:\n  a: b\n",
        "a:b\n",
        "a: b: c\n",
        "hello\n",
        "",
        "# only a comment\n",
        "\u{feff}a: 1\n",
        "a: - b\n",
        "a: 'x' y\n",
        "a: \"x\" #c\n",
        "a: b # c\n",
        "a: b#c\nc: d #\n",
        "a:  spaced   \nb:    'q'   \n",
        "a: 1",
        "é: ü\n名前: 値\nemoji: 😀\n",
        "a: x\u{85}y\n",
        "a:\n   b: 1\n  c: 2\n",
        "a: 1\n  b: 2\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\nb: !custom x\n",
        "a: {b: c}\nd: [1, 2]\n",
        "a: {}\nb: []\nc: { }\nd: [ ]\n",
        "? a\n: b\n",
        "a:\tb\n",
        "a: b\r\nc: d\r\n",
        "a:\n  plain on the next line\n",
        "a:\n  \"quoted on the next line\"\n",
        "- 1\n- -2\n- 3.5\n- \"4\"\n- '5'\n- true\n- null\n-\n- ~\n",
        "a: [\nb: 1\n",
        "a: 'unterminated\n",
        "a: \"unterminated\n",
        "  a: 1\n",
        "- a\nb: 1\n",
        "a: 1\n- b\n",
        "a: @x\nb: `y`\n",
        "a: ?x\nb: :y\nc: ,z\n",
        "apiVersion: v1\nitems: []\nkind: List\n",
        "apiVersion: v1\nitems:\nkind: List\n",
        "apiVersion: v1\nitems: text\nkind: List\n",
        "apiVersion: v1\nitems:\n  apiVersion: velero.io/v1\n  kind: Backup\nkind: List\n",
        "- apiVersion: velero.io/v1\n  kind: Backup\n  metadata:\n    name: b\n",
        "apiVersion: velero.io/v1\nkind: Backup\nmetadata:\n  name: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    ];

    #[test]
    fn edge_cases_read_as_serde_saphyr_reads_them() {
        let mut accepted = 0;
        let mut differ = Vec::new();
        for text in EDGES {
            match compare(text) {
                Ok(a) => accepted += usize::from(a),
                Err(e) => differ.push(e),
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n\n"));
        // Most are inside the subset; the test would prove little if they were all refused.
        assert!(accepted >= 25, "{accepted} of {}", EDGES.len());
    }

    #[test]
    fn what_is_outside_the_subset_is_refused() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: {b: c}\n",
            "a: [1]\n",
            "? a\n: b\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: >\n  x\n",
            "a: |2\n   x\n",
            "%YAML 1.2\n---\na: 1\n",
            "<<:\n  a: b\n",
            "1: a\n",
            "a: b # c\n",
            "a: 1\n  b: 2\n",
            "hello\n",
            "",
        ] {
            assert!(read::<Value>(text.as_bytes()).is_err(), "accepted {text:?}");
        }
        let deep = (0..MAX_NESTING + 1)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect::<String>();
        assert!(read::<Value>(deep.as_bytes()).is_err());
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_level_and_size() {
        let many: String = (0..3 * FEW_KEYS)
            .map(|i| format!("  k{i}: {i}\n"))
            .collect();
        for text in [
            "apiVersion: v1\nkind: Backup\napiVersion: v1\nkind: BackupStorageLocation\n".into(),
            "a:\n  b: 1\n  b: 2\n".to_string(),
            "- a: 1\n  a: 2\n".into(),
            "a: 1\n\"a\": 2\n".into(),
            format!("m:\n{many}  k0: again\n"),
            format!("m:\n{many}  k{}: again\n", 3 * FEW_KEYS - 1),
        ] {
            let refused = read::<Value>(text.as_bytes()).err().map(|e| e.0);
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|r| r.ends_with("a repeated key")),
                "{text}: {refused:?}"
            );
        }
        // The same keys in different mappings (nested, siblings, items, documents) are fine.
        for text in [
            "a:\n  a:\n    a: 1\n  b: 2\nb:\n  a: 3\n".into(),
            "- name: x\n  kind: A\n- name: y\n  kind: B\n".into(),
            "a: 1\n---\na: 2\n".into(),
            format!("m:\n{many}n:\n{many}"),
        ] {
            assert!(same(&text), "refused {text}");
        }
    }

    /// Pieces of strings that make emitters quote, escape, fold or use block scalars.
    const PIECES: &[&str] = &[
        "a", "name", "x y", ": ", ":", "#", " #", "# x", "'", "\"", "\\", "-", "- ", "?", "{", "}",
        "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", "é", "名前", "😀", "\t", "\n",
        "\n\n", " ", "  ", "true", "null", "~", "yes", "1", "-1", "0x10", "1e3", "1.5", "01",
        "1_0", ".inf", "---", "...", "\u{a0}", "\u{2028}", "\u{7}", "\u{1b}", "0", "no", "NaN",
    ];

    /// A small deterministic generator (LCG): the same cases on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn string(rng: &mut Rng) -> String {
        let mut s = String::new();
        let long = rng.below(5) == 0;
        let parts = if long {
            20 + rng.below(30)
        } else {
            rng.below(4)
        };
        for _ in 0..parts {
            if long && rng.below(3) > 0 {
                s.push_str(["word", "another", "longer-one", "x"][rng.below(4)]);
                s.push(' ');
            } else {
                s.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        s
    }

    /// Keys are short: emitters write long ones as `? ` complex keys, which are refused.
    fn key(rng: &mut Rng) -> String {
        if rng.below(2) == 0 {
            let words = [
                "name",
                "app.kubernetes.io/name",
                "a b",
                "a-b",
                "x_y",
                "é",
                "k:v",
            ];
            return words[rng.below(words.len())].to_string();
        }
        (0..rng.below(3))
            .map(|_| PIECES[rng.below(PIECES.len())])
            .chain(["k"])
            .collect()
    }

    fn value(rng: &mut Rng, depth: usize) -> Value {
        match rng.below(if depth > 4 { 6 } else { 9 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 0),
            2 => json!(rng.next() as i64 - (1 << 30)),
            3 => json!((rng.next() as f64) / 1024.0),
            4 | 5 => Value::String(string(rng)),
            6 | 7 => {
                let mut map = serde_json::Map::new();
                for _ in 0..rng.below(5) {
                    map.insert(key(rng), value(rng, depth + 1));
                }
                Value::Object(map)
            }
            _ => Value::Array((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect()),
        }
    }

    /// Folds long lines at a space past column 60 the way go-yaml folds plain and quoted
    /// scalars (serde_norway does not fold).
    fn fold(text: &str) -> String {
        let mut out = String::new();
        for line in text.lines() {
            let indent = line.len() - line.trim_start_matches(['-', ' ']).len();
            let value_at = line[indent..]
                .find(": ")
                .map(|k| indent + k + 2)
                .filter(|_| !line[indent..].starts_with(['"', '\'']))
                .unwrap_or(indent);
            let value = &line[value_at..];
            if line.len() < 80 || value.starts_with(['|', '>']) || value.is_empty() {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let b = line.as_bytes();
            let mut cut = None;
            for i in value_at.max(60) + 1..line.len() - 1 {
                if b[i] == b' ' && b[i - 1] != b' ' && b[i - 1] != b'\\' && b[i + 1] != b' ' {
                    cut = Some(i);
                    break;
                }
            }
            match cut {
                Some(i) => {
                    out.push_str(&line[..i]);
                    out.push('\n');
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(&line[i + 1..]);
                }
                None => out.push_str(line),
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn generated_texts_read_as_serde_saphyr_reads_them() {
        let mut rng = Rng(7);
        let (mut accepted, cases) = (0, 600);
        let mut refused = std::collections::BTreeMap::<String, usize>::new();
        for case in 0..cases {
            let mut map = serde_json::Map::new();
            for _ in 0..1 + rng.below(4) {
                map.insert(key(&mut rng), value(&mut rng, 0));
            }
            let doc = Value::Object(map);
            let plain = serde_norway::to_string(&doc).unwrap();
            let text = if case % 2 == 0 { fold(&plain) } else { plain };
            let text = if case % 3 == 0 {
                list_of(&[doc.clone(), backup(case)])
            } else {
                text
            };
            if same(&text) {
                accepted += 1;
            } else {
                let r = reason(&text);
                *refused.entry(r).or_default() += 1;
            }
        }
        assert!(
            accepted > cases / 2,
            "{accepted} of {cases} accepted; refused: {refused:?}"
        );
    }
}
