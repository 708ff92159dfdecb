-- Why a conversation is as urgent as it is: the category and lexicon reason of the signal that raised its
-- priority last, sealed under the conversation's data key (it says what the contact wrote about, never the
-- words). Shown on the queue row, so that a volunteer sees why before opening it.
ALTER TABLE conversations ADD COLUMN risk_why bytea;
