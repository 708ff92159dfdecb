"""Background workers; each exposes ``run_once()`` so tests drive it step by step."""
