"""Sign-in answers do not tell which usernames exist: an unknown name is delayed and locked exactly as a real one."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse

from helpline.settings import Settings
from tests.conftest import PASSWORD, Harness


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace("auth", network_failures=1000)


async def answer(response: ClientResponse) -> tuple[int, dict[str, Any], str | None]:
    body = dict(await response.json())
    body.pop("request_id", None)
    return response.status, body, response.headers.get("Retry-After")


async def test_existing_and_unknown_names_get_the_same_answers_all_the_way_to_the_lock(harness: Harness) -> None:
    """The same guesses at a real name and an unknown one give the same statuses, bodies and waits, 401 to 423."""
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    console = await harness.console()
    seen: dict[str, list[tuple[int, dict[str, Any], str | None]]] = {"amira": [], "nobody-here": []}
    for _ in range(harness.settings.auth.lock_after * 2 + 2):
        for name, answers in seen.items():
            answers.append(await answer(await console.login(name, "wrong password")))
        wait = seen["amira"][-1][2]
        if wait is not None and seen["amira"][-1][0] == 429:
            harness.clock.advance(seconds=int(wait))
    assert seen["amira"] == seen["nobody-here"]
    statuses = {status for status, _, _ in seen["amira"]}
    assert statuses == {401, 429, 423}


async def test_a_disabled_account_answers_like_a_wrong_password(harness: Harness) -> None:
    """Even the right password of a disabled account gets the answer a wrong one would."""
    admin = await harness.console("ada", role="admin")
    await harness.helpline.accounts.add_user("amira", "volunteer", PASSWORD)
    assert (await admin.post("/api/admin/users/amira/disable")).status == 200
    console = await harness.console()
    disabled = await answer(await console.login("amira"))
    unknown = await answer(await console.login("nobody-here"))
    assert disabled == unknown == (401, {"error": "Wrong username or password."}, None)
