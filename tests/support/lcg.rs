//! A tiny deterministic generator for randomized tests: they need variety that replays the
//! same way on every run, not a dependency.

pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..n` (0 when `n` is 0).
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }

    /// An index into a slice of length `n`.
    #[allow(dead_code)]
    pub fn index(&mut self, n: usize) -> usize {
        self.next(n as u64) as usize
    }

    /// One of `items`.
    #[allow(dead_code)]
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.index(items.len())]
    }
}
