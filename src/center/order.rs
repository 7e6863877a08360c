//! Orders the views list records in, got by merging what the inventory keeps sorted
//! instead of sorting on every scrape.

use crate::model::Engine;

/// Two sequences each sorted as one sorted sequence (`before(x, y)`: x sorts before y),
/// `a`'s items first among equals (what a stable sort of `a` then `b` gives), without sorting.
fn merged<T>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    before: impl Fn(&T, &T) -> bool,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if before(y, x) => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// Records of both engines (each engine's in (namespace, name) order, as the inventory keeps
/// them) in (namespace, name, engine) order.
pub fn by_name_order<T, I: Iterator<Item = T>>(
    records: impl Fn() -> I,
    of: impl Fn(&T) -> (&str, &str, Engine) + Copy,
) -> impl Iterator<Item = T> {
    let engine = |e: Engine| records().filter(move |r| of(r).2 == e);
    merged(engine(Engine::Ack), engine(Engine::Velero), move |x, y| {
        let ((xn, xm, _), (yn, ym, _)) = (of(x), of(y));
        (xn, xm) < (yn, ym)
    })
}
