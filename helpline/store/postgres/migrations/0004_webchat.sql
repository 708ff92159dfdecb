-- Web chat. A chat's session token is never stored: the contact's address on this channel is a one-way
-- hash of it, kept like any address (sealed in the vault, found through a keyed-HMAC route) and deleted
-- when the contact leaves. What is kept is how and when the contact left, for the volunteer to see.

-- When the contact ended the chat, used quick exit, or let it time out; NULL while they are still there.
ALTER TABLE conversations ADD COLUMN contact_left_at timestamptz;
-- Why: 'ended' (they ended it), 'quick_exit' (the exit button or Shift three times), 'idle' (timed out).
ALTER TABLE conversations ADD COLUMN contact_left_reason text
    CHECK (contact_left_reason IN ('ended', 'quick_exit', 'idle'));
