"""``helpline bench``: the real server under load, measured against a bare aiohttp endpoint on the same machine.

The server runs in a child process of its own (``helpline serve`` on a fresh data directory), so the load
generator never shares its event loop. Everything stays on 127.0.0.1 and every phase is bounded in count
and time. ``run.py`` drives the phases; ``report.py`` writes the figures.
"""
