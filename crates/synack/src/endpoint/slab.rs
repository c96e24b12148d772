//! The connection slab: every TCB of an endpoint, stored in place and named
//! by a [`ConnId`] (slot index plus generation, so a stale handle finds
//! nothing instead of a newer connection).
//!
//! TCBs live inside fixed-size chunks rather than in a box each: opening
//! and closing a connection then costs no allocation once the slab is warm
//! (a box per TCB was a malloc and a free per lifecycle on each side), and
//! an idle connection does not pay the allocator's per-block overhead.
//! Chunks rather than one growing vector, so growth never moves the TCBs
//! already there and never leaves half a vector of spare capacity.

use crate::event::ConnId;
use crate::tcb::Tcb;

/// Slots per chunk: one chunk is about 17 KiB.
const CHUNK: usize = 64;

/// A slot keeps its TCB's storage when the connection ends: the next
/// connection is written over it, which costs no drop and no copy of a
/// TCB built elsewhere.
struct Slot {
    generation: u32,
    live: bool,
    tcb: Tcb,
}

/// The slab.
#[derive(Default)]
pub(super) struct Slab {
    /// Fixed-size chunks: an index splits into a chunk number and a
    /// position that needs no bounds check.
    chunks: Vec<Box<[Slot; CHUNK]>>,
    /// Indexes of empty slots. A new chunk's slots go in highest first, so
    /// fresh slots are handed out in index order; freed slots go on top and
    /// are reused first (they are the warmest).
    free: Vec<u32>,
}

impl Slab {
    /// Takes a slot for a new connection; `init` makes the slot's TCB the
    /// new one (see `Tcb::reset`) for its new handle.
    #[inline]
    pub(super) fn insert(&mut self, init: impl FnOnce(&mut Tcb, ConnId)) -> (ConnId, &mut Tcb) {
        let index = match self.free.pop() {
            Some(i) => i,
            None => self.grow(),
        };
        let slot = &mut self.chunks[index as usize / CHUNK][index as usize % CHUNK];
        let id = ConnId {
            index,
            generation: slot.generation,
        };
        init(&mut slot.tcb, id);
        slot.live = true;
        (id, &mut slot.tcb)
    }

    /// Adds a chunk; returns its first slot and frees the others.
    #[cold]
    fn grow(&mut self) -> u32 {
        let base = (self.chunks.len() * CHUNK) as u32;
        // Built on the heap directly (`Box::new` of an array would build
        // its 17 KiB on the stack and copy them).
        let slots: Box<[Slot]> = (0..CHUNK)
            .map(|_| Slot {
                generation: 0,
                live: false,
                tcb: Tcb::vacant(),
            })
            .collect();
        let Ok(chunk) = slots.try_into() else {
            unreachable!("CHUNK slots were collected");
        };
        self.chunks.push(chunk);
        self.free.extend((base + 1..base + CHUNK as u32).rev());
        base
    }

    fn slot(&self, id: ConnId) -> Option<&Slot> {
        let i = id.index as usize;
        let slot = &self.chunks.get(i / CHUNK)?[i % CHUNK];
        (slot.generation == id.generation && slot.live).then_some(slot)
    }

    fn slot_mut(&mut self, id: ConnId) -> Option<&mut Slot> {
        let i = id.index as usize;
        let slot = &mut self.chunks.get_mut(i / CHUNK)?[i % CHUNK];
        (slot.generation == id.generation && slot.live).then_some(slot)
    }

    pub(super) fn get(&self, id: ConnId) -> Option<&Tcb> {
        Some(&self.slot(id)?.tcb)
    }

    pub(super) fn get_mut(&mut self, id: ConnId) -> Option<&mut Tcb> {
        Some(&mut self.slot_mut(id)?.tcb)
    }

    /// Ends the TCB's life (its storage stays for the slot's next one); the
    /// handle goes stale. The caller has given its buffers back.
    pub(super) fn remove(&mut self, id: ConnId) {
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
    }

    /// Every TCB, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Tcb> {
        self.chunks
            .iter()
            .flat_map(|c| c.iter())
            .filter(|s| s.live)
            .map(|s| &s.tcb)
    }

    /// Heap bytes held by the chunks and the free list (not the buffers
    /// the TCBs own).
    pub(super) fn heap_bytes(&self) -> usize {
        self.chunks.len() * size_of::<[Slot; CHUNK]>()
            + self.chunks.capacity() * size_of::<Box<[Slot; CHUNK]>>()
            + self.free.capacity() * size_of::<u32>()
    }
}
