-- Reports: content-free figures recorded as things happen. None of these rows holds text, an address or a
-- record's field, and none is removed when a transcript is purged, so a report gives the same figures after.

-- Who replied in each conversation and when each first did; the earliest is the conversation's first answer.
CREATE TABLE answers (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    first_reply_at  TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
-- Replies sent before this migration, while their messages are still held.
INSERT INTO answers (conversation_id, user_id, first_reply_at)
    SELECT conversation_id, author_id, MIN(created_at) FROM messages
    WHERE direction = 'out' AND author_id IS NOT NULL
    GROUP BY conversation_id, author_id;

-- When each staff member was available: from setting "available" (or signing in) until setting away or
-- offline, signing out or being disabled. An open span has no end yet.
CREATE TABLE availability_spans (
    user_id    TEXT NOT NULL REFERENCES users (id),
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    PRIMARY KEY (user_id, started_at)
);
CREATE INDEX availability_spans_ended ON availability_spans (ended_at);

-- A conversation opened by a contact recognised through a consented record (a returning contact).
ALTER TABLE conversations ADD COLUMN returning_contact INTEGER NOT NULL DEFAULT 0;
-- A conversation opened while the helpline was closed (outside its opening hours).
ALTER TABLE conversations ADD COLUMN out_of_hours INTEGER NOT NULL DEFAULT 0;
-- Conversations linked to a record made before they opened were returning contacts.
UPDATE conversations SET returning_contact = 1
    WHERE record_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM records r WHERE r.id = conversations.record_id AND r.created_at < conversations.created_at);

CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX escalations_raised ON escalations (raised_at);
CREATE INDEX disclosures_requested ON disclosures (requested_at);
