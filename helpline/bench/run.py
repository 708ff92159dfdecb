"""The benchmark's phases, in order, on fresh servers; the figures as one JSON-ready dictionary.

One server process on SQLite or PostgreSQL, or ``instances`` of them on one PostgreSQL database, each with
the same config and public URL. With several, every kind of load is shared out over them: webhooks round
robin, volunteers' sign-ins and console sockets (observers too, so a message posted at one is timed on a
socket at another), their claims and replies, and the chat sockets; CPU is summed over the processes.

1. memory: resident memory before and with ``chat_sockets`` idle web chat sockets;
2. references: the bare aiohttp endpoint (the ceiling), then the durable reference on the same engine, each
   in its own process, closed loop, the throughput webhooks (``references.py``);
3. throughput: the same webhooks, closed loop, against the real servers (and PostgreSQL's CPU, when local);
4. latency: ``volunteers`` console sockets connected, webhooks at ``rate`` per second (open loop), the time
   from each webhook's due time to its ``message.added`` event on the observer sockets (also second by second);
5. outbound: volunteers claim and reply; replies per second reaching the fake Twilio API;
6. loss: the server is stopped and every message is counted in the database, on the sockets and at Twilio.
"""

from __future__ import annotations

import asyncio
import gc
import math
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from helpline.bench import chats, references, texters
from helpline.bench.console import Volunteers, connect_volunteers
from helpline.bench.http_load import Outcome, Spread, closed_loop, open_loop
from helpline.bench.machine import describe
from helpline.bench.postgres_cpu import PostgresCpu, Sample
from helpline.bench.postgres_waits import PostgresWaits
from helpline.bench.readback import Stored, postgres_version, read_back
from helpline.bench.replies import Sent, send_replies
from helpline.bench.server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Instance,
    ReferenceProcess,
    ServerProcess,
    add_volunteers,
    wait_routed,
)
from helpline.bench.server import prepare as prepare_instance
from helpline.loops import loop_name
from helpline.testing.twilio_api import FakeTwilio

MIB = 2**20
SETTLE_SECONDS = 1.0
# Connections Twilio's side keeps open in the latency phase: enough that a slow moment queues on the server.
LATENCY_CONNECTIONS = 256
# How long the throughput phase waits for the accepted messages to be routed into their conversations.
ROUTED_TIMEOUT = 600.0
# How long the latency phase waits for the sockets to hear of every message once they have all been routed.
EVENTS_TIMEOUT = 60.0


@dataclass(frozen=True)
class Options:
    """The sizes of a run; the defaults are the real run's."""

    messages: int = 10_000
    texters: int = 1_000
    concurrency: int = 64
    rate: float = 1_000.0
    latency_messages: int = 10_000
    volunteers: int = 300
    observers: int = 16
    replies: int = 2_000
    chat_sockets: int = 10_000
    directory: Path | None = None
    # Empty: SQLite in the data directory. A postgresql:// URL: that (empty) database, migrated by `helpline init`.
    database_url: str = ""
    # Server processes on the one database (more than one needs PostgreSQL), each given a share of the load.
    instances: int = 1


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def by_second(samples: list[tuple[float, float]], start: float) -> list[dict[str, Any]]:
    """Delays grouped by the second of the run their message was due in: where in a run its tail lies.

    ``samples`` are (due time, delay) pairs in seconds; ``start`` is when the first message was due.
    """
    seconds: dict[int, list[float]] = {}
    for due, delay in samples:
        seconds.setdefault(int(due - start), []).append(delay)
    return [
        {
            "second": second,
            "messages": len(delays),
            "p50_ms": _ms(percentile(delays, 0.5)),
            "p99_ms": _ms(percentile(delays, 0.99)),
            "max_ms": _ms(max(delays)),
        }
        for second, delays in sorted(seconds.items())
    ]


def _ms(seconds: float) -> float | None:
    """Milliseconds, or None where there was nothing to measure (JSON has no NaN)."""
    return None if math.isnan(seconds) else round(seconds * 1000, 2)


def _fewest_heard(volunteers: Volunteers) -> int:
    """The fewest ``message.added`` events any volunteer's socket has had (the sockets count as frames arrive)."""
    return min(s.messages for s in volunteers.sockets)


def _ok(outcomes: list[Outcome]) -> int:
    return sum(1 for o in outcomes if o.status == 200)


