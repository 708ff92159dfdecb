-- What several instances on one database share (store/postgres/events.py, notifier.py).
-- Each change's events, written in the change's own transaction: kinds, ids and sequence numbers only, never
-- text or addresses. `xid` is the writing transaction's id: readers take rows only once every transaction
-- that could still add a row before them has ended. Rows older than a day are trimmed.
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    kind            text NOT NULL,
    conversation_id text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_position ON events (xid, id);
CREATE INDEX events_created ON events (created_at);
