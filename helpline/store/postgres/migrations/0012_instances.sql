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

-- Web chat's rate limits, for the helpline as a whole (store/postgres/limits.py): a token bucket per limit and
-- key (a keyed HMAC of a network, or a hash of a random chat address). Unlogged: a crash forgets the counters.
CREATE UNLOGGED TABLE limit_buckets (
    name       text NOT NULL,
    key        bytea NOT NULL,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (name, key)
);
-- Chats that ended, so that every instance refuses their tokens until the tokens expire (a hash of the chat's
-- random address).
CREATE TABLE ended_chats (
    key   bytea PRIMARY KEY,
    until timestamptz NOT NULL
);
