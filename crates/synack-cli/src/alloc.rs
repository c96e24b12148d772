//! A counting global allocator: live heap bytes, attributed to an owner.
//!
//! The memory benchmark runs a client and a server endpoint in one process
//! and wants the server's heap alone. Every call into an endpoint is made
//! inside [`Owner::enter`], so each allocation is booked to the endpoint
//! that made it. That attribution is exact as long as an owner frees only
//! memory it allocated itself, which holds for endpoints: they share no
//! heap objects (packets cross between them through the caller's buffer).
//!
//! Owner and counters are per thread: plain cells, no atomic
//! read-modify-write on every allocation to tax the lifecycle benchmark, and
//! threads (the test harness has several) cannot disturb each other's
//! figures. The benchmark measures on one thread, so per-thread is exact.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Who is allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Owner {
    /// Everything not inside an endpoint call: harness, printing, tests.
    Harness = 0,
    /// The client (or active-side) endpoint.
    Client = 1,
    /// The server endpoint, the one the memory benchmark measures.
    Server = 2,
}

// Const-initialised and without destructors, so reading them never
// allocates (which would recurse into the allocator) and stays possible
// while a thread is being torn down.
thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(Owner::Harness as usize) };
    static LIVE: [Cell<isize>; 3] = const { [Cell::new(0), Cell::new(0), Cell::new(0)] };
}

impl Owner {
    /// Runs `f` with allocations booked to `self`.
    #[inline]
    pub fn enter<R>(self, f: impl FnOnce() -> R) -> R {
        let prev = CURRENT.with(|c| c.replace(self as usize));
        let r = f();
        CURRENT.with(|c| c.set(prev));
        r
    }

    /// Live heap bytes booked to this owner (allocated minus freed).
    pub fn live(self) -> isize {
        LIVE.with(|l| l[self as usize].get())
    }
}

#[inline]
fn book(delta: isize) {
    // `try_with` rather than `with`: never panic inside the allocator.
    let owner = CURRENT.try_with(Cell::get).unwrap_or(0) % 3;
    let _ = LIVE.try_with(|l| l[owner].set(l[owner].get().wrapping_add(delta)));
}

/// `System`, counting.
pub struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the bookkeeping touches only thread-local cells and never
// allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            book(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            book(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) };
        book(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            book(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn books_to_the_current_owner() {
        let before = Owner::Server.live();
        let v = Owner::Server.enter(|| vec![0u8; 1000]);
        assert_eq!(Owner::Server.live() - before, 1000);
        Owner::Server.enter(|| drop(v));
        assert_eq!(Owner::Server.live(), before);
    }
}
