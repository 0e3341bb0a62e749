-- Every write to `workspaces`, with the row before and after, recorded by a
-- trigger in the writing transaction, so that a test can check the real
-- history of the table (who wrote what, in which transaction, when) against
-- the oracle instead of trusting any actor's own account.
--
-- `seq` is the order in which the writes happened, not the order of commit;
-- two writes to the same row are serialized by its row lock, so per row the
-- two orders agree. A row image is present exactly when its `*_status` is not
-- NULL (status is NOT NULL in `workspaces`): no old image for INSERT, no new
-- image for DELETE.
CREATE TABLE workspaces_audit (
    seq              bigserial PRIMARY KEY,
    op               text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
    id               text COLLATE "C" NOT NULL,
    old_status       text NULL,
    old_instance_id  text NULL,
    old_runtime      text NULL,
    old_updated_at   timestamptz NULL,
    new_status       text NULL,
    new_instance_id  text NULL,
    new_runtime      text NULL,
    new_updated_at   timestamptz NULL,
    txid             bigint NOT NULL,
    -- The real instant of the write, and the start of its transaction
    -- (which is what now() and so `updated_at` use).
    clock_ts         timestamptz NOT NULL,
    tx_ts            timestamptz NOT NULL,
    -- 'reconciler' for the store under test; the actors use other names.
    application_name text NOT NULL
);

CREATE FUNCTION workspaces_audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO workspaces_audit (op, id,
            new_status, new_instance_id, new_runtime, new_updated_at,
            txid, clock_ts, tx_ts, application_name)
        VALUES (TG_OP, NEW.id,
            NEW.status, NEW.instance_id, NEW.runtime, NEW.updated_at,
            txid_current(), clock_timestamp(), transaction_timestamp(),
            current_setting('application_name'));
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO workspaces_audit (op, id,
            old_status, old_instance_id, old_runtime, old_updated_at,
            new_status, new_instance_id, new_runtime, new_updated_at,
            txid, clock_ts, tx_ts, application_name)
        VALUES (TG_OP, NEW.id,
            OLD.status, OLD.instance_id, OLD.runtime, OLD.updated_at,
            NEW.status, NEW.instance_id, NEW.runtime, NEW.updated_at,
            txid_current(), clock_timestamp(), transaction_timestamp(),
            current_setting('application_name'));
    ELSE
        INSERT INTO workspaces_audit (op, id,
            old_status, old_instance_id, old_runtime, old_updated_at,
            txid, clock_ts, tx_ts, application_name)
        VALUES (TG_OP, OLD.id,
            OLD.status, OLD.instance_id, OLD.runtime, OLD.updated_at,
            txid_current(), clock_timestamp(), transaction_timestamp(),
            current_setting('application_name'));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER workspaces_audit
AFTER INSERT OR UPDATE OR DELETE ON workspaces
FOR EACH ROW EXECUTE FUNCTION workspaces_audit_row();
