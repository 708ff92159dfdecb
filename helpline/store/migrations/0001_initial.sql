-- The first schema. Identifiers are never stored: only keyed HMACs (routes, inbound_seen) and
-- ciphertexts sealed under each conversation's own data key (vault.address, messages.body).

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('volunteer', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    channel       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
    assignee_id   TEXT REFERENCES users (id),
    priority      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    waiting_since TEXT NOT NULL,
    closed_at     TEXT,
    outcome       TEXT,
    data_key      BLOB,            -- the conversation's data key, wrapped; NULL once shredded
    kek_version   INTEGER,         -- the master key version that wrapped it (for rotation)
    last_seq      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_queue ON conversations (status, priority DESC, waiting_since);
CREATE INDEX conversations_assignee ON conversations (assignee_id, status);

-- The routing pseudonym: HMAC(k_route, channel || address) of an open conversation's sender.
CREATE TABLE routes (
    pseudonym       BLOB PRIMARY KEY,
    conversation_id TEXT NOT NULL UNIQUE REFERENCES conversations (id)
);

-- The reply address, sealed under the conversation's data key; deleted when the conversation closes.
CREATE TABLE vault (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id),
    address         BLOB NOT NULL
);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    author_id       TEXT REFERENCES users (id),
    body            BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    delivery        TEXT,
    delivery_error  TEXT,          -- a provider error code, never its message text
    provider_id     BLOB,          -- the provider's message id, sealed under the conversation's data key
    UNIQUE (conversation_id, seq)
);

-- HMAC(k_idem, channel || provider message id) of every inbound message taken.
CREATE TABLE inbound_seen (
    key     BLOB PRIMARY KEY,
    seen_at TEXT NOT NULL
);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE REFERENCES messages (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    channel         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_conversation ON outbox (conversation_id, state);

-- Append-only, hash-chained: hash = SHA-256(prev_hash || canonical entry).
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object_id TEXT,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
