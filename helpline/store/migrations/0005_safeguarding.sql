-- Safeguarding: escalations raised by volunteers, supervisors' whispers, and break-glass disclosures.
-- Notes and decisions are sealed under the conversation's data key; the audit log carries the reasons.

CREATE TABLE escalations (
    id                 TEXT PRIMARY KEY,
    conversation_id    TEXT NOT NULL REFERENCES conversations (id),
    category           TEXT NOT NULL,
    level              TEXT NOT NULL CHECK (level IN ('concern', 'significant_harm', 'immediate_danger')),
    note               BLOB NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('raised', 'acknowledged', 'decided', 'closed')),
    raised_by          TEXT NOT NULL REFERENCES users (id),
    raised_at          TEXT NOT NULL,
    acknowledged_by    TEXT REFERENCES users (id),
    acknowledged_at    TEXT,
    decision           TEXT CHECK (decision IN ('advice_given', 'referred', 'emergency_services', 'no_further_action')),
    decision_note      BLOB,
    decided_by         TEXT REFERENCES users (id),
    decided_at         TEXT,
    closed_by          TEXT REFERENCES users (id),
    closed_at          TEXT,
    next_alert_at      TEXT,            -- when an unacknowledged escalation alerts again
    alerts             INTEGER NOT NULL DEFAULT 1,
    oncall_notified_at TEXT
);
CREATE INDEX escalations_conversation ON escalations (conversation_id);
CREATE INDEX escalations_open ON escalations (state, next_alert_at);

-- A supervisor's message to the volunteer holding a conversation: never sent to the contact.
CREATE TABLE whispers (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    author_id       TEXT NOT NULL REFERENCES users (id),
    body            BLOB NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX whispers_conversation ON whispers (conversation_id, created_at);

-- Break-glass: a request to see a contact's address for emergency services, approved by a second supervisor.
CREATE TABLE disclosures (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    escalation_id   TEXT REFERENCES escalations (id),
    requested_by    TEXT NOT NULL REFERENCES users (id),
    requested_at    TEXT NOT NULL,
    reason          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'refused', 'shown')),
    decided_by      TEXT REFERENCES users (id),
    decided_at      TEXT,
    shown_at        TEXT
);
CREATE INDEX disclosures_conversation ON disclosures (conversation_id);

-- Supervisors who joined a conversation to write to the contact themselves.
CREATE TABLE participants (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    joined_at       TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- Finding an actor's recent entries about one object (e.g. not auditing every refresh of a monitored conversation).
CREATE INDEX audit_object ON audit (object_id, action, actor);

-- Notifications to staff (the on-call supervisor): ids and counts only, never a contact's details. The
-- recipient is read from config when sending, so no staff address is stored either.
CREATE TABLE staff_notifications (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX staff_notifications_due ON staff_notifications (state, next_attempt_at);
