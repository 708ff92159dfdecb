-- The console for a whole shift: presence and capacity, two-factor sign-in, sign-in throttling, handover and
-- private notes, consented records, blocks, canned responses, and settings an admin changes at run time.

ALTER TABLE users ADD COLUMN availability TEXT NOT NULL DEFAULT 'offline'
    CHECK (availability IN ('available', 'away', 'offline'));
ALTER TABLE users ADD COLUMN totp_secret BLOB;       -- sealed under a server subkey; NULL when not enrolled
ALTER TABLE users ADD COLUMN totp_pending BLOB;      -- an enrolment not yet confirmed
ALTER TABLE users ADD COLUMN totp_last_step INTEGER; -- the last time step accepted: a code works once
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_at TEXT;
ALTER TABLE users ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;

-- Kept only when the contact consents; every field sealed under the record's own data key.
CREATE TABLE records (
    id              TEXT PRIMARY KEY,
    data_key        BLOB,                 -- wrapped; NULL once shredded
    kek_version     INTEGER,
    blind_index     BLOB,                 -- HMAC(k_blind, channel || address): finds a returning contact
    name            BLOB NOT NULL,
    date_of_birth   BLOB NOT NULL,
    contact_details BLOB NOT NULL,
    summary         BLOB NOT NULL,
    consent_wording TEXT NOT NULL,        -- the exact question the contact agreed to
    consented_at    TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL
);
CREATE INDEX records_blind_index ON records (blind_index);

ALTER TABLE conversations ADD COLUMN record_id TEXT REFERENCES records (id);
ALTER TABLE conversations ADD COLUMN contact_type TEXT;
ALTER TABLE conversations ADD COLUMN missing_type TEXT;

-- Private notes and handover notes: staff only, never sent; sealed under the conversation's data key.
CREATE TABLE notes (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    author_id       TEXT NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL CHECK (kind IN ('note', 'handover')),
    body            BLOB NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX notes_conversation ON notes (conversation_id, created_at);

-- A blocked sender, by routing pseudonym (never the address), until it expires or a supervisor lifts it.
CREATE TABLE blocks (
    id              TEXT PRIMARY KEY,
    pseudonym       BLOB NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    lifted_by       TEXT REFERENCES users (id),
    lifted_at       TEXT
);
CREATE INDEX blocks_pseudonym ON blocks (pseudonym);

CREATE TABLE canned_responses (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Settings an admin changes in the console (e.g. opening hours), as JSON, over config/default.toml.
CREATE TABLE runtime_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
