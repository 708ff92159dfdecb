"""Reading what a request sends: JSON bodies, text fields and ids, each refused with a clear 400."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from helpline import strict_json
from helpline.errors import InvalidInput, NotFound

_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_JSON_BYTES = 64 * 1024


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a clear 400."""
    if request.content_type != "application/json":
        raise InvalidInput("Send JSON (Content-Type: application/json).")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise InvalidInput("The request is too large.")
    raw = await request.read()
    if len(raw) > MAX_JSON_BYTES:
        raise InvalidInput("The request is too large.")
    try:
        data = strict_json.loads(raw) if raw else {}
    except strict_json.UnusableJsonError as exc:
        if exc.reason == strict_json.NOT_JSON:
            raise InvalidInput("The request body is not valid JSON.") from None
        raise InvalidInput(f"The request body cannot be used: {exc.reason}.") from None
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return data


def text_field(data: dict[str, Any], name: str, *, max_chars: int = 10_000, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"The field '{name}' is required and must be text.")
    if len(value) > max_chars:
        raise InvalidInput(f"The field '{name}' is too long.")
    return value


def optional_text(data: dict[str, Any], name: str, *, max_chars: int = 200) -> str | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    return text_field(data, name, max_chars=max_chars)


def bool_field(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"The field '{name}' must be true or false.")
    return value


def int_field(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"The field '{name}' is required and must be a whole number.")
    return value


def path_id(request: web.Request, name: str, what: str = "conversation") -> str:
    value = request.match_info[name]
    if not _ID.match(value):
        raise NotFound(f"There is no such {what}.")
    return value
