"""What the benchmark ran on, recorded beside the figures."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp


def cpu_model() -> str:
    """The CPU's model name, as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_bytes() -> int | None:
    """Physical memory, if the platform says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe(event_loop: str) -> dict[str, Any]:
    """The machine and software the figures come from."""
    memory = memory_bytes()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "database": f"SQLite {sqlite3.sqlite_version}",
        "aiohttp": aiohttp.__version__,
        "event_loop": event_loop,
        "load_average_at_start": load_average(),
    }
