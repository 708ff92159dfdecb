"""Master key rotation while the server runs: everything stays readable, open conversations keep routing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from helpline import cli
from helpline.core.models import KeyRef
from helpline.crypto import envelope
from helpline.crypto.datakeys import DataKeys
from helpline.crypto.keyring import LOOK_EVERY_SECONDS, Keyring
from helpline.errors import MasterKeyError
from tests.conftest import HELPLINE_NUMBER, PASSWORD, Harness
from tests.lifecycle import close, text_and_take
from tests.test_totp import rfc6238

OPEN_NUMBER = "+447700900811"
RECORD_NUMBER = "+447700900822"
RECORD = {"name": "Jo", "date_of_birth": "2010", "contact_details": "school", "summary": "helped"}


async def keys(harness: Harness, *args: str) -> int:
    """Run `helpline keys …` against the running server's instance, as an operator would from a shell."""
    config = str(harness.data_dir / "helpline.toml")
    return await asyncio.to_thread(cli.main, ["keys", *args, "--config", config])


def key_file(harness: Harness) -> tuple[int, set[str]]:
    """The key file's current version and the versions it holds."""
    loaded = json.loads((harness.data_dir / "master.key").read_text())
    return int(loaded["current"]), set(loaded["keys"])


def versions_in_use(harness: Harness) -> set[int]:
    rows = harness.rows("SELECT kek_version FROM conversations WHERE data_key IS NOT NULL")
    rows += harness.rows("SELECT kek_version FROM records WHERE data_key IS NOT NULL")
    return {row[0] for row in rows}


async def test_rotation_keeps_routing_reading_and_signing_in(harness: Harness) -> None:
    """After rotate, every key is under the new version, and routes, idempotency, records and 2FA all still work."""
    volunteer = await harness.console("amira")
    first = await text_and_take(harness, volunteer, RECORD_NUMBER, "first")
    await close(volunteer, first, consent=True, record=RECORD)
    params = harness.twilio.inbound_sms_params(OPEN_NUMBER, HELPLINE_NUMBER, "ROTATE before the switch")
    assert (await harness.post_webhook("/webhooks/twilio/sms", params)).status == 200
    open_id = str((await (await volunteer.post("/api/queue/take")).json())["id"])
    admin = await harness.console("root", role="admin")
    secret = (await (await admin.post("/api/totp/enrol")).json())["secret"]
    assert (await admin.post("/api/totp/confirm", {"code": rfc6238(secret, harness.clock.now())})).status == 200
    [(old_route,)] = harness.rows("SELECT pseudonym FROM routes WHERE conversation_id = ?", (open_id,))

    assert await keys(harness, "rotate") == 0
    assert key_file(harness) == (2, {"1", "2"})
    assert versions_in_use(harness) == {2}
    [(sealed_totp,)] = harness.rows("SELECT totp_secret FROM users WHERE username = 'root'")
    assert envelope.key_version(bytes(sealed_totp)) == 2
    assert harness.rows("SELECT pseudonym FROM routes WHERE conversation_id = ?", (open_id,)) != [(old_route,)]

    # The same provider message delivered again after the switch is still a duplicate.
    assert (await harness.post_webhook("/webhooks/twilio/sms", params)).status == 200
    assert harness.rows("SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND direction = 'in'", (open_id,)) == [
        (1,)
    ]
    # The open conversation keeps routing, and its transcript reads.
    assert (await harness.text(OPEN_NUMBER, "ROTATE after the switch")).status == 200
    bodies = [m["body"] for m in (await volunteer.conversation(open_id))["messages"]]
    assert "ROTATE before the switch" in bodies and "ROTATE after the switch" in bodies
    # A returning contact's record, indexed under version 1, is still found.
    returning = await text_and_take(harness, volunteer, RECORD_NUMBER, "me again")
    assert harness.rows("SELECT record_id IS NOT NULL FROM conversations WHERE id = ?", (returning,)) == [(1,)]
    # New keys made by the running server use the new version.
    await text_and_take(harness, volunteer, "+447700900833", "new after rotation")
    assert versions_in_use(harness) == {2}
    # Two-factor sign-in opens the resealed seed.
    harness.clock.advance(seconds=30)
    signed_in = await (await harness.console()).client.post(
        "/api/login", json={"username": "root", "password": PASSWORD, "totp": rfc6238(secret, harness.clock.now())}
    )
    assert signed_in.status == 200
    assert await keys(harness, "verify") == 0


