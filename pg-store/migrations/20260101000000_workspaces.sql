-- The `workspaces` table, as far as the reconciler and its racing actors use it.
--
-- `id` is text, not uuid as in production: the reconciler only ever reads
-- `id::text`, and text keeps scenario ids such as `ws-1` readable. It is
-- COLLATE "C" so that `ORDER BY id` (and the keyset `id > $n`) compares
-- bytes, which is exactly how Rust's `String` orders, i.e. how the simulated
-- store orders; any linguistic collation would make the two stores disagree
-- on the order of ids like `ws-10` / `ws-9` / `WS-1`.
CREATE TABLE workspaces (
    id          text COLLATE "C" PRIMARY KEY,
    status      text NOT NULL,
    -- NULL (never had one, or the orphan sweeper cleared it) and '' are
    -- different stored values and both legal; the reconciler's scope excludes
    -- both, and the re-confirm reads both as ''.
    instance_id text NULL,
    -- NULL for SaaS workspaces; 'external' rows are never reconciled.
    runtime     text NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
