-- Which master key versions each running instance holds and uses (store/postgres/instance_keys.py), so that
-- `helpline keys rotate` makes a new version current only once every instance can open what it seals. Version
-- numbers, a random instance id, the host's name and process id, and a time: never a key. Unlogged: a crash
-- forgets the rows, and the instances write them again within a second.
CREATE UNLOGGED TABLE instance_keys (
    instance text PRIMARY KEY,
    host     text NOT NULL,
    versions integer[] NOT NULL,
    in_use   integer NOT NULL,
    seen_at  timestamptz NOT NULL
);
