"""``helpline deploy``: the reverse proxy and service files for an instance, filled in from its settings."""
