"""The ``helpline report`` subcommand: a report over a period, as text, CSV or JSON on standard output.

It reads the content-free statistics only, with the small-number rule applied (``reports.small_number_threshold``),
and shows totals for volunteers, as an admin sees them in the console.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from helpline.app import Helpline
from helpline.cli_instance import run_on_store, settings_of
from helpline.core.reports.export import SmallNumbers, as_csv, as_json, as_text

ConfigOption = Callable[[argparse.ArgumentParser], None]
FORMATS = ("text", "csv", "json")


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser], config_option: ConfigOption) -> None:
    """Register ``report`` on the ``helpline`` command."""
    report = commands.add_parser(
        "report", help="print the figures for a period (contacts, service, safeguarding, volunteers)"
    )
    report.add_argument("--from", dest="first", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="last", required=True, metavar="DATE", help="last day (included), YYYY-MM-DD")
    report.add_argument("--format", choices=FORMATS, default="text")
    config_option(report)
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    small = SmallNumbers(settings.reports.small_number_threshold)

    async def figures(helpline: Helpline) -> dict[str, object]:
        period = helpline.reports.period(args.first, args.last)
        return as_json(await helpline.reports.for_operator(period), small)

    data = run_on_store(settings, figures)
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(as_csv(data))
    else:
        sys.stdout.write(as_text(data))
    return 0