async def test_retire_removes_the_old_version_and_open_conversations_still_route(harness: Harness) -> None:
    """Once nothing uses version 1 it is removed from the key file; the open conversation still routes."""
    volunteer = await harness.console("amira")
    open_id = await text_and_take(harness, volunteer, OPEN_NUMBER, "before")
    assert await keys(harness, "rotate") == 0
    assert await keys(harness, "retire", "1") == 0
    assert key_file(harness) == (2, {"2"})
    assert (await harness.text(OPEN_NUMBER, "after retirement")).status == 200
    bodies = [m["body"] for m in (await volunteer.conversation(open_id))["messages"]]
    assert bodies[0] == "before" and bodies[-1] == "after retirement"
    assert harness.rows("SELECT version, retired_at IS NOT NULL FROM key_versions ORDER BY version") == [
        (1, 1),
        (2, 0),
    ]
    assert await keys(harness, "verify") == 0


async def test_retiring_shreds_what_old_backups_hold(harness: Harness) -> None:
    """A database copied before the rotation cannot be opened with the key file once version 1 is retired."""
    volunteer = await harness.console("amira")
    await text_and_take(harness, volunteer, OPEN_NUMBER, "BACKUP secret words")
    # What a backup taken now holds: the conversation's data key wrapped by version 1.
    [(conversation_id, wrapped, version)] = harness.rows("SELECT id, data_key, kek_version FROM conversations")
    assert await keys(harness, "rotate") == 0
    assert await keys(harness, "retire", "1") == 0
    keyring = Keyring.load(harness.data_dir / "master.key")
    assert version == 1
    with pytest.raises(MasterKeyError):
        DataKeys(keyring).check(KeyRef("conversations", conversation_id, bytes(wrapped), version))


async def test_retire_refuses_while_the_version_is_in_use(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    """With keys still wrapped by version 1 (a rotation not yet run), retiring it is refused."""
    volunteer = await harness.console("amira")
    await text_and_take(harness, volunteer, OPEN_NUMBER, "hello")
    path = harness.data_dir / "master.key"
    Keyring.load(path).with_new_version().write_replacing(path)
    assert await keys(harness, "retire", "1") == 2
    assert "still under version 1" in capsys.readouterr().err
    assert key_file(harness) == (2, {"1", "2"})
    assert await keys(harness, "retire", "2") == 2  # the current one


async def test_verify_names_a_key_that_does_not_open(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrapped key altered in the database is named by `keys verify`, which fails."""
    volunteer = await harness.console("amira")
    conversation_id = await text_and_take(harness, volunteer, OPEN_NUMBER, "hello")
    await harness.close()
    [(wrapped,)] = harness.rows("SELECT data_key FROM conversations WHERE id = ?", (conversation_id,))
    altered = bytes(wrapped[:-1]) + bytes([wrapped[-1] ^ 1])
    harness.db.execute("UPDATE conversations SET data_key = ? WHERE id = ?", (altered, conversation_id))
    assert await keys(harness, "verify") == 1
    assert f"conversations {conversation_id}: it does not authenticate" in capsys.readouterr().err


async def test_rotate_refuses_a_key_from_the_environment(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HELPLINE_MASTER_KEY set there is no key file to rotate: it says so and changes nothing."""
    monkeypatch.setenv("HELPLINE_MASTER_KEY", (harness.data_dir / "master.key").read_text())
    assert await keys(harness, "rotate") == 2
    assert "HELPLINE_MASTER_KEY" in capsys.readouterr().err
    assert key_file(harness) == (1, {"1"})


def test_keyring_follows_a_replaced_key_file(tmp_path: Path) -> None:
    """A keyring loaded from a file sees a version added, and one removed, by another writer."""
    path = tmp_path / "master.key"
    Keyring.generate().write_new(path)
    clock = [0.0]
    running = Keyring.load(path, monotonic=lambda: clock[0])
    Keyring.load(path).with_new_version().write_replacing(path)
    assert running.current_version == 1  # it looks at the file at most every LOOK_EVERY_SECONDS
    clock[0] += LOOK_EVERY_SECONDS
    assert running.current_version == 2 and running.versions == [1, 2]
    Keyring.load(path).without_version(1).write_replacing(path)
    clock[0] += LOOK_EVERY_SECONDS
    assert running.versions == [2]
    with pytest.raises(MasterKeyError):
        running.kek(1)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # Asked for a version it does not hold, it looks at the file at once, whenever it last looked.
    Keyring.load(path).with_new_version().write_replacing(path)
    assert len(running.kek(3)) == 32
