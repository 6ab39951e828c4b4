//! The store behind Apollo automatic persisted queries: one shelf per role, and on each shelf
//! a share per caller, so no caller reads what another role registered and no caller (an
//! anonymous flood included) can push out more than its own share of anyone's entries.
//!
//! [`ApqStore`] is the seam for a shared backend (Redis, keyed `apq:<role>:<hash>`); this
//! process keeps [`MemoryApq`]. Only validated documents reach a store: the caller of
//! [`ApqStore::put`] has already checked the text against the registering caller's tier.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use lru::LruCache;

use super::rate_limit::network_of;
use crate::auth::{Caller, Role};

/// Who registered an entry, for its share: the token's subject, else the client's network
/// (as the rate limiter keys anonymous callers), else everyone unknown together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A verified subject (customer id).
    Subject(i32),
    /// An anonymous caller's address (IPv6 by /64).
    Address(IpAddr),
    /// Anonymous callers whose address is unknown.
    Unknown,
}

impl Owner {
    /// The owner `caller`, coming from `client`, registers as.
    pub fn of(caller: &Caller, client: Option<IpAddr>) -> Self {
        match (caller.viewer(), client) {
            (Some(viewer), _) => Owner::Subject(viewer.customer_id),
            (None, Some(ip)) => Owner::Address(network_of(ip)),
            (None, None) => Owner::Unknown,
        }
    }
}

/// Where registered documents are kept. A document is found only on the shelf of the role
/// that registered it: for every other role the hash was never seen.
pub trait ApqStore: Send + Sync {
    /// The text registered under `hash` by a caller of `role` (`None`: anonymous).
    fn get(&self, role: Option<Role>, hash: &str) -> Option<Arc<str>>;
    /// Remembers `text` under `hash` for `role`, charged to `owner`'s share.
    fn put(&self, role: Option<Role>, owner: Owner, hash: String, text: Arc<str>);
}

/// The in-process store: an LRU of `capacity` documents per role, of which one owner holds at
/// most `share`; an owner over its share forgets its own least recently used entry.
pub struct MemoryApq {
    shelves: [Mutex<Shelf>; 4],
    share: usize,
}

impl MemoryApq {
    /// A store of `capacity` documents per role and at most `share` per owner (at least 1,
    /// at most `capacity`).
    pub fn new(capacity: NonZeroUsize, share: usize) -> Self {
        Self {
            shelves: std::array::from_fn(|_| Mutex::new(Shelf::new(capacity))),
            share: share.clamp(1, capacity.get()),
        }
    }

    fn shelf(&self, role: Option<Role>) -> &Mutex<Shelf> {
        let slot = match role {
            None => 0,
            Some(Role::Client) => 1,
            Some(Role::Employee) => 2,
            Some(Role::Manager) => 3,
        };
        &self.shelves[slot]
    }
}

impl ApqStore for MemoryApq {
    fn get(&self, role: Option<Role>, hash: &str) -> Option<Arc<str>> {
        let mut shelf = self.shelf(role).lock().ok()?;
        shelf.entries.get(hash).map(|entry| entry.text.clone())
    }

    fn put(&self, role: Option<Role>, owner: Owner, hash: String, text: Arc<str>) {
        if let Ok(mut shelf) = self.shelf(role).lock() {
            shelf.put(owner, hash, text, self.share);
        }
    }
}

struct Entry {
    text: Arc<str>,
    owner: Owner,
}

/// One role's documents and how many each owner holds (owners holding none are dropped, so
/// the map never outgrows the LRU).
struct Shelf {
    entries: LruCache<String, Entry>,
    held: HashMap<Owner, usize>,
}

impl Shelf {
    fn new(capacity: NonZeroUsize) -> Self {
        Self {
            entries: LruCache::new(capacity),
            held: HashMap::new(),
        }
    }

    fn put(&mut self, owner: Owner, hash: String, text: Arc<str>, share: usize) {
        // The hash was verified against the text: an entry already there is the same document.
        if self.entries.get(&hash).is_some() {
            return;
        }
        if self.held.get(&owner).copied().unwrap_or(0) >= share {
            self.forget_oldest_of(owner);
        }
        if let Some((_, evicted)) = self.entries.push(hash, Entry { text, owner }) {
            self.release(evicted.owner);
        }
        let held = self.held.entry(owner).or_default();
        *held = held.saturating_add(1);
    }

    /// Drops `owner`'s least recently used entry. A scan of at most the shelf's capacity, and
    /// only for an owner at its share.
    fn forget_oldest_of(&mut self, owner: Owner) {
        let oldest = self
            .entries
            .iter()
            .rev()
            .find(|(_, entry)| entry.owner == owner)
            .map(|(hash, _)| hash.clone());
        if let Some(hash) = oldest
            && self.entries.pop(&hash).is_some()
        {
            self.release(owner);
        }
    }

    fn release(&mut self, owner: Owner) {
        if let Some(count) = self.held.get_mut(&owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.held.remove(&owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(capacity: usize, share: usize) -> MemoryApq {
        MemoryApq::new(NonZeroUsize::new(capacity).unwrap(), share)
    }

    fn put(store: &MemoryApq, role: Option<Role>, owner: Owner, hash: &str) {
        store.put(role, owner, hash.to_owned(), Arc::from(hash));
    }

    #[test]
    fn an_entry_is_found_only_by_its_role() {
        let store = store(10, 10);
        put(&store, Some(Role::Employee), Owner::Subject(1), "h");
        assert!(store.get(Some(Role::Employee), "h").is_some());
        assert!(store.get(Some(Role::Client), "h").is_none());
        assert!(store.get(None, "h").is_none());
        assert!(store.get(Some(Role::Manager), "h").is_none());
    }

    #[test]
    fn an_owner_over_its_share_forgets_its_own_entries_only() {
        let store = store(10, 3);
        let flood = Owner::Address("192.0.2.1".parse().unwrap());
        put(&store, None, Owner::Unknown, "other");
        for i in 0..100 {
            put(&store, None, flood, &format!("junk{i}"));
        }
        assert!(store.get(None, "other").is_some());
        assert!(store.get(None, "junk99").is_some());
        assert!(store.get(None, "junk96").is_none());
        let shelf = store.shelf(None).lock().unwrap();
        assert_eq!(shelf.entries.len(), 4);
        assert_eq!(shelf.held[&flood], 3);
    }

    #[test]
    fn evicting_another_owners_entry_releases_its_share() {
        let store = store(2, 2);
        put(&store, None, Owner::Subject(1), "a");
        put(&store, None, Owner::Subject(2), "b");
        put(&store, None, Owner::Subject(2), "c");
        let shelf = store.shelf(None).lock().unwrap();
        assert!(!shelf.held.contains_key(&Owner::Subject(1)));
        assert_eq!(shelf.held[&Owner::Subject(2)], 2);
    }
}
