"""A master key rotation reaches every running instance, each reading its own copy of the key file as on its own
host: real ``helpline serve`` processes on one PostgreSQL database, and the real ``helpline keys rotate``."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from helpline.crypto.envelope import key_version
from helpline.testing.twilio_api import FakeTwilio
from tests.instances import HELPLINE, Console
from tests.test_instances import Cluster, eventually

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(240)]
TIMEOUT = 60


def deliver(source: Path, target: Path) -> None:
    """What an operator's copy to another host does: the new file, whole, in place of the old one."""
    temporary = target.with_name(target.name + ".copy")
    shutil.copyfile(source, temporary)
    temporary.chmod(0o600)
    os.replace(temporary, target)


async def newest_key_version(cluster: Cluster) -> int:
    """The master key version that wraps the newest conversation's data key."""
    wrapped = await cluster.value("SELECT data_key FROM conversations ORDER BY created_at DESC LIMIT 1")
    return key_version(bytes(wrapped))


async def read_at(console: Console, conversation_id: str) -> list[str]:
    status, data = await console.get(f"/api/conversations/{conversation_id}")
    assert status == 200, data
    return [m["body"] for m in data["messages"] if m["direction"] == "in"]


async def newest_conversation(cluster: Cluster) -> str:
    return str(await cluster.value("SELECT id FROM conversations ORDER BY created_at DESC LIMIT 1"))


async def test_a_key_rotation_reaches_instances_on_hosts_with_their_own_key_file(
    data_dir: Path, database_url: str, fake_twilio: FakeTwilio, unused_tcp_port_factory: Callable[[], int]
) -> None:
    """``keys rotate`` at A's host adds a version but waits for B to hold it (nothing is sealed under it meanwhile);
    once the file is copied to B's host, both use the new version within seconds and read the old and the new."""
    key_a = data_dir / "master.key"
    key_b = data_dir.parent / "host-b" / "master.key"
    key_b.parent.mkdir()
    deliver(key_a, key_b)
    cluster = Cluster(data_dir, database_url, fake_twilio, [unused_tcp_port_factory() for _ in range(2)])
    a, b = cluster.servers
    try:
        await cluster.start(B={"HELPLINE_STORAGE__KEY_FILE": str(key_b)})
        supervisor = await cluster.console(b, "sam", "supervisor")
        opened: dict[str, str] = {}
        assert await cluster.text(a, "+447700900001", "before the rotation") == 200
        opened["before the rotation"] = await newest_conversation(cluster)

        async def both_report() -> bool:
            return bool(await cluster.value("SELECT COUNT(*) FROM instance_keys") == 2)

        await eventually(both_report)
        rotate = await asyncio.create_subprocess_exec(
            HELPLINE,
            "keys",
            "rotate",
            "--config",
            str(cluster.config),
            env=cluster.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert rotate.stdout is not None
        said: list[str] = []
        async with asyncio.timeout(TIMEOUT):
            while not said or "Waiting for 1 instances to hold version 2" not in said[-1]:
                said.append((await rotate.stdout.readline()).decode())
                assert said[-1], said

        # B cannot open version 2 yet: nobody seals under it, at A's host or B's.
        assert await cluster.text(b, "+447700900002", "while B waits for the key") == 200
        opened["while B waits for the key"] = await newest_conversation(cluster)
        assert await newest_key_version(cluster) == 1
        assert await cluster.text(a, "+447700900003", "while A has it") == 200
        opened["while A has it"] = await newest_conversation(cluster)
        assert await newest_key_version(cluster) == 1

        deliver(key_a, key_b)  # the operator copies the file to B's host
        async with asyncio.timeout(TIMEOUT):
            rest = (await rotate.stdout.read()).decode()
            assert await rotate.wait() == 0, "".join(said) + rest
        assert "Master key version 2 is current." in rest

        async def both_use_version_2() -> bool:
            return bool(await cluster.value("SELECT COUNT(*) FROM instance_keys WHERE in_use = 2") == 2)

        await eventually(both_use_version_2)
        for server, body in ((b, "after, at B"), (a, "after, at A")):
            assert await cluster.text(server, f"+44770090001{len(opened)}", body) == 200
            opened[body] = await newest_conversation(cluster)
            assert await newest_key_version(cluster) == 2
        for body, conversation_id in opened.items():
            assert await read_at(supervisor, conversation_id) == [body]
        at_a = await Console.sign_in(a, "sam")
        cluster.consoles.append(at_a)
        for body, conversation_id in opened.items():
            assert await read_at(at_a, conversation_id) == [body]
    finally:
        await cluster.close()
