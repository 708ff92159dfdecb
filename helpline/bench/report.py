"""The figures of a run: JSON for keeping, a short table for reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGETS = (
    ("webhook throughput / durable reference", ("throughput", "ratio_to_durable_reference"), ">=", 0.5),
    ("p99 webhook -> console (ms)", ("latency", "webhook_to_console_p99_ms"), "<=", 50.0),
    ("resident with chat sockets (MiB)", ("memory", "resident_with_sockets_mib"), "<=", 400.0),
)


def write_json(figures: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(figures, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _get(figures: dict[str, Any], keys: tuple[str, str]) -> Any:
    section = figures.get(keys[0]) or {}
    return section.get(keys[1])


def met(figures: dict[str, Any]) -> dict[str, bool]:
    """Each target, and whether this run met it."""
    result = {}
    for name, keys, op, limit in TARGETS:
        value = _get(figures, keys)
        result[name] = value is not None and (value >= limit if op == ">=" else value <= limit)
    return result


def table(figures: dict[str, Any]) -> str:
    """A few lines a person can read at a glance."""
    machine = figures["machine"]
    memory, ceiling, throughput = figures["memory"], figures["ceiling"], figures["throughput"]
    durable = figures["durable_reference"]
    latency, outbound, loss = figures["latency"], figures["outbound"], figures["loss"]
    rows = [
        ("machine", f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB"),
        (
            "software",
            f"Python {machine['python']}, {machine['database']}, aiohttp {machine['aiohttp']}, {machine['event_loop']}",
        ),
        ("load average", f"{machine['load_average_at_start']} at start, {figures.get('load_average_at_end')} at end"),
        (
            "ceiling (bare aiohttp)",
            f"{ceiling['per_second']:.0f} requests/s (median round of "
            f"{', '.join(f'{r:.0f}' for r in ceiling['rounds_per_second'])})",
        ),
        (
            f"durable reference ({durable['engine']})",
            f"{durable['per_second']:.0f} requests/s (median round of "
            f"{', '.join(f'{r:.0f}' for r in durable['rounds_per_second'])}; {durable['cpu_ms_per_request']} ms CPU"
            + (
                f", PostgreSQL {durable['postgres_cpu_ms_per_request']} ms CPU each)"
                if "postgres_cpu_ms_per_request" in durable
                else " each)"
            ),
        ),
        (
            f"webhook throughput, {throughput['instances']} server(s)",
            f"{throughput['per_second']:.0f} messages/s ({throughput['ratio_to_durable_reference']:.2f} x durable "
            f"reference, {throughput['ratio_to_ceiling']:.2f} x ceiling; by CPU "
            f"{throughput['cpu_ratio_to_durable_reference']} x durable reference; "
            f"response p99 {throughput['response_p99_ms']} ms)",
        ),
        (
            "  ... CPU per message",
            f"servers {throughput['cpu_ms_per_message']} ms (by server: "
            f"{', '.join(str(c) for c in throughput['cpu_ms_per_message_by_instance'])})"
            + (
                f"; PostgreSQL {throughput['postgres_cpu_ms_per_message']} ms "
                f"(whole server {throughput['postgres_whole_server_cpu_ms_per_message']} ms)"
                if "postgres_cpu_ms_per_message" in throughput
                else ""
            ),
        ),
        (
            "  ... routed into conversations",
            f"{throughput['routed_per_second']} messages/s (all routed {throughput['routed_seconds']} s after the "
            f"first webhook; {throughput['cpu_ms_per_message_routed']} ms CPU per message in all)",
        ),
        (
            "webhook -> console",
            f"p50 {latency['webhook_to_console_p50_ms']} ms, p99 "
            f"{latency['webhook_to_console_p99_ms']} ms, max {latency['webhook_to_console_max_ms']} ms at "
            f"{latency['offered_per_second']:.0f}/s offered, {latency['volunteer_sockets']} volunteer sockets",
        ),
        (
            "  ... a texter's later messages",
            f"p50 {latency['later_messages_to_console_p50_ms']} ms, p99 {latency['later_messages_to_console_p99_ms']} "
            f"ms, max {latency['later_messages_to_console_max_ms']} ms (their first opens a conversation and greets)",
        ),
        (
            "  ... p99 in each second",
            " ".join(f"{second['p99_ms']:.0f}" for second in latency["to_console_by_second"]) + " ms",
        ),
        ("outbound replies", f"{outbound['per_second']} sent/s to the Twilio API ({outbound['at_twilio']} replies)"),
        (
            "idle chat sockets",
            f"{memory['chat_sockets']}: {memory['resident_with_sockets_mib']} MiB resident "
            f"({memory['resident_before_mib']} MiB before, {memory['per_socket_kib']} KiB per socket)",
        ),
        (
            "loss",
            f"{loss['inbound_sent']} in, {loss['inbound_stored']} stored, {loss['inbound_lost']} lost, "
            f"{loss['inbound_duplicated']} duplicated; problems: {', '.join(loss['problems']) or 'none'}",
        ),
    ]
    for name, ok in met(figures).items():
        rows.append((f"target: {name}", "met" if ok else "NOT met"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
