//! The simulated `workspaces` table and how it answers the candidate query.

use reconciler_core::{Candidate, CandidateQuery, InstanceId, Order, WorkspaceId};

use crate::row::Row;

/// Rows in id order (so `ORDER BY id` is their natural order and iteration
/// is deterministic), in a vector searched by id: a fleet is built in id
/// order, so filling it appends, and scanning it is a walk over contiguous
/// memory.
///
/// Next to each row sits a fingerprint of its `instance_id`, so that finding
/// the row that records an instance (which the control plane does on every
/// request) compares integers, not strings, until it has a candidate.
#[derive(Clone, Debug, Default)]
pub struct Table {
    rows: Vec<Row>,
    instance_prints: Vec<u64>,
}

/// The fingerprint of an `instance_id` value (NULL has its own).
fn print(instance: Option<&InstanceId>) -> u64 {
    instance.map_or(0, |i| crate::fnv::hash(i.0.as_bytes()) | 1)
}

impl Table {
    fn position(&self, id: &WorkspaceId) -> Result<usize, usize> {
        match self.rows.last() {
            Some(last) if last.id < *id => Err(self.rows.len()),
            _ => self.rows.binary_search_by(|r| r.id.cmp(id)),
        }
    }

    /// Makes room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
        self.instance_prints.reserve(n);
    }

    /// Inserts or replaces a row.
    pub fn insert(&mut self, row: Row) {
        let p = print(row.instance.as_ref());
        match self.position(&row.id) {
            Ok(i) => {
                self.rows[i] = row;
                self.instance_prints[i] = p;
            }
            Err(i) => {
                self.rows.insert(i, row);
                self.instance_prints.insert(i, p);
            }
        }
        debug_assert!(self.well_formed(), "the table lost its order");
    }

    /// The table's invariant: rows strictly in id order (the keyset reads
    /// and `position`'s binary search rely on it), one instance print per
    /// row, each the print of that row's instance.
    fn well_formed(&self) -> bool {
        self.rows.windows(2).all(|w| w[0].id < w[1].id)
            && self.rows.len() == self.instance_prints.len()
            && self
                .rows
                .iter()
                .zip(&self.instance_prints)
                .all(|(r, p)| *p == print(r.instance.as_ref()))
    }

    /// The row with this id.
    pub fn get(&self, id: &WorkspaceId) -> Option<&Row> {
        self.position(id).ok().map(|i| &self.rows[i])
    }

    /// The first row, in id order, whose `instance_id` is `instance`.
    pub fn holding(&self, instance: &InstanceId) -> Option<&Row> {
        let p = print(Some(instance));
        self.instance_prints
            .iter()
            .zip(&self.rows)
            .find(|(q, r)| **q == p && r.instance.as_ref() == Some(instance))
            .map(|(_, r)| r)
    }

    /// Deletes a row.
    pub fn remove(&mut self, id: &WorkspaceId) -> Option<Row> {
        let i = self.position(id).ok()?;
        self.instance_prints.remove(i);
        Some(self.rows.remove(i))
    }

    /// Updates a row in place and returns it afterwards (`None`: no row, so
    /// nothing was written — as an `UPDATE` matching no row). The update
    /// must not change the row's id.
    pub fn update(&mut self, id: &WorkspaceId, f: impl FnOnce(&mut Row)) -> Option<Row> {
        let i = self.position(id).ok()?;
        let row = &mut self.rows[i];
        f(row);
        debug_assert_eq!(row.id, *id, "an update changed a row's id");
        self.instance_prints[i] = print(row.instance.as_ref());
        Some(row.clone())
    }

    /// The row at position `i` in id order.
    pub fn row_at(&self, i: usize) -> Option<&Row> {
        self.rows.get(i)
    }

    /// All rows in id order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter()
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Evaluates a candidate query as Postgres would: the scope predicate,
    /// the keyset cursor, the order (`updated_at DESC, id` or `id`), `LIMIT`,
    /// and the selected columns.
    pub fn candidates(&self, q: &CandidateQuery) -> Vec<Candidate> {
        let mut hits: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| q.admits(&r.status, r.instance.as_ref(), r.runtime.as_deref()))
            .filter(|r| q.after_cursor(&r.id))
            .collect();
        if q.order == Order::UpdatedAtDesc {
            // Stable sort over id order: ties stay by id, as the Postgres
            // store's `ORDER BY updated_at DESC, id` does.
            hits.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
        }
        hits.into_iter()
            .take(q.limit as usize)
            .map(|r| Candidate {
                id: r.id.clone(),
                instance: if q.capture_instance {
                    r.instance.clone()
                } else {
                    None
                },
            })
            .collect()
    }
}
