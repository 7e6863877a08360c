//! Inventory memory benchmark (issue 7 C.1): where the bytes of an inventory of 100 000 tasks,
//! 1 000 vaults and 1 000 schedules go (`benches/support/fixtures.rs`, `TARGET`), counted by
//! a counting allocator, so the breakdown is exact rather than read off RSS.
//!
//! It reports the heap the inventory holds (requested bytes, and the bytes glibc's malloc
//! spends on them: 8 bytes of header, 16-byte rounding, 32-byte minimum chunk), per task, and
//! split into the task records with their map, the task index, and the rest; then the
//! process's RSS.
//!
//! Run: `cargo bench --bench inventory_memory` (prints figures; nothing is asserted).

#[path = "support/fixtures.rs"]
mod fixtures;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

/// The system allocator, counting what is live: requested bytes, glibc chunk bytes, blocks.
struct Counting;

static REQUESTED: AtomicU64 = AtomicU64::new(0);
static CHUNKS: AtomicU64 = AtomicU64::new(0);
static BLOCKS: AtomicU64 = AtomicU64::new(0);

/// What glibc's malloc takes for a request of `n` bytes on 64-bit Linux.
fn chunk(n: usize) -> u64 {
    (((n + 8 + 15) & !15).max(32)) as u64
}

fn count(layout: Layout, sign: i64) {
    let add = |c: &AtomicU64, v: u64| {
        if sign > 0 {
            c.fetch_add(v, Ordering::Relaxed);
        } else {
            c.fetch_sub(v, Ordering::Relaxed);
        }
    };
    add(&REQUESTED, layout.size() as u64);
    add(&CHUNKS, chunk(layout.size()));
    add(&BLOCKS, 1);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are only
// statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout, 1);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(layout, -1);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(layout, -1);
        count(
            Layout::from_size_align(new_size, layout.align()).unwrap_or(layout),
            1,
        );
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Clone, Copy)]
struct Heap {
    requested: u64,
    chunks: u64,
    blocks: u64,
}

fn heap() -> Heap {
    Heap {
        requested: REQUESTED.load(Ordering::Relaxed),
        chunks: CHUNKS.load(Ordering::Relaxed),
        blocks: BLOCKS.load(Ordering::Relaxed),
    }
}

impl std::ops::Sub for Heap {
    type Output = Heap;
    fn sub(self, o: Heap) -> Heap {
        Heap {
            requested: self.requested.wrapping_sub(o.requested),
            chunks: self.chunks.wrapping_sub(o.chunks),
            blocks: self.blocks.wrapping_sub(o.blocks),
        }
    }
}

fn row(what: &str, h: Heap, tasks: usize) {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "{what:<34} {:>8.1} MiB requested, {:>8.1} MiB in malloc chunks, {:>9} blocks, {:>6} B/task",
        mib(h.requested),
        mib(h.chunks),
        h.blocks,
        h.chunks / tasks as u64
    );
}

fn main() {
    use backupscope::model::{BackupTask, RecordKey, Schedule, Vault};
    let scale = fixtures::TARGET;
    println!(
        "backup center: {} tasks, {} vaults, {} schedules",
        scale.tasks, scale.vaults, scale.schedules
    );
    println!(
        "inline sizes: BackupTask {} B, Vault {} B, Schedule {} B, RecordKey {} B",
        size_of::<BackupTask>(),
        size_of::<Vault>(),
        size_of::<Schedule>(),
        size_of::<RecordKey>()
    );

    let before = heap();
    let inventory = fixtures::inventory(&scale);
    let whole = heap() - before;

    // Vaults and schedules alone: the same scale without tasks.
    let before = heap();
    let rest = black_box(fixtures::inventory(&fixtures::Scale { tasks: 0, ..scale }));
    let rest_heap = heap() - before;
    drop(rest);

    let before = heap();
    let index = black_box(inventory.rebuilt_task_index());
    let task_index = heap() - before;
    drop(index);

    let tasks = scale.tasks;
    row("inventory", whole, tasks);
    row(
        "  task records and their map",
        whole - rest_heap - task_index,
        tasks,
    );
    row("  task index", task_index, tasks);
    row("  vaults, schedules", rest_heap, tasks);
    let (peak, current) = fixtures::rss_of("self");
    println!(
        "RSS: peak {:.1} MiB, now {:.1} MiB",
        fixtures::mib(peak),
        fixtures::mib(current)
    );
    black_box(&inventory);
}
