"""Opaque random ids for every row the API names: never sequential, never derived from content."""

from __future__ import annotations

import secrets


def new_id() -> str:
    """128 random bits, URL-safe text."""
    return secrets.token_urlsafe(16)
