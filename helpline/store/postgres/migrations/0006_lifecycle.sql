-- The data lifecycle: retention and crypto-shredding, provider-side deletion, and master key versions.

-- When a closed conversation's transcript was destroyed: its rows deleted and its data key set to NULL. The
-- conversation row itself stays, content-free (channel, times, outcome, classification), for statistics.
ALTER TABLE conversations ADD COLUMN purged_at timestamptz;
CREATE INDEX conversations_closed ON conversations (closed_at) WHERE status = 'closed';

-- When a consented record was destroyed, and why: 'expired' (retention.record_days) or 'erased' (on request).
ALTER TABLE records ADD COLUMN ended_at timestamptz;
ALTER TABLE records ADD COLUMN end_reason text CHECK (end_reason IN ('expired', 'erased'));

CREATE INDEX conversations_record ON conversations (record_id) WHERE record_id IS NOT NULL;
CREATE INDEX inbound_seen_age ON inbound_seen (seen_at);
CREATE INDEX blocks_conversation ON blocks (conversation_id);
-- Messages whose record at the provider may still exist (the provider's id is sealed in provider_id).
CREATE INDEX messages_provider_held ON messages (conversation_id) WHERE provider_id IS NOT NULL;

-- Deleting a message's record at the provider (Twilio), with retries. The provider's id is not copied here:
-- it stays sealed in messages.provider_id under the conversation's data key until the record is deleted.
CREATE TABLE provider_deletions (
    message_id      text PRIMARY KEY REFERENCES messages (id),
    conversation_id text NOT NULL REFERENCES conversations (id),
    channel         text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    queued_at       timestamptz NOT NULL,
    last_error      text            -- the provider's error code, never its message text
);
CREATE INDEX provider_deletions_due ON provider_deletions (next_attempt_at);

-- Master key versions made by `helpline keys rotate`: when each was added, when everything had been rewrapped
-- under it, and when it was retired (removed from the key file). The keys themselves are never here.
CREATE TABLE key_versions (
    version      integer PRIMARY KEY,
    added_at     timestamptz NOT NULL,
    rewrapped_at timestamptz,
    retired_at   timestamptz
);
