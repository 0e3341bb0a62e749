-- The platform's event table, as far as the offline handler uses it: the
-- flip (`onWorkspaceOffline`) inserts one `WORKSPACE_OFFLINE` row per call
-- before it starts the restart. Counting these rows is how a Postgres run
-- sees each flip of the merged reconciler, which writes no status.
--
-- No foreign key to `workspaces`: the platform records the event even for a
-- workspace deleted a moment before (the `legacy` reconciler flips such
-- rows), and a delete must not erase the history of its flips.
CREATE TABLE structure_events (
    id           bigserial PRIMARY KEY,
    workspace_id text COLLATE "C" NOT NULL,
    event_type   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
