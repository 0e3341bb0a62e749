//! `RestartByID`'s coalescing, as one platform process keeps it: a request
//! sets `pending`; if a cycle is running it returns, otherwise its caller
//! runs cycles while `pending` was set at the top of the loop — so N
//! concurrent requests make at most 2 cycles. The simulated platform and
//! the Postgres stress test's platform both run restarts through it.

use std::collections::BTreeMap;

use reconciler_core::InstanceId;

/// One workspace's entry; it exists while a cycle runs.
#[derive(Clone, Debug, Default)]
struct Entry {
    running: bool,
    pending: bool,
    /// The instance the latest request named (hardened platform only).
    proven: Option<InstanceId>,
}

/// The coalescing map of one process, keyed by workspace (or by replica and
/// workspace where one map serves several processes: entries never
/// coalesce across keys).
#[derive(Debug)]
pub struct Coalescing<K> {
    entries: BTreeMap<K, Entry>,
}

impl<K> Default for Coalescing<K> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> Coalescing<K> {
    /// A restart of `key` is requested, naming the instance its flip proved
    /// dead. True when no cycle is running: the caller must start the loop
    /// (which then calls [`Self::next_cycle`] until it says stop).
    pub fn request(&mut self, key: &K, proven: Option<&InstanceId>) -> bool {
        let e = self.entries.entry(key.clone()).or_default();
        e.pending = true;
        e.proven = proven.cloned();
        !std::mem::replace(&mut e.running, true)
    }

    /// The top of the loop: `Some(proven)` when a request is pending (it is
    /// taken: one more cycle runs), `None` when none is (the entry goes, so
    /// the map holds only the restarts in flight, and the loop ends).
    ///
    /// # Panics
    /// When no loop of `key` was started: a running loop keeps its entry.
    pub fn next_cycle(&mut self, key: &K) -> Option<Option<InstanceId>> {
        let e = self
            .entries
            .get_mut(key)
            .expect("a running restart keeps its coalescing entry");
        if !e.pending {
            self.entries.remove(key);
            return None;
        }
        e.pending = false;
        Some(e.proven.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_while_a_cycle_runs_make_one_more_cycle() {
        let mut c = Coalescing::default();
        assert!(c.request(&1, None), "the first request starts the loop");
        assert_eq!(c.next_cycle(&1), Some(None));
        for _ in 0..5 {
            assert!(!c.request(&1, Some(&InstanceId::from("i-2"))));
        }
        assert_eq!(c.next_cycle(&1), Some(Some(InstanceId::from("i-2"))));
        assert_eq!(c.next_cycle(&1), None, "nothing pending: the loop ends");
        assert!(c.request(&1, None), "a later request starts a new loop");
    }

    #[test]
    fn keys_never_coalesce() {
        let mut c = Coalescing::default();
        assert!(c.request(&1, None));
        assert!(c.request(&2, None));
        assert!(!c.request(&1, None));
    }
}
