-- The meaning layer's reading of an inbound message (core/risk_meaning.py): the categories it resembled,
-- the prototype sentence and the strength, as JSON sealed under the conversation's data key (field
-- "meaning", bound to the message row), so it goes with the transcript when the key is destroyed.
-- NULL until the meaning layer has read the message, and when nothing was close in meaning.
ALTER TABLE messages ADD COLUMN meaning BLOB;
