-- Audit entries as their transactions write them, before they are linked into the hash chain. Appending straight
-- onto the chain serialises every auditing transaction on the chain head's row until it commits; here a
-- transaction only inserts its entry (with its canonical bytes, audit/chain.py), and audit_link() moves the
-- committed entries it sees into `audit`, hashing each onto the head in row order. An entry stays here until it
-- is linked, so none is skipped: one committed after a link is taken by the next. It runs every fraction of a
-- second on each instance, and before the chain is read (`audit verify`).
CREATE TABLE audit_pending (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    object_id text,
    detail    text NOT NULL,
    canonical bytea NOT NULL
);

-- Links every entry it may into the chain; returns how many. The head's row lock makes linkers take turns.
CREATE FUNCTION audit_link() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash bytea;
    next_hash bytea;
    entry     record;
    linked    integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_pending) THEN
        RETURN 0;  -- nothing to link: no lock, no write
    END IF;
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head FOR UPDATE;
    FOR entry IN
        -- A fresh snapshot, taken once the head is held: what an earlier linker took is gone.
        SELECT id, at, actor, action, object_id, detail, canonical FROM audit_pending ORDER BY id
    LOOP
        head_seq := head_seq + 1;
        next_hash := sha256(head_hash || entry.canonical);
        INSERT INTO audit (seq, at, actor, action, object_id, detail, prev_hash, hash)
        VALUES (head_seq, entry.at, entry.actor, entry.action, entry.object_id, entry.detail, head_hash, next_hash);
        DELETE FROM audit_pending WHERE id = entry.id;
        head_hash := next_hash;
        linked := linked + 1;
    END LOOP;
    IF linked > 0 THEN
        UPDATE audit_head SET seq = head_seq, hash = head_hash;
    END IF;
    RETURN linked;
END
$$;
