-- The first schema, for PostgreSQL (the SQLite one is helpline/store/migrations/0001_initial.sql). Identifiers
-- are never stored: only keyed HMACs (routes, inbound_seen) and ciphertexts sealed under each conversation's own
-- data key (vault.address, messages.body).

CREATE TABLE users (
    id            text PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('volunteer', 'supervisor', 'admin')),
    password_hash text NOT NULL,
    disabled      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);

CREATE TABLE conversations (
    id            text PRIMARY KEY,
    channel       text NOT NULL,
    status        text NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
    assignee_id   text REFERENCES users (id),
    priority      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    waiting_since timestamptz NOT NULL,
    closed_at     timestamptz,
    outcome       text,
    data_key      bytea,           -- the conversation's data key, wrapped; NULL once shredded
    kek_version   integer,         -- the master key version that wrapped it (for rotation)
    last_seq      integer NOT NULL DEFAULT 0
);
CREATE INDEX conversations_queue ON conversations (status, priority DESC, waiting_since);
CREATE INDEX conversations_assignee ON conversations (assignee_id, status);

-- The routing pseudonym: HMAC(k_route, channel || address) of an open conversation's sender. Its primary key is
-- what makes two first messages from one new sender open one conversation, not two.
CREATE TABLE routes (
    pseudonym       bytea PRIMARY KEY,
    conversation_id text NOT NULL UNIQUE REFERENCES conversations (id)
);

-- The reply address, sealed under the conversation's data key; deleted when the conversation closes.
CREATE TABLE vault (
    conversation_id text PRIMARY KEY REFERENCES conversations (id),
    address         bytea NOT NULL
);

CREATE TABLE messages (
    id              text PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id),
    seq             integer NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    author_id       text REFERENCES users (id),
    body            bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    delivery        text,
    delivery_error  text,          -- a provider error code, never its message text
    provider_id     bytea,         -- the provider's message id, sealed under the conversation's data key
    UNIQUE (conversation_id, seq)
);

-- HMAC(k_idem, channel || provider message id) of every inbound message taken.
CREATE TABLE inbound_seen (
    key     bytea PRIMARY KEY,
    seen_at timestamptz NOT NULL
);

CREATE TABLE outbox (
    id              text PRIMARY KEY,
    message_id      text NOT NULL UNIQUE REFERENCES messages (id),
    conversation_id text NOT NULL REFERENCES conversations (id),
    channel         text NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL
);
-- Only unfinished items are ever looked for by time.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_conversation ON outbox (conversation_id, state);

-- Append-only, hash-chained: hash = SHA-256(prev_hash || canonical entry).
CREATE TABLE audit (
    seq       bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    object_id text,
    detail    text NOT NULL,
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL
);

-- The chain's head: one row, locked by every append, so appends are serialised and the chain never forks.
CREATE TABLE audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO audit_head (one, seq, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));
