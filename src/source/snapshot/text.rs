//! A reader that lets only text through: UTF-8 without NUL bytes, checked as it streams, so
//! a file is parsed straight from disk (never held whole in memory) and a binary file is
//! still named with the line where it stops being text.
//!
//! Exports pasted from a terminal often keep the command before them (`$ kubectl get backup
//! b -o yaml`) or the next prompt after them (`[root@master ~]# `). Such lines at the start of
//! a file are found in its first bytes ([`leading_prompts`]); at its end, the reader holds its
//! last line back until it knows nothing follows, and drops it when it is one
//! ([`TextReader::dropping_trailing_prompt`]). Only lines that cannot be YAML content are
//! taken for prompts ([`prompt`]).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::rc::Rc;

const BUFFER_BYTES: usize = 64 * 1024;
/// Longer lines are never taken for a prompt or a command.
const MAX_PROMPT_BYTES: usize = 1024;
/// The last line is held back with the blank lines after it up to this size, no more (it
/// always fits in the buffer with room to read).
const MAX_HELD_BYTES: usize = 4 * 1024;
/// Prompt and command lines looked for at the start of a file.
const MAX_LEADING_PROMPTS: usize = 8;
/// Commands whose lines, pasted without a prompt, start a terminal session's export.
const COMMANDS: &[&str] = &["kubectl", "oc", "velero"];

/// A line of a terminal session pasted with an export, which was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pasted {
    /// "a shell prompt" or "a shell command".
    pub what: &'static str,
    /// The line, shortened for a message.
    pub text: String,
}

/// The pasted lines of one file, by (1-based) line: a file may be read twice (see
/// `Loader::parse`), and each line is told once.
pub(super) type PastedLines = Rc<RefCell<BTreeMap<usize, Pasted>>>;

/// What a line is when it is a shell prompt, with or without a command after it, or a
/// kubectl, oc or velero command; `None` for anything YAML could read as content.
pub(super) fn prompt(line: &str) -> Option<&'static str> {
    let line = line.trim_end_matches([' ', '\t', '\r']);
    let b = line.as_bytes();
    let first = *b.first()?;
    // Keys (`key: value`, `key:`), sequence entries, document markers, comments and indented
    // lines are YAML; so is anything long.
    if line.len() > MAX_PROMPT_BYTES
        || matches!(first, b' ' | b'\t' | b'-' | b'#' | b'.')
        || line.contains(": ")
        || line.ends_with(':')
    {
        return None;
    }
    let command = match prompt_end(line) {
        Some(end) => !line[end..].trim().is_empty(),
        None => {
            let word = line.split(' ').next().unwrap_or("");
            if !(COMMANDS.contains(&word) && line.len() > word.len()) {
                return None;
            }
            true
        }
    };
    Some(if command {
        "a shell command"
    } else {
        "a shell prompt"
    })
}

/// Where the prompt that starts `line` ends: `$ `, `% `, `[user@host dir]# `,
/// `user@host:dir$ ` or `user@host dir % ` (`#`, `$` or `%` end each).
fn prompt_end(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    if matches!(b[0], b'$' | b'%') {
        return sigil_at(b, 0);
    }
    if b[0] == b'[' {
        let close = line.find(']')?;
        let (user, host) = line[1..close].split_once('@')?;
        let host = host.split(' ').next().unwrap_or("");
        return (word(user) && word(host)).then(|| sigil_at(b, close + 1))?;
    }
    let (user, rest) = line.split_once('@')?;
    let host_len = rest.find([':', ' '])?;
    if !word(user) || !word(&rest[..host_len]) {
        return None;
    }
    // The directory after the host: `:~` (bash) or ` ~ ` (zsh), then the sigil.
    let dir_at = user.len() + 1 + host_len + 1;
    let dir_end = line[dir_at..].find(' ').map_or(line.len(), |k| dir_at + k);
    if b[dir_at - 1] == b':' {
        return (dir_end > dir_at && matches!(b[dir_end - 1], b'#' | b'$')).then_some(dir_end);
    }
    (dir_end > dir_at && b.get(dir_end + 1) == Some(&b'%')).then(|| sigil_at(b, dir_end + 1))?
}

/// The end of a prompt's `#`, `$` or `%` at `at`, which the end of the line or a space follows.
fn sigil_at(b: &[u8], at: usize) -> Option<usize> {
    (matches!(b.get(at), Some(b'#' | b'$' | b'%')) && matches!(b.get(at + 1), None | Some(b' ')))
        .then_some(at + 1)
}

