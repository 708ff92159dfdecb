"""Reading outside JSON: too deep, lone surrogates (in keys too) and non-JSON are refused with a reason."""

from __future__ import annotations

import pytest

from helpline import strict_json


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 40_000 + "]" * 40_000, "nested too deeply"),
        ("[" * 33 + "]" * 33, "nested too deeply"),
        ('{"a": "\\ud800"}', "not valid Unicode"),
        ('{"\\udfff": 1}', "not valid Unicode"),
        ('[["ok", {"deep": ["\\ud83d"]}]]', "not valid Unicode"),
        ("{not json", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
    ],
)
def test_unusable_json_is_refused_with_its_reason(text: str | bytes, reason: str) -> None:
    """Each kind of unusable input raises UnusableJsonError naming what is wrong."""
    with pytest.raises(strict_json.UnusableJsonError) as refused:
        strict_json.loads(text)
    assert reason in refused.value.reason


def test_usable_json_passes_unchanged() -> None:
    """Nesting to the limit, emoji (a valid surrogate pair in JSON) and plain values come back as parsed."""
    deep = "[" * 32 + "]" * 32
    assert strict_json.loads(deep) is not None
    assert strict_json.loads('{"body": "\\ud83d\\ude00 ok"}') == {"body": "\U0001f600 ok"}
