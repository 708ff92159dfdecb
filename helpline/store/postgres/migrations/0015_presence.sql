-- Who has a live console, shared by every instance (store/postgres/presence.py): each instance's latest beat
-- per user whose console socket it holds. User ids and times only. Unlogged: a crash forgets the beats, and the
-- consoles beat again within seconds.
CREATE UNLOGGED TABLE console_presence (
    user_id   text NOT NULL,
    instance  text NOT NULL,
    last_beat timestamptz NOT NULL,
    PRIMARY KEY (user_id, instance)
);