/// A user or host name.
fn word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The prompt and command lines that start `head` (the first bytes of a file), after blank
/// lines or not: each line's bytes (without its line break), number and what it is.
pub(super) fn leading_prompts(head: &[u8]) -> Vec<(Range<usize>, usize, Pasted)> {
    let mut found = Vec::new();
    let (mut at, mut line) = (0, 1);
    while found.len() < MAX_LEADING_PROMPTS {
        // Only whole lines: one cut by the end of `head` is too long to be a prompt.
        let Some(len) = head[at..].iter().position(|b| *b == b'\n') else {
            break;
        };
        let bytes = &head[at..at + len];
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            let Some(text) = std::str::from_utf8(bytes).ok() else {
                break;
            };
            let Some(what) = prompt(text) else {
                break;
            };
            found.push((at..at + len, line, pasted(what, text)));
        }
        at += len + 1;
        line += 1;
    }
    found
}

fn pasted(what: &'static str, text: &str) -> Pasted {
    let text = text.trim_end();
    let mut short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    Pasted { what, text: short }
}

/// Why the text stopped, and on which (1-based) line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotText {
    Utf8 { line: usize },
    Nul { line: usize },
}

impl NotText {
    pub fn line(self) -> usize {
        match self {
            NotText::Utf8 { line } | NotText::Nul { line } => line,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            NotText::Utf8 { .. } => {
                "not UTF-8 text (binary file?); kubectl exports are UTF-8 YAML or JSON"
            }
            NotText::Nul { .. } => {
                "holds a NUL byte (binary file?); kubectl exports are YAML or JSON text"
            }
        }
    }
}

/// Passes on the checked prefix of what it read; an incomplete UTF-8 sequence at the end of
/// a read waits for the next one. What stopped it is left in the shared cell, because parsers
/// wrap (or drop) the I/O errors of their readers.
pub(super) struct TextReader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// `buf[start..ready]` is checked text not yet passed on; `buf[ready..checked]` is checked
    /// text held back (the last line, which may be a pasted prompt); `buf[checked..end]` is the
    /// start of a UTF-8 sequence whose end is not read yet.
    start: usize,
    ready: usize,
    checked: usize,
    end: usize,
    /// Lines before `buf[0]`.
    lines: usize,
    /// `buf[0]` starts a line.
    line_start: bool,
    stopped: Rc<Cell<Option<NotText>>>,
    /// Where a dropped trailing prompt is told; `None`: no line is held back.
    trailing: Option<PastedLines>,
}

impl<R: Read> TextReader<R> {
    pub fn new(inner: R, stopped: Rc<Cell<Option<NotText>>>) -> Self {
        TextReader {
            inner,
            buf: vec![0; BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            ready: 0,
            checked: 0,
            end: 0,
            lines: 0,
            line_start: true,
            stopped,
            trailing: None,
        }
    }

    /// Drops the last line of the text when it is a shell prompt or command (and blank lines
    /// follow it, or nothing), and tells `to`.
    pub fn dropping_trailing_prompt(mut self, to: PastedLines) -> Self {
        self.trailing = Some(to);
        self
    }

    fn stop(&mut self, at: usize, nul: bool) -> io::Error {
        let line = self.lines + 1 + self.buf[..at].iter().filter(|b| **b == b'\n').count();
        let why = if nul {
            NotText::Nul { line }
        } else {
            NotText::Utf8 { line }
        };
        self.stopped.set(Some(why));
        io::Error::new(io::ErrorKind::InvalidData, why.message())
    }

    /// Reads more and checks it; `Ok(false)` at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if let Some(why) = self.stopped.get() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, why.message()));
        }
        // Count the lines passed on, and keep what is held back and the unfinished sequence
        // at the front.
        if self.ready > 0 {
            self.line_start = self.buf[self.ready - 1] == b'\n';
        }
        self.lines += self.buf[..self.ready]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.buf.copy_within(self.ready..self.end, 0);
        self.end -= self.ready;
        self.checked -= self.ready;
        self.start = 0;
        self.ready = 0;
        let n = loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            if self.end > self.checked {
                // The input ends inside a UTF-8 sequence.
                return Err(self.stop(self.checked, false));
            }
            return Ok(self.last_line());
        }
        let from = self.checked;
        self.end += n;
        let valid = match std::str::from_utf8(&self.buf[from..self.end]) {
            Ok(_) => self.end,
            Err(e) if e.error_len().is_none() => from + e.valid_up_to(),
            Err(e) => {
                let at = from + e.valid_up_to();
                if let Some(nul) = self.buf[from..at].iter().position(|b| *b == 0) {
                    return Err(self.stop(from + nul, true));
                }
                return Err(self.stop(at, false));
            }
        };
        if let Some(nul) = self.buf[from..valid].iter().position(|b| *b == 0) {
            return Err(self.stop(from + nul, true));
        }
        self.checked = valid;
        self.ready = self.held_from();
        Ok(true)
    }

    /// Where the text held back starts: the last line with more than spaces, with the blank
    /// lines after it, while they may be the end of the input; `checked` when nothing is.
    fn held_from(&self) -> usize {
        if self.trailing.is_none() {
            return self.checked;
        }
        let text = &self.buf[..self.checked];
        let Some(last) = text.iter().rposition(|b| !b.is_ascii_whitespace()) else {
            return self.checked;
        };
        let from = match text[..last].iter().rposition(|b| *b == b'\n') {
            Some(newline) => newline + 1,
            None if self.line_start => 0,
            // The rest of a line begun before: too long to be a prompt.
            None => return self.checked,
        };
        if self.checked - from > MAX_HELD_BYTES {
            self.checked
        } else {
            from
        }
    }

    /// At the end of the input, the text held back (at the front of the buffer): dropped if
    /// its line is a prompt or command, else passed on. Whether there is text to pass on.
    fn last_line(&mut self) -> bool {
        if self.checked == 0 {
            return false;
        }
        if let Some(to) = &self.trailing {
            let held = &self.buf[..self.checked];
            let len = held.iter().position(|b| *b == b'\n').unwrap_or(held.len());
            let text = std::str::from_utf8(&held[..len]).unwrap_or("");
            if let Some(what) = prompt(text) {
                to.borrow_mut().insert(self.lines + 1, pasted(what, text));
                self.checked = 0;
                self.end = 0;
                return false;
            }
        }
        self.ready = self.checked;
        true
    }
}

