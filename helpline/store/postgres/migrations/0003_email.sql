-- Email threading. A reply quotes the Message-IDs of the mail it answers; the server finds the
-- conversation by HMAC(k_thread, channel || Message-ID) of the ones it sent itself, never by the id.

-- Thread keys of an open conversation's outgoing mail; deleted with its route when it closes.
CREATE TABLE thread_keys (
    key             bytea PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id)
);
CREATE INDEX thread_keys_conversation ON thread_keys (conversation_id);

-- What a reply needs to stay in the contact's thread (subject, Message-IDs to quote), sealed under the
-- conversation's data key like the address beside it, and deleted with it.
ALTER TABLE vault ADD COLUMN reply_context bytea;
