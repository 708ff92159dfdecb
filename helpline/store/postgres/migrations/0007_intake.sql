-- Inbound messages accepted from a provider's webhook and not yet routed into a conversation
-- (core/intake.py). A row is committed before the webhook is answered and deleted in the same transaction
-- that stores its message, so a message is always in exactly one of the two places. Everything about the
-- message (sender, provider id, text) is sealed in one envelope under a master key subkey, bound to `id`.
CREATE TABLE intake (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- arrival order: routed oldest first
    id          text NOT NULL UNIQUE,                             -- random, the envelope's context
    accepted_at timestamptz NOT NULL,
    sealed      bytea NOT NULL,
    attempts    integer NOT NULL DEFAULT 0                        -- routings that failed; set aside after a few
);
