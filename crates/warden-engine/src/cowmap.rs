//! A hash map that is cheap to clone and to change a little: the storage of every snapshot.
//!
//! Entries live in [`LEAVES`] small hash maps (leaves) under a two-level table of `Arc`s: a root
//! of [`FANOUT`] branches, each of [`FANOUT`] leaves. Cloning the map copies one pointer;
//! changing an entry copies the root and one branch (2 × 64 pointers) and the one leaf that holds
//! the entry — about 1/4096 of the entries — leaving everything else shared with earlier
//! snapshots. So a snapshot of a million users is derived from the previous one in microseconds
//! (a leaf holds ~250 of them), while a lookup is two pointer hops and a plain hash-map lookup.
//! Leaves and branches not yet written share one empty instance, so an empty map costs three
//! allocations, not four thousand.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use rustc_hash::{FxBuildHasher, FxHashMap};

/// Branches of the root, and leaves of a branch.
const FANOUT: usize = 64;
/// Leaves in all.
pub const LEAVES: usize = FANOUT * FANOUT;

type Leaf<K, V> = Arc<FxHashMap<K, V>>;
type Branch<K, V> = Arc<Vec<Leaf<K, V>>>;

#[derive(Debug)]
pub struct CowMap<K, V> {
    root: Arc<Vec<Branch<K, V>>>,
    len: usize,
}

impl<K, V> Clone for CowMap<K, V> {
    fn clone(&self) -> Self {
        CowMap {
            root: Arc::clone(&self.root),
            len: self.len,
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Default for CowMap<K, V> {
    fn default() -> Self {
        let leaf: Leaf<K, V> = Arc::new(FxHashMap::default());
        let branch: Branch<K, V> = Arc::new(vec![leaf; FANOUT]);
        CowMap {
            root: Arc::new(vec![branch; FANOUT]),
            len: 0,
        }
    }
}

/// The leaf of a key, as (branch, leaf within it): the high bits of its hash multiplied by an
/// odd constant, so that the choice of leaf is independent of the bits each leaf's own table
/// uses.
fn leaf_of<Q: Hash + ?Sized>(key: &Q) -> (usize, usize) {
    let hash = FxBuildHasher.hash_one(key);
    let mixed = (u128::from(hash) * 0x9E37_79B9_7F4A_7C15_u128) >> 64;
    let index = usize::try_from(mixed).unwrap_or(0) % LEAVES;
    (index / FANOUT, index % FANOUT)
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
        let (branch, leaf) = leaf_of(key);
        self.root
            .get(branch)
            .and_then(|branch| branch.get(leaf))
            .and_then(|leaf| leaf.get(key))
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// The leaf of `key`, made this map's own (copied if shared, with the path to it).
    fn leaf_mut<Q: Hash + ?Sized>(&mut self, key: &Q) -> Option<&mut FxHashMap<K, V>> {
        let (branch, leaf) = leaf_of(key);
        let branch = Arc::make_mut(&mut self.root).get_mut(branch)?;
        Arc::make_mut(branch).get_mut(leaf).map(Arc::make_mut)
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let previous = self.leaf_mut(&key)?.insert(key, value);
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
        let removed = self.leaf_mut(key)?.remove(key);
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    fn leaves(&self) -> impl Iterator<Item = &Leaf<K, V>> {
        self.root.iter().flat_map(|branch| branch.iter())
    }

    /// All entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.leaves().flat_map(|leaf| leaf.iter())
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, value)| value)
    }

    /// The keys whose entries differ between `self` and `other` (present in one only, or with
    /// values that `same` tells apart). Branches and leaves the two maps still share are
    /// skipped, so after a few changes this looks at a few leaves, not at every entry.
    pub fn changed_keys(&self, other: &Self, same: impl Fn(&V, &V) -> bool) -> Vec<K> {
        let mut out = Vec::new();
        if self.ptr_eq(other) {
            return out;
        }
        for (mine, theirs) in self.root.iter().zip(other.root.iter()) {
            if Arc::ptr_eq(mine, theirs) {
                continue;
            }
            for (mine, theirs) in mine.iter().zip(theirs.iter()) {
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
        }
        out
    }

    /// Whether two maps share all their storage (a cheap "certainly unchanged" test).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.root, &other.root)
    }
}

impl<K: Hash + Eq + Clone, V: Clone> FromIterator<(K, V)> for CowMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = CowMap::default();
        for (key, value) in iter {
            map.insert(key, value);
        }
        map
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

    #[test]
    fn a_change_copies_one_leaf_and_its_path() {
        let first: CowMap<u32, u32> = (0..20_000).map(|i| (i, i)).collect();
        assert_eq!(first.len(), 20_000);
        let mut second = first.clone();
        second.insert(7, 70);
        second.insert(20_000, 1);
        let shared = first
            .leaves()
            .zip(second.leaves())
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        assert!(shared >= LEAVES - 2, "{shared} of {LEAVES} leaves shared");
        let mut changed = second.changed_keys(&first, |a, b| a == b);
        changed.sort_unstable();
        assert_eq!(changed, vec![7, 20_000]);
        assert_eq!((first.get(&7), second.get(&7)), (Some(&7), Some(&70)));
        let mut keys: Vec<u32> = second.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..=20_000).collect::<Vec<_>>());
        let empty: CowMap<u32, u32> = CowMap::new();
        assert_eq!(
            (empty.len(), empty.iter().count(), empty.get(&1)),
            (0, 0, None)
        );
    }
}
