"""``helpline bench`` end to end at a tiny size: every figure is there and nothing is lost. No timings are asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpline import cli
from helpline.bench.run import by_second

TINY = [
    "--messages", "40",
    "--texters", "10",
    "--concurrency", "8",
    "--latency-messages", "30",
    "--rate", "60",
    "--volunteers", "3",
    "--observers", "2",
    "--replies", "6",
    "--chat-sockets", "20",
]  # fmt: skip

FIGURES = {
    "machine": {"cpu", "cores", "memory_gib", "python", "sqlite", "event_loop"},
    "memory": {"chat_sockets", "resident_before_mib", "resident_with_sockets_mib", "per_socket_kib"},
    "ceiling": {"per_second", "rounds_per_second", "cpu_ms_per_request"},
    "durable_reference": {"engine", "per_second", "rounds_per_second", "cpu_ms_per_request"},
    "throughput": {
        "per_second",
        "ratio_to_ceiling",
        "ratio_to_durable_reference",
        "cpu_ratio_to_durable_reference",
        "cpu_ms_per_message",
        "cpu_ms_per_message_by_instance",
        "response_p99_ms",
        "routed_seconds",
        "routed_per_second",
        "cpu_ms_per_message_routed",
    },
    "latency": {
        "offered_per_second",
        "webhook_to_console_p50_ms",
        "webhook_to_console_p99_ms",
        "webhook_to_console_max_ms",
        "later_messages_to_console_p99_ms",
        "volunteer_sockets",
    },
    "outbound": {"per_second", "at_twilio"},
    "loss": {"inbound_sent", "inbound_stored", "inbound_lost", "inbound_duplicated", "replies_lost", "problems"},
}


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    assert cli.main(["bench", *TINY, "--out", str(out)]) == 0
    loaded: dict[str, Any] = json.loads(Path(out).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.timeout(600)
def test_every_figure_is_reported(figures: dict[str, Any]) -> None:
    """The JSON has every figure the issue asks for, and the machine it was measured on."""
    for section, keys in FIGURES.items():
        assert keys <= set(figures[section]), section
        assert all(figures[section][key] is not None for key in keys), section


@pytest.mark.timeout(600)
def test_nothing_is_lost_or_duplicated(figures: dict[str, Any]) -> None:
    """Every webhook is stored once, seen once on the console, and every reply reaches Twilio once."""
    loss = figures["loss"]
    assert loss["inbound_sent"] == 70 and loss["inbound_stored"] == 70
    assert loss["inbound_lost"] == loss["inbound_duplicated"] == 0
    assert loss["console_events_missing"] == loss["console_events_repeated"] == 0
    assert loss["replies_lost"] == loss["replies_duplicated"] == 0
    assert loss["problems"] == [] and figures["passed"] is True
    assert figures["memory"]["chat_sockets_open_at_measure"] == 20


@pytest.mark.timeout(600)
def test_latency_is_also_reported_second_by_second(figures: dict[str, Any]) -> None:
    """Every observed message is in exactly one second of the series, and each second's figures are ordered."""
    latency = figures["latency"]
    seconds = latency["to_console_by_second"]
    assert sum(s["messages"] for s in seconds) == latency["messages"] * latency["observer_sockets"]
    assert [s["second"] for s in seconds] == sorted({s["second"] for s in seconds})
    assert all(s["p50_ms"] <= s["p99_ms"] <= s["max_ms"] for s in seconds)
    assert max(s["max_ms"] for s in seconds) == latency["webhook_to_console_max_ms"]


def test_by_second_groups_delays_by_when_they_were_due() -> None:
    samples = [(10.0, 0.010), (10.4, 0.030), (11.2, 0.200), (12.9, 0.005), (12.1, 0.015)]
    assert by_second(samples, start=10.0) == [
        {"second": 0, "messages": 2, "p50_ms": 10.0, "p99_ms": 30.0, "max_ms": 30.0},
        {"second": 1, "messages": 1, "p50_ms": 200.0, "p99_ms": 200.0, "max_ms": 200.0},
        {"second": 2, "messages": 2, "p50_ms": 5.0, "p99_ms": 15.0, "max_ms": 15.0},
    ]


@pytest.mark.postgres_only
@pytest.mark.timeout(600)
def test_bench_runs_on_postgresql(database_url: str, tmp_path: Path) -> None:
    """With --database-url the same run goes through PostgreSQL, names it, and loses and duplicates nothing."""
    out = tmp_path / "bench.json"
    assert cli.main(["bench", *TINY, "--database-url", database_url, "--out", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["machine"]["database"].startswith("PostgreSQL ")
    assert figures["loss"]["inbound_lost"] == figures["loss"]["inbound_duplicated"] == 0
    assert figures["loss"]["inbound_stored"] == figures["loss"]["inbound_sent"]


def test_several_instances_without_postgresql_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--instances 2 on SQLite stops before anything starts, with a message that names --database-url."""
    assert cli.main(["bench", *TINY, "--instances", "2"]) == 2
    assert "--database-url" in capsys.readouterr().err


@pytest.mark.postgres_only
@pytest.mark.timeout(600)
def test_bench_runs_two_instances_on_one_postgresql_database(database_url: str, tmp_path: Path) -> None:
    """With --instances 2 two servers share the load and the database: nothing is lost or duplicated (every
    message seen on every observer, at either server), and CPU is reported per server, in all and for PostgreSQL."""
    out = tmp_path / "bench.json"
    assert cli.main(["bench", *TINY, "--database-url", database_url, "--instances", "2", "--out", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    loss = figures["loss"]
    assert loss["inbound_sent"] == loss["inbound_stored"] == 70
    assert loss["inbound_lost"] == loss["inbound_duplicated"] == 0
    assert loss["console_events_missing"] == loss["console_events_repeated"] == 0
    assert loss["replies_lost"] == loss["replies_duplicated"] == 0 and figures["passed"] is True
    assert figures["machine"]["server_processes"] == 2 and figures["server_exit_codes"] == [0, 0]
    throughput = figures["throughput"]
    assert throughput["instances"] == 2 and len(throughput["cpu_ms_per_message_by_instance"]) == 2
    assert all(cpu > 0 for cpu in throughput["cpu_ms_per_message_by_instance"])
    assert throughput["cpu_ms_per_message"] == pytest.approx(sum(throughput["cpu_ms_per_message_by_instance"]), 0.01)
    assert throughput["ratio_to_durable_reference"] > 0 and figures["durable_reference"]["engine"] == "postgresql"
    assert throughput["postgres_cpu_ms_per_message"] > 0
    assert throughput["postgres_activity"]["samples"] > 0
    # A tiny round may use less than one clock tick of PostgreSQL's CPU: present, not necessarily above zero.
    assert figures["durable_reference"]["postgres_cpu_ms_per_request"] >= 0
    assert len(figures["memory"]["resident_with_sockets_mib_by_instance"]) == 2
