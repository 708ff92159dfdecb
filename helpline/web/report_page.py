"""The Reports page's content, rendered on the server from a report's JSON form.

Each chart is an SVG picture with a table of the same figures beside it (the table is what a screen reader
reads) and a link that downloads those figures as CSV. The page shows exact counts; its downloads follow the
small-number rule (``core/reports/export.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any
from urllib.parse import urlencode

from helpline.web import report_charts

CHANNEL_LABELS = {"sms": "SMS", "webchat": "Web chat", "email": "Email"}
WAIT_LABELS = {
    "under_1_min": "Under 1 minute",
    "1_to_5_min": "1 to 5 minutes",
    "5_to_15_min": "5 to 15 minutes",
    "15_to_60_min": "15 to 60 minutes",
    "60_min_and_over": "An hour or more",
}
DECISION_LABELS = {
    "advice_given": "Advice given",
    "referred": "Referred",
    "emergency_services": "Emergency services contacted",
    "no_further_action": "No further action",
    "undecided": "Not yet decided",
}
WEEKDAY_LABELS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


@dataclass(frozen=True)
class Labels:
    """What each code is called on the page (codes without a label are shown in words)."""

    names: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, code: str) -> str:
        return self.names.get(code) or code.replace("_", " ").capitalize()


def render(data: Mapping[str, Any], labels: Labels, *, small_numbers_below: int) -> str:
    """The ``<main>`` content below the period form: every section of the report."""
    query = {"from": data["from"], "to": data["to"]}
    contacts, service = data["conversations"], data["service"]
    safeguarding, volunteers = data["safeguarding"], data["volunteers"]
    everything = "/api/reports.csv?" + urlencode(query)
    json_link = "/api/reports?" + urlencode(query)
    parts = [
        f'<p class="summary" id="report-period">{escape(data["from"])} to {escape(data["to"])}'
        f" ({escape(data['timezone'])}), from content-free statistics only.</p>",
        f'<p><a href="{escape(everything)}" download>Download the whole report (CSV)</a> ·'
        f' <a href="{escape(json_link)}" download>JSON</a></p>',
        f'<p class="summary">In downloads, a count in a breakdown that is above 0 and below {small_numbers_below}'
        f" is shown as &lt;{small_numbers_below}, so a report passed on cannot single anyone out.</p>"
        if small_numbers_below > 1
        else "",
        '<section aria-labelledby="contacts-heading"><h2 id="contacts-heading">Contacts</h2>',
        _numbers(
            [
                ("Conversations", contacts["total"]),
                ("New contacts", contacts["new"]),
                ("Returning contacts (consented records)", contacts["returning"]),
                ("Out of hours", service["out_of_hours"]),
            ]
        ),
        _figure(
            query,
            "service.by_day",
            "Conversations by day",
            _items(service["by_day"], _long_day),
            label_every=_every(service["by_day"]),
            chart_items=_items(service["by_day"], _short_day),
        ),
        _figure(query, "conversations.by_outcome", "Outcomes", _items(contacts["by_outcome"], labels), horizontal=True),
        _figure(query, "conversations.by_channel", "By channel", _items(contacts["by_channel"], CHANNEL_LABELS.get)),
        _figure(
            query, "conversations.by_contact_type", "Who was contacting", _items(contacts["by_contact_type"], labels)
        ),
        _figure(query, "conversations.by_missing_type", "Kind of missing", _items(contacts["by_missing_type"], labels)),
        "</section>",
        '<section aria-labelledby="service-heading"><h2 id="service-heading">Service</h2>',
        _numbers(
            [
                ("Answered", service["answered"]),
                ("Left before an answer", service["left_before_answer"]),
                ("Closed without an answer", service["closed_unanswered"]),
                ("Still waiting", service["waiting"]),
                ("Median time to first answer", _seconds(service["first_answer_seconds"]["median"])),
                ("90% answered within", _seconds(service["first_answer_seconds"]["p90"])),
                ("Median handling time", _seconds(service["handling_seconds"]["median"])),
                ("90% handled within", _seconds(service["handling_seconds"]["p90"])),
            ]
        ),
        _figure(
            query,
            "service.first_answer_waits",
            "Waits for a first answer",
            _items(service["first_answer_waits"], WAIT_LABELS.get),
            horizontal=True,
        ),
        _figure(
            query,
            "service.by_hour",
            "Conversations by hour of day",
            _items(service["by_hour"], lambda h: f"{h}:00"),
            label_every=3,
        ),
        _figure(
            query,
            "service.by_weekday",
            "Conversations by day of week",
            _items(service["by_weekday"], WEEKDAY_LABELS.get),
        ),
        "</section>",
        '<section aria-labelledby="safeguarding-heading"><h2 id="safeguarding-heading">Safeguarding</h2>',
        _numbers(
            [
                ("Escalations", safeguarding["escalations"]),
                ("Not yet acknowledged", safeguarding["unacknowledged"]),
                ("Median time to acknowledge", _seconds(safeguarding["acknowledgement_seconds"]["median"])),
                ("90% acknowledged within", _seconds(safeguarding["acknowledgement_seconds"]["p90"])),
                ("Slowest acknowledgement", _seconds(safeguarding["acknowledgement_seconds"]["slowest"])),
            ]
        ),
        _figure(
            query,
            "safeguarding.by_category",
            "Escalations by category",
            _items(safeguarding["by_category"], labels),
            horizontal=True,
        ),
        _figure(query, "safeguarding.by_level", "Escalations by level", _items(safeguarding["by_level"], labels)),
        _figure(
            query,
            "safeguarding.by_decision",
            "Decisions",
            _items(safeguarding["by_decision"], DECISION_LABELS.get),
            horizontal=True,
        ),
        _figure(
            query,
            "safeguarding.disclosures",
            "Disclosures to emergency services",
            _items(safeguarding["disclosures"], labels),
        ),
        "</section>",
        '<section aria-labelledby="volunteers-heading"><h2 id="volunteers-heading">Volunteers</h2>',
        _numbers(
            [
                ("Hours available", volunteers["hours_available"]),
                ("Conversations handled", volunteers["conversations_handled"]),
            ]
        ),
        _people(volunteers.get("people")),
        "</section>",
    ]
    return "\n".join(parts)


def _items(counts: Mapping[str, Any], name: Callable[[str], str | None] = str) -> list[tuple[str, int]]:
    """A breakdown's (label, count) pairs; a code the label function does not know is put in words."""
    return [(name(key) or Labels()(key), int(value)) for key, value in counts.items()]


