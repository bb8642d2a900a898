//! A hash map that is cheap to clone and to change a little: the storage of every snapshot.
//!
//! Entries live in a fixed number of shards, each behind an `Arc`. Cloning the map copies one
//! pointer; changing an entry copies the shard table (a few hundred pointers) and the one shard
//! that holds the entry, leaving every other shard shared with earlier snapshots. So a snapshot of
//! a million users can be derived from the previous one in microseconds, while lookups stay plain
//! hash-map lookups.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use rustc_hash::{FxBuildHasher, FxHashMap};

const SHARDS: usize = 256;

#[derive(Debug)]
pub struct CowMap<K, V> {
    shards: Arc<Vec<Arc<FxHashMap<K, V>>>>,
    len: usize,
}

impl<K, V> Clone for CowMap<K, V> {
    fn clone(&self) -> Self {
        CowMap {
            shards: Arc::clone(&self.shards),
            len: self.len,
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Default for CowMap<K, V> {
    fn default() -> Self {
        CowMap {
            shards: Arc::new(
                (0..SHARDS)
                    .map(|_| Arc::new(FxHashMap::default()))
                    .collect(),
            ),
            len: 0,
        }
    }
}

/// The shard of a key: the high bits of its hash multiplied by an odd constant, so that the
/// choice of shard is independent of the bits each shard's own table uses.
fn shard_of<Q: Hash + ?Sized>(key: &Q) -> usize {
    let hash = FxBuildHasher.hash_one(key);
    let mixed = (u128::from(hash) * 0x9E37_79B9_7F4A_7C15_u128) >> 64;
    usize::try_from(mixed).unwrap_or(0) % SHARDS
}

impl<K: Hash + Eq + Clone, V: Clone> CowMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shards
            .get(shard_of(key))
            .and_then(|shard| shard.get(key))
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    fn shard_mut<Q: Hash + ?Sized>(&mut self, key: &Q) -> Option<&mut FxHashMap<K, V>> {
        let index = shard_of(key);
        Arc::make_mut(&mut self.shards)
            .get_mut(index)
            .map(Arc::make_mut)
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let previous = self.shard_mut(&key)?.insert(key, value);
        if previous.is_none() {
            self.len += 1;
        }
        previous
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.contains_key(key) {
            return None;
        }
        let removed = self.shard_mut(key)?.remove(key);
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    /// All entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards.iter().flat_map(|shard| shard.iter())
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, value)| value)
    }

    /// The keys whose entries differ between `self` and `other` (present in one only, or with
    /// values that `same` tells apart). Shards the two maps still share are skipped, so after a
    /// few changes this looks at a few shards, not at every entry.
    pub fn changed_keys(&self, other: &Self, same: impl Fn(&V, &V) -> bool) -> Vec<K> {
        let mut out = Vec::new();
        if self.ptr_eq(other) {
            return out;
        }
        for (mine, theirs) in self.shards.iter().zip(other.shards.iter()) {
            if Arc::ptr_eq(mine, theirs) {
                continue;
            }
            for (key, value) in mine.iter() {
                if theirs.get(key).is_none_or(|v| !same(value, v)) {
                    out.push(key.clone());
                }
            }
            out.extend(
                theirs
                    .keys()
                    .filter(|key| !mine.contains_key(*key))
                    .cloned(),
            );
        }
        out
    }

    /// Whether two maps share all their storage (a cheap "certainly unchanged" test).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shards, &other.shards)
    }
}

impl<K: Hash + Eq + Clone, V: Clone> FromIterator<(K, V)> for CowMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut shards: Vec<FxHashMap<K, V>> = (0..SHARDS).map(|_| FxHashMap::default()).collect();
        let mut len = 0;
        for (key, value) in iter {
            if let Some(shard) = shards.get_mut(shard_of(&key))
                && shard.insert(key, value).is_none()
            {
                len += 1;
            }
        }
        CowMap {
            shards: Arc::new(shards.into_iter().map(Arc::new).collect()),
            len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_until_changed() {
        let mut first: CowMap<String, u32> = (0..1000).map(|i| (i.to_string(), i)).collect();
        let second = first.clone();
        assert!(first.ptr_eq(&second));
        first.insert("5".into(), 55);
        first.remove("6");
        first.insert("new".into(), 1);
        assert_eq!(first.get("5"), Some(&55));
        assert_eq!(second.get("5"), Some(&5));
        assert_eq!(second.get("6"), Some(&6));
        assert_eq!(first.get("6"), None);
        assert_eq!((first.len(), second.len()), (1000, 1000));
        assert_eq!(first.iter().count(), 1000);
        assert_eq!(first.remove("missing"), None);
        let mut changed = first.changed_keys(&second, |a, b| a == b);
        changed.sort();
        assert_eq!(
            changed,
            vec!["5".to_owned(), "6".to_owned(), "new".to_owned()]
        );
        assert!(
            second
                .changed_keys(&second.clone(), |a, b| a == b)
                .is_empty()
        );
    }
}
