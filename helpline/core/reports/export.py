"""A report as JSON, CSV and text, with the small-number rule applied to what leaves the console.

The small-number rule: in a breakdown narrower than the whole helpline (a count per channel, outcome,
classification, hour, day, weekday, wait band, category, level, decision or disclosure state, new and returning
contacts, and each person's conversations), a count from 1 up to the threshold (not included) is shown as
``"<N"``, so a report passed outside the charity cannot single anyone out. Zero stays 0; the whole helpline's
figures (totals, answered, left, waiting, out of hours, durations, hours) are always exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpline.core.reports.figures import Durations, Report

Count = int | str


@dataclass(frozen=True)
class SmallNumbers:
    """Counts below ``threshold`` (and above zero) are shown as ``"<threshold"``; 0 or 1 shows every count."""

    threshold: int

    def __call__(self, count: int) -> Count:
        return f"<{self.threshold}" if 0 < count < self.threshold else count

    def each(self, counts: Mapping[str, int]) -> dict[str, Count]:
        return {key: self(value) for key, value in counts.items()}


EXACT = SmallNumbers(0)


def as_json(report: Report, small: SmallNumbers = EXACT) -> dict[str, Any]:
    """The report's JSON form (README, "Reports": every field)."""
    period = report.period
    volunteers: dict[str, Any] = {
        "hours_available": report.hours_available,
        "conversations_handled": report.conversations_handled,
    }
    if report.people is not None:
        volunteers["people"] = [
            {
                "username": p.username,
                "hours_available": p.hours_available,
                "conversations_handled": small(p.conversations_handled),
            }
            for p in report.people
        ]
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "timezone": period.timezone,
        "made_at": report.made_at.isoformat().replace("+00:00", "Z"),
        "small_numbers_below": small.threshold,
        "conversations": {
            "total": report.total,
            "by_channel": small.each(report.by_channel),
            "new": small(report.new),
            "returning": small(report.returning),
            "by_contact_type": small.each(report.by_contact_type),
            "by_missing_type": small.each(report.by_missing_type),
            "by_outcome": small.each(report.by_outcome),
        },
        "service": {
            "answered": report.answered,
            "left_before_answer": report.left_before_answer,
            "closed_unanswered": report.closed_unanswered,
            "waiting": report.waiting,
            "first_answer_seconds": _durations(report.first_answer),
            "first_answer_waits": small.each(report.first_answer_waits),
            "handling_seconds": _durations(report.handling),
            "by_day": small.each(report.by_day),
            "by_hour": small.each(report.by_hour),
            "by_weekday": small.each(report.by_weekday),
            "out_of_hours": report.out_of_hours,
        },
        "safeguarding": {
            "escalations": report.escalations,
            "by_category": small.each(report.by_category),
            "by_level": small.each(report.by_level),
            "by_decision": small.each(report.by_decision),
            "acknowledgement_seconds": _durations(report.acknowledgement),
            "unacknowledged": report.unacknowledged,
            "disclosures": {
                "requested": report.disclosures["requested"],
                **{k: small(v) for k, v in report.disclosures.items() if k != "requested"},
            },
        },
        "volunteers": volunteers,
    }


CSV_HEADER = ("section", "figure", "item", "value")


def csv_rows(data: Mapping[str, Any], only: str | None = None) -> list[tuple[str, str, str, str]]:
    """The JSON form as rows of (section, figure, item, value); ``only`` keeps one ``section.figure``."""
    rows: list[tuple[str, str, str, str]] = []
    for section in ("conversations", "service", "safeguarding", "volunteers"):
        for figure, value in data[section].items():
            if only is not None and only != f"{section}.{figure}":
                continue
            if isinstance(value, dict):
                rows.extend((section, figure, str(k), _cell(v)) for k, v in value.items())
            elif isinstance(value, list):
                for person in value:
                    rows.extend(
                        (section, f"people.{k}", person["username"], _cell(v))
                        for k, v in person.items()
                        if k != "username"
                    )
            else:
                rows.append((section, figure, "", _cell(value)))
    return rows


def as_csv(data: Mapping[str, Any], only: str | None = None) -> str:
    """CSV with a header row; the period is in the first rows (``report,from``, ``report,to``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(("report", "from", "", data["from"]))
    writer.writerow(("report", "to", "", data["to"]))
    writer.writerow(("report", "timezone", "", data["timezone"]))
    writer.writerows(csv_rows(data, only))
    return out.getvalue()


def as_text(data: Mapping[str, Any]) -> str:
    """A plain-text summary for a terminal: every figure, one to a line."""
    lines = [f"Report {data['from']} to {data['to']} ({data['timezone']})"]
    for section in ("conversations", "service", "safeguarding", "volunteers"):
        lines.append("")
        lines.append(section.capitalize())
        for figure, value in data[section].items():
            name = figure.replace("_", " ")
            if isinstance(value, dict):
                lines.append(f"  {name}:")
                lines.extend(f"    {str(k).replace('_', ' ')}: {_cell(v)}" for k, v in value.items())
            elif isinstance(value, list):
                lines.append(f"  {name}:")
                lines.extend(
                    f"    {p['username']}: {p['hours_available']} hours available,"
                    f" {p['conversations_handled']} conversations handled"
                    for p in value
                )
            else:
                lines.append(f"  {name}: {_cell(value)}")
    return "\n".join(lines) + "\n"


def _durations(durations: Durations) -> dict[str, int | None]:
    return {"median": durations.median, "p90": durations.p90, "slowest": durations.slowest}


def _cell(value: object) -> str:
    return "" if value is None else str(value)
