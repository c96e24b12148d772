//! A map keyed by 4-tuple, as the connection table needs it: one hash
//! table per address family over packed keys ([`Key`]), so that the
//! per-packet lookup hashes 12 bytes and compares them in a couple of
//! instructions instead of two `IpAddr` enums and two ports.

use crate::endpoint::TableHasher;
use crate::tuple::{FourTuple, Key, KeyV4, KeyV6};
use std::collections::HashMap;

pub(crate) struct TupleMap<V> {
    v4: HashMap<KeyV4, V, TableHasher>,
    v6: HashMap<KeyV6, V, TableHasher>,
}

impl<V> TupleMap<V> {
    pub(crate) fn new(hasher: TableHasher) -> Self {
        TupleMap {
            v4: HashMap::with_hasher(hasher.clone()),
            v6: HashMap::with_hasher(hasher),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    #[inline]
    pub(crate) fn get(&self, key: &Key) -> Option<&V> {
        match key {
            Key::V4(k) => self.v4.get(k),
            Key::V6(k) => self.v6.get(k),
        }
    }

    #[inline]
    pub(crate) fn contains(&self, t: &FourTuple) -> bool {
        self.get(&t.key()).is_some()
    }

    #[inline]
    pub(crate) fn insert(&mut self, t: &FourTuple, v: V) -> Option<V> {
        match t.key() {
            Key::V4(k) => self.v4.insert(k, v),
            Key::V6(k) => self.v6.insert(k, v),
        }
    }

    #[inline]
    pub(crate) fn remove(&mut self, t: &FourTuple) -> Option<V> {
        match t.key() {
            Key::V4(k) => self.v4.remove(&k),
            Key::V6(k) => self.v6.remove(&k),
        }
    }

    /// Heap bytes held (entries plus one control byte per bucket).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.v4.capacity() * (size_of::<(KeyV4, V)>() + 1)
            + self.v6.capacity() * (size_of::<(KeyV6, V)>() + 1)
    }
}
