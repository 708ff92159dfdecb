"""``helpline bench``: the real server under load, measured against a bare aiohttp endpoint and a durable
reference on the same machine.

Each server runs in a child process of its own (``helpline serve`` on a fresh data directory; with
``--instances N``, N of them on one PostgreSQL database), so the load generator never shares their event
loop. Everything stays on 127.0.0.1 and every phase is bounded in count and time. ``run.py`` drives the
phases; ``references.py`` measures the ceiling (``ceiling.py``) and the durable reference (``durable.py``);
``report.py`` writes the figures.
"""
