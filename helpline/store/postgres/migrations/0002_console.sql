-- The console for a whole shift: presence and capacity, two-factor sign-in, sign-in throttling, handover and
-- private notes, consented records, blocks, canned responses, and settings an admin changes at run time.

ALTER TABLE users ADD COLUMN availability text NOT NULL DEFAULT 'offline'
    CHECK (availability IN ('available', 'away', 'offline'));
ALTER TABLE users ADD COLUMN totp_secret bytea;       -- sealed under a server subkey; NULL when not enrolled
ALTER TABLE users ADD COLUMN totp_pending bytea;      -- an enrolment not yet confirmed
ALTER TABLE users ADD COLUMN totp_last_step bigint;   -- the last time step accepted: a code works once
ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_at timestamptz;
ALTER TABLE users ADD COLUMN locked integer NOT NULL DEFAULT 0;

-- Kept only when the contact consents; every field sealed under the record's own data key.
CREATE TABLE records (
    id              text PRIMARY KEY,
    data_key        bytea,                -- wrapped; NULL once shredded
    kek_version     integer,
    blind_index     bytea,                -- HMAC(k_blind, channel || address): finds a returning contact
    name            bytea NOT NULL,
    date_of_birth   bytea NOT NULL,
    contact_details bytea NOT NULL,
    summary         bytea NOT NULL,
    consent_wording text NOT NULL,        -- the exact question the contact agreed to
    consented_at    timestamptz NOT NULL,
    created_by      text NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL
);
CREATE INDEX records_blind_index ON records (blind_index) WHERE blind_index IS NOT NULL;

ALTER TABLE conversations ADD COLUMN record_id text REFERENCES records (id);
ALTER TABLE conversations ADD COLUMN contact_type text;
ALTER TABLE conversations ADD COLUMN missing_type text;

-- Private notes and handover notes: staff only, never sent; sealed under the conversation's data key.
CREATE TABLE notes (
    id              text PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id),
    author_id       text NOT NULL REFERENCES users (id),
    kind            text NOT NULL CHECK (kind IN ('note', 'handover')),
    body            bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    pos             bigint GENERATED ALWAYS AS IDENTITY   -- insertion order, for notes written in one instant
);
CREATE INDEX notes_conversation ON notes (conversation_id, created_at);

-- A blocked sender, by routing pseudonym (never the address), until it expires or a supervisor lifts it.
CREATE TABLE blocks (
    id              text PRIMARY KEY,
    pseudonym       bytea NOT NULL,
    conversation_id text NOT NULL REFERENCES conversations (id),
    reason          text NOT NULL,
    created_by      text NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    lifted_by       text REFERENCES users (id),
    lifted_at       timestamptz
);
CREATE INDEX blocks_pseudonym ON blocks (pseudonym);

CREATE TABLE canned_responses (
    id         text PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    title      text NOT NULL,
    body       text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Settings an admin changes in the console (e.g. opening hours), as JSON, over config/default.toml.
CREATE TABLE runtime_settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL
);
