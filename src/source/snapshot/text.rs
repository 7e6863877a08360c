//! A reader that lets only text through: UTF-8 without NUL bytes, checked as it streams, so
//! a file is parsed straight from disk (never held whole in memory) and a binary file is
//! still named with the line where it stops being text.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

const BUFFER_BYTES: usize = 64 * 1024;

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
    /// `buf[start..checked]` is checked text not yet passed on; `buf[checked..end]` is the
    /// start of a UTF-8 sequence whose end is not read yet.
    start: usize,
    checked: usize,
    end: usize,
    /// Lines before `buf[0]`.
    lines: usize,
    stopped: Rc<Cell<Option<NotText>>>,
}

impl<R: Read> TextReader<R> {
    pub fn new(inner: R, stopped: Rc<Cell<Option<NotText>>>) -> Self {
        TextReader {
            inner,
            buf: vec![0; BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            checked: 0,
            end: 0,
            lines: 0,
            stopped,
        }
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
        // Count the lines passed on, and keep the unfinished sequence at the front.
        self.lines += self.buf[..self.checked]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.buf.copy_within(self.checked..self.end, 0);
        self.end -= self.checked;
        self.start = 0;
        self.checked = 0;
        let n = loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return if self.end == 0 {
                Ok(false)
            } else {
                // The input ends inside a UTF-8 sequence.
                Err(self.stop(0, false))
            };
        }
        self.end += n;
        let valid = match std::str::from_utf8(&self.buf[..self.end]) {
            Ok(_) => self.end,
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => {
                let at = e.valid_up_to();
                if let Some(nul) = self.buf[..at].iter().position(|b| *b == 0) {
                    return Err(self.stop(nul, true));
                }
                return Err(self.stop(at, false));
            }
        };
        if let Some(nul) = self.buf[..valid].iter().position(|b| *b == 0) {
            return Err(self.stop(nul, true));
        }
        self.checked = valid;
        Ok(true)
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
        while self.start == self.checked {
            if !self.fill()? {
                return Ok(&[]);
            }
        }
        Ok(&self.buf[self.start..self.checked])
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.checked);
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
        }
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
        }
    }
}
