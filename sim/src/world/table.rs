//! The simulated `workspaces` table and how it answers the candidate query.

use std::collections::BTreeMap;

use reconciler_core::{Candidate, CandidateQuery, Order, WorkspaceId};

use crate::row::Row;

/// Rows by id (a `BTreeMap`, so `ORDER BY id` is its natural order and
/// iteration is deterministic).
#[derive(Clone, Debug, Default)]
pub struct Table {
    rows: BTreeMap<WorkspaceId, Row>,
}

impl Table {
    /// Inserts or replaces a row.
    pub fn insert(&mut self, row: Row) {
        self.rows.insert(row.id.clone(), row);
    }

    /// The row with this id.
    pub fn get(&self, id: &WorkspaceId) -> Option<&Row> {
        self.rows.get(id)
    }

    /// Deletes a row.
    pub fn remove(&mut self, id: &WorkspaceId) -> Option<Row> {
        self.rows.remove(id)
    }

    /// Updates a row in place and returns it afterwards (`None`: no row, so
    /// nothing was written — as an `UPDATE` matching no row).
    pub fn update(&mut self, id: &WorkspaceId, f: impl FnOnce(&mut Row)) -> Option<Row> {
        let row = self.rows.get_mut(id)?;
        f(row);
        Some(row.clone())
    }

    /// All rows in id order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.values()
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
            .values()
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
