-- Safeguarding: escalations raised by volunteers, supervisors' whispers, and break-glass disclosures.
-- Notes and decisions are sealed under the conversation's data key; the audit log carries the reasons.

CREATE TABLE escalations (
    id                 text PRIMARY KEY,
    conversation_id    text NOT NULL REFERENCES conversations (id),
    category           text NOT NULL,
    level              text NOT NULL CHECK (level IN ('concern', 'significant_harm', 'immediate_danger')),
    note               bytea NOT NULL,
    state              text NOT NULL CHECK (state IN ('raised', 'acknowledged', 'decided', 'closed')),
    raised_by          text NOT NULL REFERENCES users (id),
    raised_at          timestamptz NOT NULL,
    acknowledged_by    text REFERENCES users (id),
    acknowledged_at    timestamptz,
    decision           text CHECK (decision IN ('advice_given', 'referred', 'emergency_services', 'no_further_action')),
    decision_note      bytea,
    decided_by         text REFERENCES users (id),
    decided_at         timestamptz,
    closed_by          text REFERENCES users (id),
    closed_at          timestamptz,
    next_alert_at      timestamptz,     -- when an unacknowledged escalation alerts again
    alerts             integer NOT NULL DEFAULT 1,
    oncall_notified_at timestamptz
);
CREATE INDEX escalations_conversation ON escalations (conversation_id);
-- Only raised, unacknowledged escalations are ever looked for by alert time.
CREATE INDEX escalations_due ON escalations (next_alert_at) WHERE state = 'raised';
CREATE INDEX escalations_open ON escalations (state) WHERE state != 'closed';

-- A supervisor's message to the volunteer holding a conversation: never sent to the contact.
CREATE TABLE whispers (
    id              text PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id),
    author_id       text NOT NULL REFERENCES users (id),
    body            bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    pos             bigint GENERATED ALWAYS AS IDENTITY   -- insertion order, for whispers written in one instant
);
CREATE INDEX whispers_conversation ON whispers (conversation_id, created_at);

-- Break-glass: a request to see a contact's address for emergency services, approved by a second supervisor.
CREATE TABLE disclosures (
    id              text PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id),
    escalation_id   text REFERENCES escalations (id),
    requested_by    text NOT NULL REFERENCES users (id),
    requested_at    timestamptz NOT NULL,
    reason          text NOT NULL,
    state           text NOT NULL CHECK (state IN ('requested', 'approved', 'refused', 'shown')),
    decided_by      text REFERENCES users (id),
    decided_at      timestamptz,
    shown_at        timestamptz
);
CREATE INDEX disclosures_conversation ON disclosures (conversation_id);

-- Supervisors who joined a conversation to write to the contact themselves.
CREATE TABLE participants (
    conversation_id text NOT NULL REFERENCES conversations (id),
    user_id         text NOT NULL REFERENCES users (id),
    joined_at       timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- Finding an actor's recent entries about one object (e.g. not auditing every refresh of a monitored conversation).
CREATE INDEX audit_object ON audit (object_id, action, actor);

-- Notifications to staff (the on-call supervisor): ids and counts only, never a contact's details. The
-- recipient is read from config when sending, so no staff address is stored either.
CREATE TABLE staff_notifications (
    id              text PRIMARY KEY,
    channel         text NOT NULL,
    body            text NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX staff_notifications_due ON staff_notifications (next_attempt_at) WHERE state = 'pending';
