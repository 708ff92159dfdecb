"""``helpline bench``: its options, and running it to a table, a JSON file and an exit code."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from helpline.bench import meaning
from helpline.bench.report import table, write_json
from helpline.bench.run import Options, run
from helpline.loops import new_event_loop


def add_options(parser: argparse.ArgumentParser) -> None:
    """The sizes of the run (defaults: the real run's) and where the figures go."""
    defaults = Options()
    sizes = (
        ("--messages", defaults.messages, "webhooks in the throughput phase (and against the ceiling)"),
        ("--texters", defaults.texters, "distinct numbers texting in each phase"),
        ("--concurrency", defaults.concurrency, "connections sending webhooks at once in the throughput phase"),
        ("--latency-messages", defaults.latency_messages, "webhooks in the latency phase"),
        ("--volunteers", defaults.volunteers, "volunteers signed in with the console's live socket open"),
        ("--observers", defaults.observers, "volunteer sockets that time every message"),
        ("--replies", defaults.replies, "volunteer replies sent through the outbox"),
        ("--chat-sockets", defaults.chat_sockets, "idle web chat sockets for the memory figure"),
    )
    for flag, default, text in sizes:
        parser.add_argument(flag, type=int, default=default, help=f"{text} (default: %(default)s)")
    parser.add_argument(
        "--rate",
        type=float,
        default=defaults.rate,
        help="webhooks per second offered in the latency phase (default: %(default)s)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        metavar="URL",
        help="run the server on this empty PostgreSQL database (postgresql://…) instead of SQLite",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=defaults.instances,
        help="servers sharing the PostgreSQL database and the load; needs --database-url (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--keep", type=Path, help="keep the server's data directory and log here instead of a temp dir")
    parser.add_argument(
        "--meaning",
        type=Path,
        metavar="MESSAGES.jsonl",
        help="measure only the risk scanner's meaning layer (load, memory, time per message) on these messages",
    )


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        messages=args.messages,
        texters=args.texters,
        concurrency=args.concurrency,
        rate=args.rate,
        latency_messages=args.latency_messages,
        volunteers=args.volunteers,
        observers=min(args.observers, args.volunteers),
        replies=args.replies,
        chat_sockets=args.chat_sockets,
        directory=args.keep,
        database_url=args.database_url,
        instances=args.instances,
    )


def main(args: argparse.Namespace) -> int:
    """Run the benchmark; 0 when nothing was lost or duplicated, 1 otherwise."""
    if args.meaning is not None:
        figures = meaning.measure(args.meaning)
        if args.out is not None:
            args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(meaning.report(figures))  # noqa: T201 - the command's own output
        return 0 if figures["model"] else 1
    options = options_from(args)
    if min(options.messages, options.latency_messages, options.volunteers, options.replies, options.texters) < 1:
        print("error: every size must be at least 1", file=sys.stderr)  # noqa: T201 - the command's own output
        return 2
    if options.instances < 1 or (options.instances > 1 and not options.database_url):
        print(  # noqa: T201 - the command's own output
            "error: --instances must be at least 1, and more than one share a PostgreSQL database: give --database-url",
            file=sys.stderr,
        )
        return 2
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        figures = runner.run(run(options))
    if args.out is not None:
        write_json(figures, args.out)
    print(table(figures))  # noqa: T201 - the command's own output
    return 0 if figures["passed"] else 1
