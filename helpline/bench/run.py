"""The benchmark's phases, in order, on one fresh server; the figures as one JSON-ready dictionary.

1. memory: resident memory before and with ``chat_sockets`` idle web chat sockets;
2. ceiling: the bare aiohttp endpoint, closed loop, the throughput webhooks;
3. throughput: the same webhooks, closed loop, against the real server;
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

from helpline.bench import chats, texters
from helpline.bench.console import Volunteers, connect_volunteers
from helpline.bench.http_load import Outcome, Pool, closed_loop, open_loop
from helpline.bench.machine import describe
from helpline.bench.readback import Stored, postgres_version, read_back
from helpline.bench.replies import Sent, send_replies
from helpline.bench.server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CeilingProcess,
    Instance,
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
# Rounds of the ceiling; the median is reported.
CEILING_ROUNDS = 3
# How long the throughput phase waits for the accepted messages to be routed into their conversations.
ROUTED_TIMEOUT = 600.0


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


def _ok(outcomes: list[Outcome]) -> int:
    return sum(1 for o in outcomes if o.status == 200)


async def _resend_failed(pool: Pool, requests: list[bytes], outcomes: list[Outcome]) -> int:
    """Post again, as Twilio would, every webhook that was not answered 200; how many were resent."""
    failed = [o.index for o in outcomes if o.status != 200]
    for index in failed:
        await pool.send(requests[index])
    return len(failed)


class Bench:
    """One run: a temp directory, the fake Twilio API, the server, and the figures."""

    def __init__(self, options: Options, directory: Path) -> None:
        self.options = options
        self.directory = directory
        self.twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
        self.figures: dict[str, Any] = {"machine": describe(loop_name()), "options": _options(options)}
        self.instance: Instance | None = None
        self.server: ServerProcess | None = None

    async def run(self) -> dict[str, Any]:
        options = self.options
        chats.raise_open_files(2 * options.chat_sockets + 2 * options.volunteers + 4096)
        await self.twilio.start()
        try:
            self.instance = await prepare_instance(
                self.directory,
                twilio_url=self.twilio.base_url,
                chat_sockets=options.chat_sockets,
                database_url=options.database_url,
            )
            if options.database_url:
                self.figures["machine"]["database"] = await postgres_version(options.database_url)
            names = [f"volunteer{i:04d}" for i in range(options.volunteers)]
            await add_volunteers(self.instance, names)
            self.server = ServerProcess(self.instance)
            await self.server.start()
            try:
                await self._memory()
                throughput = texters.build(
                    self.twilio,
                    phase="throughput",
                    phase_index=1,
                    count=options.messages,
                    texters=options.texters,
                    port=self.instance.port,
                )
                await self._ceiling(throughput.requests)
                await self._throughput(throughput.requests)
                volunteers = await connect_volunteers(
                    self.instance.base_url, self.instance.port, names, options.observers
                )
                try:
                    latency = await self._latency(volunteers)
                    sent = await send_replies(
                        self.instance.base_url,
                        volunteers.sessions,
                        self.twilio,
                        replies=options.replies,
                        per_volunteer=3,
                    )
                finally:
                    await volunteers.close()
            finally:
                self.figures["server_exit_code"] = await self.server.stop()
            stored = await read_back(self.instance)
            self._outbound(sent)
            self._loss(stored, latency, sent)
        finally:
            await self.twilio.close()
        self.figures["load_average_at_end"] = describe(loop_name())["load_average_at_start"]
        return self.figures

    async def _memory(self) -> None:
        assert self.server is not None and self.instance is not None  # noqa: S101 - set by run()
        gc.collect()
        await asyncio.sleep(SETTLE_SECONDS)
        before = self.server.resident_bytes()
        started = time.perf_counter()
        sockets = await chats.open_chats(self.instance.base_url, self.instance.port, self.options.chat_sockets)
        opened = time.perf_counter() - started
        await asyncio.sleep(SETTLE_SECONDS)
        during = self.server.resident_bytes()
        open_now = sum(1 for s in sockets if not s.closed)
        for socket in sockets:
            socket.close()
        await asyncio.sleep(SETTLE_SECONDS)
        count = max(len(sockets), 1)
        self.figures["memory"] = {
            "chat_sockets": len(sockets),
            "chat_sockets_open_at_measure": open_now,
            "seconds_to_open": round(opened, 2),
            "resident_before_mib": round(before / MIB, 1),
            "resident_with_sockets_mib": round(during / MIB, 1),
            "per_socket_kib": round((during - before) / count / 1024, 2),
        }

    async def _ceiling(self, requests: list[bytes]) -> None:
        """The bare endpoint, ``CEILING_ROUNDS`` times over the same requests: the median round is the ceiling.

        One round takes well under a second, so a single one swings with whatever else the machine did.
        """
        ceiling = CeilingProcess()
        await ceiling.start()
        pool = await Pool("127.0.0.1", ceiling.port, self.options.concurrency).open()
        rounds = []
        try:
            for _ in range(CEILING_ROUNDS):
                cpu = ceiling.cpu_seconds()
                outcomes, seconds = await closed_loop(pool, requests)
                rounds.append((_ok(outcomes) / seconds, ceiling.cpu_seconds() - cpu, seconds, _ok(outcomes)))
        finally:
            pool.close()
            await ceiling.stop()
        per_second, cpu, seconds, answered = sorted(rounds)[len(rounds) // 2]
        self.figures["ceiling"] = {
            "requests": len(requests),
            "answered_200": answered,
            "seconds": round(seconds, 3),
            "per_second": round(per_second, 1),
            "rounds_per_second": [round(r[0], 1) for r in rounds],
            "cpu_ms_per_request": round(cpu * 1000 / max(len(requests), 1), 3),
            "cpu_share": round(cpu / seconds, 2),
        }

    async def _throughput(self, requests: list[bytes]) -> None:
        assert self.instance is not None and self.server is not None  # noqa: S101 - set by run()
        pool = await Pool("127.0.0.1", self.instance.port, self.options.concurrency).open()
        try:
            cpu_start, client = self.server.cpu_seconds(), time.process_time()
            started = time.monotonic()
            outcomes, seconds = await closed_loop(pool, requests)
            cpu, client = self.server.cpu_seconds() - cpu_start, time.process_time() - client
            # Answered means accepted durably; routing into conversations may still be catching up.
            routed_at = await wait_routed(self.instance.base_url, ROUTED_TIMEOUT)
            cpu_routed = self.server.cpu_seconds() - cpu_start
            resent = await _resend_failed(pool, requests, outcomes)
        finally:
            pool.close()
        answered = [o.done - o.due for o in outcomes if o.status == 200]
        per_second = _ok(outcomes) / seconds
        ceiling = self.figures["ceiling"]["per_second"]
        self.figures["throughput"] = {
            "messages": len(requests),
            "texters": min(self.options.texters, len(requests)),
            "concurrency": self.options.concurrency,
            "answered_200": _ok(outcomes),
            "resent_after_failure": resent,
            "seconds": round(seconds, 3),
            "per_second": round(per_second, 1),
            "ratio_to_ceiling": round(per_second / ceiling, 3) if ceiling else None,
            "response_p50_ms": _ms(percentile(answered, 0.5)),
            "response_p99_ms": _ms(percentile(answered, 0.99)),
            # From the first webhook until every accepted message was routed into its conversation.
            "routed_seconds": round(routed_at - started, 3) if routed_at else None,
            "routed_per_second": round(_ok(outcomes) / (routed_at - started), 1) if routed_at else None,
            "cpu_ms_per_message_routed": round(cpu_routed * 1000 / max(len(requests), 1), 3),
            # CPU the server used per message (all its threads); steadier than rates on a busy machine.
            "cpu_ms_per_message": round(cpu * 1000 / max(len(requests), 1), 3),
            "cpu_share": round(cpu / seconds, 2),
            "load_generator_cpu_share": round(client / seconds, 2),
            # The ceiling's CPU per request over the server's per message: the ratio with the machine to itself.
            "cpu_ratio_to_ceiling": round(
                self.figures["ceiling"]["cpu_ms_per_request"] * len(requests) / (cpu * 1000), 3
            )
            if cpu
            else None,
        }

    async def _latency(self, volunteers: Volunteers) -> dict[str, Any]:
        assert self.instance is not None and self.server is not None  # noqa: S101 - set by run()
        options = self.options
        webhooks = texters.build(
            self.twilio,
            phase="latency",
            phase_index=2,
            count=options.latency_messages,
            texters=options.texters,
            port=self.instance.port,
        )
        pool = await Pool("127.0.0.1", self.instance.port, LATENCY_CONNECTIONS).open()
        await asyncio.sleep(SETTLE_SECONDS)
        try:
            cpu, client = self.server.cpu_seconds(), time.process_time()
            outcomes, seconds = await open_loop(pool, webhooks.requests, options.rate)
            cpu, client = self.server.cpu_seconds() - cpu, time.process_time() - client
            resent = await _resend_failed(pool, webhooks.requests, outcomes)
        finally:
            pool.close()
        # Count the sockets' events only once every message has been routed (and its events sent).
        await wait_routed(self.instance.base_url, ROUTED_TIMEOUT)
        await asyncio.sleep(SETTLE_SECONDS)
        counts = [s.messages for s in volunteers.sockets]
        return {
            "outcomes": outcomes,
            "seconds": seconds,
            "cpu_share": round(cpu / seconds, 2),
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