async def _resend_failed(spread: Spread, requests: list[bytes], outcomes: list[Outcome]) -> int:
    """Post again, as Twilio would, every webhook that was not answered 200; how many were resent."""
    failed = [o.index for o in outcomes if o.status != 200]
    for index in failed:
        await spread.send(index, requests[index])
    return len(failed)


class Bench:
    """One run: a temp directory, the fake Twilio API, the servers, and the figures."""

    def __init__(self, options: Options, directory: Path) -> None:
        self.options = options
        self.directory = directory
        self.twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
        self.figures: dict[str, Any] = {"machine": describe(loop_name()), "options": _options(options)}
        self.instance: Instance | None = None
        self.servers: list[ServerProcess] = []
        self.postgres: PostgresCpu | None = None

    async def run(self) -> dict[str, Any]:
        options = self.options
        chats.raise_open_files(2 * options.chat_sockets + 2 * options.volunteers + 4096)
        await self.twilio.start()
        try:
            self.instance = instance = await prepare_instance(
                self.directory,
                twilio_url=self.twilio.base_url,
                chat_sockets=options.chat_sockets,
                volunteers=options.volunteers,
                database_url=options.database_url,
                instances=options.instances,
            )
            if options.database_url:
                self.figures["machine"]["database"] = await postgres_version(options.database_url)
                self.postgres = await PostgresCpu.find(options.database_url)
            self.figures["machine"]["server_processes"] = options.instances
            names = [f"volunteer{i:04d}" for i in range(options.volunteers)]
            await add_volunteers(instance, names)
            self.servers = [ServerProcess(instance, n) for n in range(options.instances)]
            await asyncio.gather(*(server.start() for server in self.servers))
            try:
                await self._memory()
                throughput = texters.build(
                    self.twilio,
                    phase="throughput",
                    phase_index=1,
                    count=options.messages,
                    texters=options.texters,
                    public_url=instance.public_url,
                    ports=instance.ports,
                )
                await self._references(throughput.requests)
                await self._throughput(throughput.requests)
                volunteers = await connect_volunteers(instance.public_url, instance.ports, names, options.observers)
                try:
                    latency = await self._latency(volunteers)
                    sent = await send_replies(
                        volunteers.sessions, self.twilio, replies=options.replies, per_volunteer=3
                    )
                finally:
                    await volunteers.close()
            finally:
                codes = await asyncio.gather(*(server.stop() for server in self.servers))
                self.figures["server_exit_code"] = codes[0] if len(codes) == 1 else max(c or 0 for c in codes)
                self.figures["server_exit_codes"] = codes
                if self.postgres is not None:
                    await self.postgres.close()
            stored = await read_back(instance)
            self._outbound(sent)
            self._loss(stored, latency, sent)
        finally:
            await self.twilio.close()
        self.figures["load_average_at_end"] = describe(loop_name())["load_average_at_start"]
        return self.figures

    def _cpu(self) -> list[float]:
        return [server.cpu_seconds() for server in self.servers]

    async def _postgres_sample(self) -> Sample | None:
        return await self.postgres.sample() if self.postgres is not None else None

    async def _postgres_figures(self, before: Sample | None, count: int) -> dict[str, Any]:
        """PostgreSQL's CPU per message since ``before`` (nothing when it is not measured): see postgres_cpu.py."""
        if self.postgres is None or before is None:
            return {}
        used = self.postgres.used(before, await self.postgres.sample())
        return {
            "postgres_cpu_ms_per_message": round(used.ours * 1000 / max(count, 1), 3),
            "postgres_whole_server_cpu_ms_per_message": round(used.whole * 1000 / max(count, 1), 3),
            "postgres_other_backends": used.other_backends,
        }

    async def _wait_routed(self) -> float | None:
        """When every server had routed every message it accepted (None if one had not in time)."""
        times = await asyncio.gather(*(wait_routed(server.base_url, ROUTED_TIMEOUT) for server in self.servers))
        return None if None in times else max(t for t in times if t is not None)

    async def _memory(self) -> None:
        assert self.instance is not None  # noqa: S101 - set by run()
        gc.collect()
        await asyncio.sleep(SETTLE_SECONDS)
        before = [server.resident_bytes() for server in self.servers]
        started = time.perf_counter()
        count, servers = self.options.chat_sockets, len(self.servers)
        shares = [count // servers + (n < count % servers) for n in range(servers)]
        opened_by_server = await asyncio.gather(
            *(
                chats.open_chats(self.instance.public_url, server.port, share)
                for server, share in zip(self.servers, shares, strict=True)
            )
        )
        sockets = [socket for opened in opened_by_server for socket in opened]
        opened = time.perf_counter() - started
        await asyncio.sleep(SETTLE_SECONDS)
        during = [server.resident_bytes() for server in self.servers]
        open_now = sum(1 for s in sockets if not s.closed)
        for socket in sockets:
            socket.close()
        await asyncio.sleep(SETTLE_SECONDS)
        self.figures["memory"] = {
            "chat_sockets": len(sockets),
            "chat_sockets_open_at_measure": open_now,
            "seconds_to_open": round(opened, 2),
            # Summed over the server processes, and each one's.
            "resident_before_mib": round(sum(before) / MIB, 1),
            "resident_with_sockets_mib": round(sum(during) / MIB, 1),
            "resident_with_sockets_mib_by_instance": [round(b / MIB, 1) for b in during],
            "per_socket_kib": round((sum(during) - sum(before)) / max(len(sockets), 1) / 1024, 2),
        }

    async def _references(self, requests: list[bytes]) -> None:
        """The bare ceiling, then the durable reference on the run's engine (on SQLite, a file of its own)."""
        assert self.instance is not None  # noqa: S101 - set by run()
        concurrency = self.options.concurrency
        self.figures["ceiling"] = await references.measure(ReferenceProcess.ceiling(), requests, concurrency)
        settings = self.instance.settings()
        storage = settings.storage
        durable = ReferenceProcess.durable(
            storage.database_url or str(self.directory / "durable-reference.db"),
            auth_token=settings.sms.auth_token,
            public_base_url=settings.sms.public_base_url,
            pool_size=storage.pool_max,
        )
        figures = await references.measure(durable, requests, concurrency, self.postgres)
        figures["engine"] = "postgresql" if storage.database_url else "sqlite"
        if storage.database_url:
            figures["pool_size"] = storage.pool_max
        self.figures["durable_reference"] = figures

    async def _throughput(self, requests: list[bytes]) -> None:
        assert self.instance is not None  # noqa: S101 - set by run()
        spread = await Spread.open(self.instance.ports, self.options.concurrency)
        waits = PostgresWaits(self.options.database_url) if self.options.database_url else None
        try:
            cpu_start, client = self._cpu(), time.process_time()
            database = await self._postgres_sample()
            if waits is not None:
                await waits.start()
            started = time.monotonic()
            outcomes, seconds = await closed_loop(spread, requests)
            cpu = [now - then for now, then in zip(self._cpu(), cpu_start, strict=True)]
            client = time.process_time() - client
            if waits is not None:
                postgres_waits = await waits.stop()
            # Answered means accepted durably; routing into conversations may still be catching up.
            routed_at = await self._wait_routed()
            cpu_routed = sum(self._cpu()) - sum(cpu_start)
            postgres = await self._postgres_figures(database, len(requests))
            resent = await _resend_failed(spread, requests, outcomes)
        finally:
            spread.close()
            if waits is not None:
                await waits.stop()
        answered = [o.done - o.due for o in outcomes if o.status == 200]
        per_second = _ok(outcomes) / seconds
        ceiling = self.figures["ceiling"]["per_second"]
        durable = self.figures["durable_reference"]["per_second"]
        count = max(len(requests), 1)
        total = sum(cpu)
        self.figures["throughput"] = {
            "instances": len(self.servers),
            "messages": len(requests),
            "texters": min(self.options.texters, len(requests)),
            "concurrency": self.options.concurrency,
            "answered_200": _ok(outcomes),
            "resent_after_failure": resent,
            "seconds": round(seconds, 3),
            "per_second": round(per_second, 1),
            "ratio_to_ceiling": round(per_second / ceiling, 3) if ceiling else None,
            "ratio_to_durable_reference": round(per_second / durable, 3) if durable else None,
            "response_p50_ms": _ms(percentile(answered, 0.5)),
            "response_p99_ms": _ms(percentile(answered, 0.99)),
            # From the first webhook until every accepted message was routed into its conversation.
            "routed_seconds": round(routed_at - started, 3) if routed_at else None,
            "routed_per_second": round(_ok(outcomes) / (routed_at - started), 1) if routed_at else None,
            "cpu_ms_per_message_routed": round(cpu_routed * 1000 / count, 3),
            # CPU the servers used per message (all their threads, summed over the processes); steadier than
            # rates on a busy machine. Each process's share of it too.
            "cpu_ms_per_message": round(total * 1000 / count, 3),
            "cpu_ms_per_message_by_instance": [round(c * 1000 / count, 3) for c in cpu],
            "cpu_share": round(total / seconds, 2),
            "load_generator_cpu_share": round(client / seconds, 2),
            # The ceiling's CPU per request over the server's per message: the ratio with the machine to itself.
            "cpu_ratio_to_ceiling": round(self.figures["ceiling"]["cpu_ms_per_request"] * count / (total * 1000), 3)
            if total
            else None,
            **postgres,
        }
        # The durable reference's CPU per request over the server's per message, the database server's included
        # on both sides when it is measured: the ratio with the machine's other load taken out.
        reference = self.figures["durable_reference"]
        reference_cpu = reference["cpu_ms_per_request"] + reference.get("postgres_cpu_ms_per_request", 0.0)
        server_cpu = total * 1000 / count + postgres.get("postgres_cpu_ms_per_message", 0.0)
        self.figures["throughput"]["cpu_ratio_to_durable_reference"] = (
            round(reference_cpu / server_cpu, 3) if server_cpu else None
        )
        if waits is not None:
            # What the database's connections were doing meanwhile (postgres_waits.py).
            self.figures["throughput"]["postgres_activity"] = postgres_waits

    async def _latency(self, volunteers: Volunteers) -> dict[str, Any]:
        assert self.instance is not None  # noqa: S101 - set by run()
        options = self.options
        webhooks = texters.build(
            self.twilio,
            phase="latency",
            phase_index=2,
            count=options.latency_messages,
            texters=options.texters,
            public_url=self.instance.public_url,
            ports=self.instance.ports,
        )
        spread = await Spread.open(self.instance.ports, LATENCY_CONNECTIONS)
        await asyncio.sleep(SETTLE_SECONDS)
        try:
            cpu, client = sum(self._cpu()), time.process_time()
            database = await self._postgres_sample()
            outcomes, seconds = await open_loop(spread, webhooks.requests, options.rate)
            cpu, client = sum(self._cpu()) - cpu, time.process_time() - client
            postgres = await self._postgres_figures(database, len(outcomes))
            resent = await _resend_failed(spread, webhooks.requests, outcomes)
        finally:
            spread.close()
        # Count the sockets' events only once every message has been routed (and its events sent), and every
        # socket has had at least one event per message answered: on PostgreSQL, events wait for the cluster's
        # oldest running transaction, in any database (postgres/notifier.py), so they may come late; how late
        # is in the figures, and what has not come by EVENTS_TIMEOUT counts as missing.
        await self._wait_routed()
        deadline = time.monotonic() + EVENTS_TIMEOUT
        while time.monotonic() < deadline and _fewest_heard(volunteers) < _ok(outcomes):  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.05)
        await asyncio.sleep(SETTLE_SECONDS)
        counts = [s.messages for s in volunteers.sockets]
        return {
            "outcomes": outcomes,
            "seconds": seconds,
            "cpu_share": round(cpu / seconds, 2),
            "cpu_ms_per_message": round(cpu * 1000 / max(len(outcomes), 1), 3),
            "postgres": postgres,
            "client_cpu_share": round(client / seconds, 2),
            "resent": resent,
            "socket_counts": counts,
            "observers": volunteers.observers,
            "resyncs": sum(s.resyncs for s in volunteers.sockets),
            "sockets_closed": sum(1 for s in volunteers.sockets if s.closed),
        }

    def _outbound(self, sent: Sent) -> None:
        self.figures["outbound"] = {
            "replies": sent.posted,
            "refused": sent.refused,
            "at_twilio": sent.delivered,
            "seconds": round(sent.seconds, 3),
            "per_second": round(sent.delivered / sent.seconds, 1) if sent.seconds else None,
        }

    def _loss(self, stored: Stored, latency: dict[str, Any], sent: Sent) -> None:
        options = self.options
        outcomes: list[Outcome] = latency["outcomes"]
        observers = latency["observers"]
        # Each message's delay to each observer, with when it was due (for the figures second by second).
        timed: list[tuple[float, float]] = []
        # A texter's later messages join a conversation already open: no new conversation, no greeting.
        later: list[float] = []
        missing_on_sockets = 0
        for outcome in outcomes:
            message_id = stored.inbound.get(("latency", outcome.index))
            for observer in observers:
                arrived = observer.arrivals.get(message_id) if message_id else None
                if arrived is None:
                    missing_on_sockets += 1
                else:
                    timed.append((outcome.due, arrived - outcome.due))
                    if outcome.index >= options.texters:
                        later.append(arrived - outcome.due)
        delays = [delay for _, delay in timed]
        answered = [o.done - o.due for o in outcomes if o.status == 200]
        counts: list[int] = latency["socket_counts"]
        self.figures["latency"] = {
            "offered_per_second": options.rate,
            "messages": len(outcomes),
            "achieved_per_second": round(len(outcomes) / latency["seconds"], 1),
            "volunteer_sockets": len(counts),
            "observer_sockets": len(observers),
            "webhook_to_console_p50_ms": _ms(percentile(delays, 0.5)),
            "webhook_to_console_p99_ms": _ms(percentile(delays, 0.99)),
            "webhook_to_console_max_ms": _ms(max(delays)) if delays else None,
            "webhook_to_console_mean_ms": _ms(statistics.fmean(delays)) if delays else None,
            # The same for the messages after each texter's first (those open a conversation and greet).
            "later_messages_to_console_p50_ms": _ms(percentile(later, 0.5)),
            "later_messages_to_console_p99_ms": _ms(percentile(later, 0.99)),
            "later_messages_to_console_max_ms": _ms(max(later)) if later else None,
            # Second by second (by when each message was due): whether the tail is a moment or the whole run.
            "to_console_by_second": by_second(timed, min(o.due for o in outcomes)) if outcomes else [],
            "webhook_response_p50_ms": _ms(percentile(answered, 0.5)),
            "webhook_response_p99_ms": _ms(percentile(answered, 0.99)),
            "resent_after_failure": latency["resent"],
            "server_cpu_share": latency["cpu_share"],
            "cpu_ms_per_message": latency["cpu_ms_per_message"],
            **latency["postgres"],
            "load_generator_cpu_share": latency["client_cpu_share"],
        }
        sent_inbound = options.messages + options.latency_messages
        lost = stored.missing("throughput", options.messages) + stored.missing("latency", options.latency_messages)
        duplicated = stored.duplicated("throughput") + stored.duplicated("latency")
        self.figures["loss"] = {
            "inbound_sent": sent_inbound,
            "inbound_stored": sum(stored.counts.values()),
            "inbound_lost": lost,
            "inbound_duplicated": duplicated,
            "console_events_missing": missing_on_sockets,
            "console_events_repeated": sum(o.repeats for o in observers),
            "console_sequence_gaps": sum(o.gaps for o in observers),
            "console_resyncs": latency["resyncs"],
            "console_sockets_closed": latency["sockets_closed"],
            "console_sockets_short": sum(1 for c in counts if c != max(counts, default=0)),
            "replies_posted": sent.posted,
            "replies_refused": sent.refused,
            "replies_lost": sent.posted - sent.refused - sent.delivered,
            "replies_duplicated": sent.duplicated,
            "conversations": stored.conversations,
        }
        problems = [
            key
            for key in (
                "inbound_lost",
                "inbound_duplicated",
                "console_events_missing",
                "console_events_repeated",
                "console_sequence_gaps",
                "console_resyncs",
                "console_sockets_closed",
                "console_sockets_short",
                "replies_refused",
                "replies_lost",
                "replies_duplicated",
            )
            if self.figures["loss"][key]
        ]
        self.figures["loss"]["problems"] = problems
        self.figures["passed"] = not problems


def _options(options: Options) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()}


async def run(options: Options) -> dict[str, Any]:
    """Run every phase once; the figures (``passed`` is False if anything was lost or duplicated)."""
    if options.directory is not None:
        options.directory.mkdir(parents=True, exist_ok=True)
        return await Bench(options, options.directory).run()
    with tempfile.TemporaryDirectory(prefix="helpline-bench-") as directory:
        return await Bench(options, Path(directory)).run()