impl<R: Read> Read for TextReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let checked = io::BufRead::fill_buf(self)?;
        let n = out.len().min(checked.len());
        out[..n].copy_from_slice(&checked[..n]);
        io::BufRead::consume(self, n);
        Ok(n)
    }
}

/// The fast YAML reader reads lines straight from the checked buffer (no second copy).
impl<R: Read> io::BufRead for TextReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.start == self.ready {
            if !self.fill()? {
                return Ok(&[]);
            }
        }
        Ok(&self.buf[self.start..self.ready])
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.ready);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes a few at a time, so sequences and lines straddle reads.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.1).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn read_all(bytes: &[u8], step: usize) -> (Vec<u8>, Option<NotText>) {
        let stopped = Rc::new(Cell::new(None));
        let mut out = Vec::new();
        let _ = TextReader::new(Trickle(bytes, step), stopped.clone()).read_to_end(&mut out);
        (out, stopped.get())
    }

    #[test]
    fn text_passes_whole_whatever_the_read_sizes() {
        let text = "a: é\nb: 😀 x\nc: ü\n".repeat(50);
        for step in [1, 2, 3, 5, 4096] {
            assert_eq!(
                read_all(text.as_bytes(), step),
                (text.clone().into_bytes(), None)
            );
            // Holding the last line back changes nothing when it is no prompt.
            assert_eq!(read_dropping(text.as_bytes(), step), (text.clone(), vec![]));
        }
    }

    /// What the reader passes on with trailing prompts dropped, and the lines it dropped.
    fn read_dropping(bytes: &[u8], step: usize) -> (String, Vec<(usize, Pasted)>) {
        let pasted = PastedLines::default();
        let mut out = Vec::new();
        TextReader::new(Trickle(bytes, step), Rc::new(Cell::new(None)))
            .dropping_trailing_prompt(pasted.clone())
            .read_to_end(&mut out)
            .unwrap();
        (
            String::from_utf8(out).unwrap(),
            pasted.take().into_iter().collect(),
        )
    }

    #[test]
    fn prompts_and_commands_are_told_from_yaml() {
        for (line, what) in [
            ("[root@master ~]# ", "a shell prompt"),
            ("[root@k8s-master01 velero]$", "a shell prompt"),
            ("ops@bastion:~$ ", "a shell prompt"),
            ("root@master:~#", "a shell prompt"),
            ("me@laptop ~ %", "a shell prompt"),
            ("$", "a shell prompt"),
            (
                "$ kubectl -n velero get backup 4711 -o yaml",
                "a shell command",
            ),
            ("% oc get dpa -o yaml", "a shell command"),
            (
                "[root@master ~]# kubectl get schedule -o yaml",
                "a shell command",
            ),
            (
                "ubuntu@ip-10-0-0-1:~/velero$ velero backup get -o json",
                "a shell command",
            ),
            ("kubectl get backups -A -o yaml", "a shell command"),
            ("velero backup describe b --details", "a shell command"),
        ] {
            assert_eq!(prompt(line), Some(what), "{line:?}");
        }
        for line in [
            "apiVersion: v1",
            "kind: Backup",
            "metadata:",
            "- name: x",
            "---",
            "...",
            "# kubectl get backup -o yaml",
            "  $ indented",
            "%YAML 1.2",
            "$HOME",
            "kubectl",
            "kubectl: x",
            "items: []",
            "user@host",
            "a@b:c",
            "[x]# ",
            "[root@master ~]#x",
            "{",
            "",
        ] {
            assert_eq!(prompt(line), None, "{line:?}");
        }
        assert_eq!(prompt(&format!("$ {}", "x".repeat(MAX_PROMPT_BYTES))), None);
    }

    #[test]
    fn leading_prompts_keep_line_numbers() {
        let head = b"\n$ kubectl get backup b -o yaml\n[root@m ~]# \napiVersion: v1\n$ x\n";
        let found = leading_prompts(head);
        let lines: Vec<(usize, &str)> = found.iter().map(|(_, l, p)| (*l, p.what)).collect();
        assert_eq!(lines, [(2, "a shell command"), (3, "a shell prompt")]);
        assert_eq!(&head[found[0].0.clone()], b"$ kubectl get backup b -o yaml");
        // A line cut by the end of the head is not looked at.
        assert!(leading_prompts(b"$ kubectl get backup").is_empty());
        assert!(leading_prompts(b"apiVersion: v1\n$ x\n").is_empty());
    }

    #[test]
    fn a_trailing_prompt_is_dropped_whatever_the_read_sizes() {
        let yaml = "a: 1\nb:\n  c: 2\n";
        for step in [1, 2, 3, 7, 4096] {
            for end in [
                "[root@master ~]# ",
                "[root@master ~]# \n",
                "ops@bastion:~$ \n\n  \n",
            ] {
                let (out, pasted) = read_dropping(format!("{yaml}{end}").as_bytes(), step);
                assert_eq!(out, yaml, "{step} {end:?}");
                assert_eq!(pasted.len(), 1);
                assert_eq!(pasted[0].0, 4, "{step} {end:?}");
            }
            // Anything else at the end, or a prompt before more text, is passed on.
            for text in [
                format!("{yaml}x: y\n"),
                format!("{yaml}$ kubectl get x\nz: 1\n"),
                format!("{yaml}  [root@master ~]# \n"),
                "[root@master ~]# ".to_string(),
                String::new(),
            ] {
                let first_line_alone = text.starts_with('[');
                let (out, pasted) = read_dropping(text.as_bytes(), step);
                if first_line_alone {
                    // A file of one prompt line: dropped too (it holds no export).
                    assert_eq!((out.as_str(), pasted.len()), ("", 1));
                } else {
                    assert_eq!((out, pasted), (text.clone(), vec![]), "{step} {text:?}");
                }
            }
        }
    }

    #[test]
    fn a_trailing_prompt_after_many_buffers_has_its_line() {
        let yaml = "k: v\n".repeat(40_000);
        let (out, pasted) = read_dropping(format!("{yaml}root@master:~# \n").as_bytes(), 4096);
        assert_eq!(out, yaml);
        assert_eq!(pasted[0].0, 40_001);
        // A last line longer than the buffer is passed on (it is no prompt).
        let long = format!("{yaml}$ {}", "x".repeat(100_000));
        assert_eq!(read_dropping(long.as_bytes(), 4096).0, long);
        // Without the option nothing is held back.
        let text = format!("{yaml}[root@master ~]# ");
        assert_eq!(read_all(text.as_bytes(), 4096), (text.into_bytes(), None));
    }

    #[test]
    fn nul_and_bad_utf8_stop_at_their_line() {
        for step in [1, 3, 4096] {
            assert_eq!(
                read_all(b"a: 1\nb: 2\nc: \0\n", step).1,
                Some(NotText::Nul { line: 3 })
            );
            assert_eq!(
                read_all(b"a\nb\n\xff\xfe", step).1,
                Some(NotText::Utf8 { line: 3 })
            );
            // Cut inside a sequence: "é" without its second byte.
            assert_eq!(
                read_all(b"a\n\xc3", step).1,
                Some(NotText::Utf8 { line: 2 })
            );
            // The same, while the last line is held back.
            let stopped = Rc::new(Cell::new(None));
            let _ = TextReader::new(Trickle(b"a\nb\n\xc3", step), stopped.clone())
                .dropping_trailing_prompt(PastedLines::default())
                .read_to_end(&mut Vec::new());
            assert_eq!(stopped.get(), Some(NotText::Utf8 { line: 3 }));
        }
    }
}
