-- Inbound messages accepted from a provider's webhook and not yet routed into a conversation
-- (core/intake.py). A row is committed before the webhook is answered and deleted in the same transaction
-- that stores its message, so a message is always in exactly one of the two places. Everything about the
-- message (sender, provider id, text) is sealed in one envelope under a master key subkey, bound to `id`.
CREATE TABLE intake (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order: routed oldest first
    id TEXT NOT NULL UNIQUE,                -- random, the envelope's context
    accepted_at TEXT NOT NULL,
    sealed BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0     -- routings that failed; a row is set aside after a few
);