def _every(counts: Mapping[str, Any]) -> int:
    """Label about a dozen days at most under a chart of days."""
    return max(1, -(-len(counts) // 12))


def _figure(
    query: Mapping[str, str],
    only: str,
    title: str,
    items: Sequence[tuple[str, int]],
    *,
    horizontal: bool = False,
    label_every: int = 1,
    chart_items: Sequence[tuple[str, int]] | None = None,
) -> str:
    ident = only.replace(".", "-").replace("_", "-")
    drawn = items if chart_items is None else chart_items
    picture = report_charts.rows(drawn) if horizontal else report_charts.columns(drawn, label_every=label_every)
    csv = "/api/reports.csv?" + urlencode({**query, "only": only})
    body = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>' for k, v in items)
    return (
        f'<figure class="report-figure" aria-labelledby="{ident}-title">'
        f'<figcaption id="{ident}-title" class="report-figure-title">{escape(title)}</figcaption>'
        f'<div class="report-figure-body"><div class="chart-wrap">{picture}</div>'
        f'<div class="table-wrap"><table class="queue-table report-table" id="{ident}-table">'
        f'<caption class="visually-hidden">{escape(title)}</caption>'
        f'<thead><tr><th scope="col">Item</th><th scope="col">Count</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div></div>"
        f'<p><a href="{escape(csv)}" download>Download “{escape(title)}” (CSV)</a></p></figure>'
    )


def _numbers(items: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(f"<div><dt>{escape(name)}</dt><dd>{escape(str(value))}</dd></div>" for name, value in items)
    return f'<dl class="counts">{cells}</dl>'


def _people(people: Sequence[Mapping[str, Any]] | None) -> str:
    if people is None:
        return '<p class="summary">Figures per person are shown to supervisors.</p>'
    if not people:
        return '<p class="summary">No one was available or answered in this period.</p>'
    body = "".join(
        f'<tr><th scope="row">{escape(p["username"])}</th><td>{p["hours_available"]}</td>'
        f"<td>{p['conversations_handled']}</td></tr>"
        for p in people
    )
    return (
        '<div class="table-wrap"><table class="queue-table report-table" id="people-table">'
        '<caption>Each person</caption><thead><tr><th scope="col">Name</th>'
        '<th scope="col">Hours available</th><th scope="col">Conversations handled</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _long_day(iso: str) -> str:
    """``Mon 2 Mar 2026``, for a table."""
    day = date.fromisoformat(iso)
    return f"{day:%a} {day.day} {day:%b %Y}"


def _short_day(iso: str) -> str:
    """``2 Mar``, under a chart's bar."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b}"


def _seconds(value: int | None) -> str:
    """A duration in words: 45 s, 3 min 05 s, 2 h 04 min; a dash when there was nothing to measure."""
    if value is None:
        return "—"
    if value < 60:
        return f"{value} s"
    if value < 3600:
        return f"{value // 60} min {value % 60:02d} s"
    return f"{value // 3600} h {value % 3600 // 60:02d} min"
