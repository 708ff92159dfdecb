"""Several real ``helpline serve`` processes on one PostgreSQL database: no instance is special, any one may die.

Each test starts two or three servers on a fresh database with the same config, master key and public URL,
talks to each directly (as a load balancer might send anyone anywhere), and checks what the database holds.
"""

from __future__ import annotations

import asyncio
import json
import signal
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from helpline import cli
from helpline.testing.twilio_api import FakeTwilio
from tests.instances import Console, Server, add_user, environment, text
from tests.private_cluster import PrivateCluster

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(240)]
TIMEOUT = 20


class Cluster:
    """The servers of one test, and the database they share."""

    def __init__(self, data_dir: Path, database_url: str, twilio: FakeTwilio, ports: list[int]) -> None:
        self.config = data_dir / "helpline.toml"
        self.database_url = database_url
        self.twilio = twilio
        self.public_url = f"http://127.0.0.1:{ports[0]}"
        self.env = environment(self.public_url, twilio)
        self.servers = [
            Server(chr(ord("A") + n), self.config, port, self.env, data_dir / f"server-{n}.log")
            for n, port in enumerate(ports)
        ]
        self.consoles: list[Console] = []

    async def start(self, **extra: dict[str, str]) -> None:
        for server in self.servers:
            server.env = {**server.env, **extra.get(server.name, {})}
        await asyncio.gather(*(server.start() for server in self.servers))

    async def console(self, server: Server, username: str, role: str = "volunteer") -> Console:
        await asyncio.to_thread(add_user, self.config, self.env, username, role)
        console = await Console.sign_in(server, username)
        self.consoles.append(console)
        return console

    async def text(self, server: Server, sender: str, body: str) -> int:
        return await text(server, self.twilio, self.public_url, sender, body)

    async def value(self, sql: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def close(self) -> None:
        for console in self.consoles:
            await console.close()
        await asyncio.gather(*(server.stop() for server in self.servers))


@pytest.fixture
def cluster_of(
    data_dir: Path, database_url: str, fake_twilio: FakeTwilio, unused_tcp_port_factory: Callable[[], int]
) -> Callable[[int], Cluster]:
    def make(count: int) -> Cluster:
        return Cluster(data_dir, database_url, fake_twilio, [unused_tcp_port_factory() for _ in range(count)])

    return make


@pytest.fixture
async def two(cluster_of: Callable[[int], Cluster]) -> AsyncIterator[Cluster]:
    cluster = cluster_of(2)
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.close()


async def frame_where(
    socket: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = await socket.receive()
            assert message.type == aiohttp.WSMsgType.TEXT, message
            frame: dict[str, Any] = json.loads(message.data)
            if wanted(frame):
                return frame


async def eventually(check: Callable[[], Any]) -> None:
    """Until ``check()`` (awaited) is true: what another process does shows up a little later."""
    async with asyncio.timeout(TIMEOUT):
        while not await check():  # noqa: ASYNC110 - another process's database: nothing here to wait on
            await asyncio.sleep(0.1)


async def test_a_text_to_one_instance_is_in_another_instances_queue_and_on_its_console_socket(two: Cluster) -> None:
    """A text posted to A is in B's queue, and B's console socket hears of it as it happens."""
    a, b = two.servers
    ben = await two.console(b, "ben")
    socket = await ben.socket()
    assert isinstance((await frame_where(socket, lambda f: f["type"] == "hello"))["seq"], int)
    assert await two.text(a, "+447700900123", "hello from A") == 200
    added = await frame_where(socket, lambda f: f.get("event") == "message.added")
    [waiting] = await ben.queue()
    assert added["conversation_id"] == waiting["id"]
    assert "hello from A" not in json.dumps(added)
    async with ben.session.get(f"{b.url}/metrics") as response:
        counts = dict(line.split(" ", 1) for line in (await response.text()).splitlines() if line[:1] != "#")
    assert float(counts["helpline_events_read_total"]) >= 1 and "helpline_events_listener_reconnects_total" in counts


async def test_a_claim_race_across_instances_has_one_winner(two: Cluster) -> None:
    """Volunteers at A and at B claim the same conversation at once: one gets it, the other is told so."""
    a, b = two.servers
    amira = await two.console(a, "amira")
    ben = await two.console(b, "ben")
    for volunteer in (amira, ben):
        assert (await volunteer.post("/api/me/availability", {"availability": "available"}))[0] == 200
    assert await two.text(b, "+447700900123", "someone please") == 200
    [waiting] = await amira.queue()
    path = f"/api/conversations/{waiting['id']}/claim"
    results = await asyncio.gather(amira.post(path), ben.post(path))
    assert sorted(status for status, _ in results) == [200, 409]
    # One entry, linked into the audit chain by the servers within a fraction of a second.
    claimed = "SELECT COUNT(*) FROM {} WHERE action = 'conversation.claimed'"
    entries = f"SELECT ({claimed.format('audit')}) + ({claimed.format('audit_pending')})"
    assert await two.value(entries) == 1

    async def linked() -> bool:
        return bool(await two.value(claimed.format("audit")) == 1)

    await eventually(linked)


async def test_a_volunteer_whose_console_is_at_one_instance_is_available_at_another(two: Cluster) -> None:
    """Amira's console socket is at A only: within a shift round, B too offers her for a transfer."""
    a, b = two.servers
    amira = await two.console(a, "amira")
    ben = await two.console(b, "ben")
    await amira.socket()

    async def offered_at_b() -> bool:
        status, staff = await ben.get("/api/staff/available")
        return status == 200 and "amira" in [s["username"] for s in staff["volunteers"]]

    await eventually(offered_at_b)


async def test_a_reply_written_at_one_instance_is_sent_exactly_once_while_every_outbox_runs(
    cluster_of: Callable[[int], Cluster],
) -> None:
    """With three instances' outbox workers running, each reply reaches Twilio once."""
    cluster = cluster_of(3)
    try:
        await cluster.start()
        a, b, _ = cluster.servers
        assert await cluster.text(a, "+447700900123", "I need to talk") == 200
        ben = await cluster.console(b, "ben")
        assert (await ben.post("/api/me/availability", {"availability": "available"}))[0] == 200
        status, taken = await ben.post("/api/queue/take")
        assert status == 200, taken
        for n in range(5):
            assert (await ben.post(f"/api/conversations/{taken['id']}/messages", {"body": f"reply {n}"}))[0] == 201

        async def all_sent() -> bool:
            return bool(await cluster.value("SELECT COUNT(*) FROM outbox WHERE state <> 'done'") == 0)

        await eventually(all_sent)
        sent = [m for m in cluster.twilio.messages.values() if m["direction"] == "outbound-api"]
        bodies = sorted(m["body"] for m in sent if m["body"].startswith("reply"))
        assert bodies == [f"reply {n}" for n in range(5)]
    finally:
        await cluster.close()


async def test_kill_9_of_an_instance_while_texts_arrive_loses_nothing(cluster_of: Callable[[int], Cluster]) -> None:
    """A dies mid-burst: every text is stored exactly once (Twilio retries the unanswered at B), and what A had
    accepted but not routed is routed by B."""
    cluster = cluster_of(2)
    # A routes every text through the intake table, so that it dies with accepted texts not yet routed.
    try:
        await cluster.start(A={"HELPLINE_SMS__ROUTE_AT_ONCE": "0"}, B={"HELPLINE_SMS__ORPHAN_AFTER_SECONDS": "1.0"})
        a, b = cluster.servers
        twilio = cluster.twilio
        texts = [(f"+4477009{n % 40:05d}", f"text {n}") for n in range(160)]
        params = [twilio.inbound_sms_params(sender, "+447700900001", body) for sender, body in texts]

        async def post(server: Server, form: dict[str, str]) -> int:
            signature = twilio.sign(f"{cluster.public_url}/webhooks/twilio/sms", form)
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(
                        f"{server.url}/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
                    ) as response,
                ):
                    return response.status
            except aiohttp.ClientError:
                return 0

        third = asyncio.Event()
        answered: list[int] = []

        def count(task: asyncio.Task[int]) -> None:
            answered.append(task.result())
            if answered.count(200) >= len(params) // 6:
                third.set()

        to_a = [asyncio.create_task(post(a, form)) for form in params[::2]]
        for task in to_a:
            task.add_done_callback(count)
        to_b = [asyncio.create_task(post(b, form)) for form in params[1::2]]
        # Once A has answered a third of its texts, it is killed with the rest in flight.
        await asyncio.wait_for(third.wait(), TIMEOUT)
        assert a.process is not None
        a.process.send_signal(signal.SIGSTOP)  # frozen first: what it had accepted stays unrouted
        left = await cluster.value("SELECT COUNT(*) FROM intake")
        a.kill()
        answers_a = await asyncio.gather(*to_a)
        answers_b = await asyncio.gather(*to_b)
        assert set(answers_b) == {200}
        # Twilio retries what got no answer; here it goes to B (a Fallback URL, or the load balancer).
        unanswered = [form for form, status in zip(params[::2], answers_a, strict=True) if status != 200]
        for form in unanswered:
            assert await post(b, form) == 200

        async def all_routed() -> bool:
            intake = await cluster.value("SELECT COUNT(*) FROM intake")
            stored = await cluster.value("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            return bool(intake == 0 and stored >= len(texts))

        await eventually(all_routed)
        assert await cluster.value("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == len(texts)
        assert await cluster.value("SELECT COUNT(*) FROM conversations") == 40
        # A answered texts faster than it routed them (all through the table, in a burst): B routed what it left.
        assert left > 0
    finally:
        await cluster.close()


async def test_opening_hours_saved_at_one_instance_are_in_force_at_another(two: Cluster) -> None:
    """An admin saves the hours at A; within seconds B answers with them (B keeps them in memory)."""
    a, b = two.servers
    at_a = await two.console(a, "ada", role="admin")
    at_b = await Console.sign_in(b, "ada")
    two.consoles.append(at_b)
    days = {"mon": ["09:00-12:00"], "sat": ["10:00-11:00"]}
    status, _ = await at_a.post("/api/admin/hours", {"days": days, "closed_message": "Closed now."})
    assert status == 200

    async def in_force_at_b() -> bool:
        status, hours = await at_b.get("/api/admin/hours")
        return bool(status == 200 and hours["days"]["sat"] == ["10:00-11:00"])

    await eventually(in_force_at_b)


class Contact:
    """A contact's chat page, speaking the chat socket's protocol to one server at a time."""

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url
        self.session = aiohttp.ClientSession()
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.token: str | None = None
        self.messages: dict[int, dict[str, Any]] = {}

    async def connect(self, server: Server) -> dict[str, Any]:
        self.socket = await self.session.ws_connect(f"{server.url}/chat/ws", headers={"Origin": self.public_url})
        await self.socket.send_json({"type": "hello", "token": self.token, "after": max(self.messages, default=0)})
        return await self.next(lambda f: f["type"] == "welcome")

    async def next(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        assert self.socket is not None
        async with asyncio.timeout(TIMEOUT):
            while True:
                message = await self.socket.receive()
                assert message.type == aiohttp.WSMsgType.TEXT, message
                frame: dict[str, Any] = json.loads(message.data)
                if frame["type"] == "session":
                    self.token = frame["token"]
                if frame["type"] == "message":
                    assert frame["seq"] not in self.messages, f"message {frame['seq']} arrived twice"
                    self.messages[frame["seq"]] = frame
                if wanted(frame):
                    return frame

    async def say(self, body: str) -> None:
        assert self.socket is not None
        await self.socket.send_json({"type": "message", "id": f"message-{len(self.messages):04d}", "body": body})
        answer = await self.next(lambda f: f["type"] in ("ack", "error"))
        assert answer["type"] == "ack", answer

    def bodies(self, sender: str) -> list[str]:
        return [m["body"] for _, m in sorted(self.messages.items()) if m["from"] == sender]

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        await self.session.close()


async def test_a_chat_on_one_instance_gets_a_reply_written_at_another_and_resumes_there_when_it_stops(
    two: Cluster,
) -> None:
    """A contact chatting at A hears a volunteer at B, and after A stops goes on at B with nothing missed."""
    a, b = two.servers
    contact = Contact(two.public_url)
    try:
        await contact.connect(a)
        await contact.say("is anyone there")
        ben = await two.console(b, "ben")
        assert (await ben.post("/api/me/availability", {"availability": "available"}))[0] == 200
        status, taken = await ben.post("/api/queue/take")
        assert status == 200, taken
        await contact.next(lambda f: f["type"] == "status" and f.get("state") == "active")
        assert (await ben.post(f"/api/conversations/{taken['id']}/messages", {"body": "I am here"}))[0] == 201
        await contact.next(lambda f: f["type"] == "message" and f["body"] == "I am here")

        await a.stop()
        assert (await ben.post(f"/api/conversations/{taken['id']}/messages", {"body": "still here"}))[0] == 201
        welcome = await contact.connect(b)
        assert welcome["state"] == "active"
        if "still here" not in contact.bodies("volunteer"):
            await contact.next(lambda f: f["type"] == "message" and f["body"] == "still here")
        await contact.say("thank you")
        assert contact.bodies("volunteer") == ["I am here", "still here"]
        assert contact.bodies("you") == ["is anyone there", "thank you"]
    finally:
        await contact.close()


async def test_a_chat_ended_at_one_instance_cannot_be_resumed_at_another(two: Cluster) -> None:
    """The contact ends the chat at A; the same token brought to B is refused as ended."""
    a, b = two.servers
    contact = Contact(two.public_url)
    try:
        await contact.connect(a)
        await contact.say("please help")
        assert contact.socket is not None
        await contact.socket.send_json({"type": "end", "reason": "ended"})
        await contact.next(lambda f: f["type"] == "ended")
        contact.socket = await contact.session.ws_connect(f"{b.url}/chat/ws", headers={"Origin": two.public_url})
        await contact.socket.send_json({"type": "hello", "token": contact.token, "after": 0})
        refused = await contact.next(lambda f: f["type"] in ("welcome", "error"))
        assert (refused["type"], refused.get("code")) == ("error", "ended"), refused
    finally:
        await contact.close()


@pytest.fixture
async def cluster(unused_tcp_port_factory: Callable[[], int]) -> AsyncIterator[PrivateCluster]:
    # Directly under /tmp: the cluster's owner must reach its directory, and pytest's own tmp dirs are private.
    own = PrivateCluster(Path(tempfile.mkdtemp(prefix="helpline-cluster-")), unused_tcp_port_factory())
    await asyncio.to_thread(own.create)
    await asyncio.to_thread(own.start)
    yield own
    await asyncio.to_thread(own.remove)


async def test_a_database_restart_under_load_loses_nothing_acknowledged(
    cluster: PrivateCluster,
    tmp_path: Path,
    fake_twilio: FakeTwilio,
    unused_tcp_port_factory: Callable[[], int],
) -> None:
    """PostgreSQL stops and starts while texts arrive at A and B: both recover, and every answered text is kept."""
    data_dir = tmp_path / "on-cluster"
    assert await asyncio.to_thread(cli.main, ["init", "--data-dir", str(data_dir), "--database-url", cluster.url]) == 0
    instances = Cluster(data_dir, cluster.url, fake_twilio, [unused_tcp_port_factory() for _ in range(2)])
    try:
        await instances.start()
        a, b = instances.servers
        answered: dict[str, int] = {}
        forms: dict[str, dict[str, str]] = {}

        async def keep_texting(stop: asyncio.Event) -> None:
            n = 0
            async with aiohttp.ClientSession() as session:
                while not stop.is_set() or n < 40:
                    form = fake_twilio.inbound_sms_params(f"+4477009{n % 20:05d}", "+447700900001", f"load {n}")
                    forms[form["MessageSid"]] = form
                    answered[form["MessageSid"]] = await _post(session, (a, b)[n % 2], instances, form)
                    n += 1

        stop = asyncio.Event()
        load = asyncio.create_task(keep_texting(stop))
        await asyncio.sleep(0.5)  # texts flowing before the database goes
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(0.5)  # and while it is away
        await asyncio.to_thread(cluster.start)
        stop.set()
        await load
        assert {200, 503} == set(answered.values())  # answered before and after, refused while it was away

        async def both_ready() -> bool:
            async with aiohttp.ClientSession() as session:
                for server in (a, b):
                    async with session.get(f"{server.url}/readyz") as response:
                        if response.status != 200:
                            return False
            return True

        await eventually(both_ready)
        # Twilio sends again what got a 503; each text is then stored once.
        async with aiohttp.ClientSession() as session:
            for sid, status in answered.items():
                if status != 200:
                    assert await _post(session, b, instances, forms[sid]) == 200

        async def all_stored() -> bool:
            stored = await instances.value("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            return bool(stored >= len(answered))

        await eventually(all_stored)
        assert await instances.value("SELECT COUNT(*) FROM messages WHERE direction = 'in'") == len(answered)
    finally:
        await instances.close()


async def _post(session: aiohttp.ClientSession, server: Server, instances: Cluster, form: dict[str, str]) -> int:
    signature = instances.twilio.sign(f"{instances.public_url}/webhooks/twilio/sms", form)
    try:
        async with session.post(
            f"{server.url}/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
        ) as response:
            return response.status
    except aiohttp.ClientError:
        return 0
