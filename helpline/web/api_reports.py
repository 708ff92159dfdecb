"""Reports in the console: the Reports page, its JSON and CSV downloads, and the floor's figures for today."""

from __future__ import annotations

from datetime import date
from html import escape

from aiohttp import web

from helpline.clock import Clock
from helpline.core.reports.export import EXACT, SmallNumbers, as_csv, as_json
from helpline.core.reports.period import Period, today
from helpline.core.reports.service import Reports
from helpline.errors import Forbidden, InvalidInput, NotSignedIn
from helpline.web.auth import SessionAuth
from helpline.web.pages import Pages
from helpline.web.report_page import Labels, render

PAGE = "reports.html"
REPORT_MARK = "<!-- the report, rendered on the server -->"
# The parts of a report one CSV download may be narrowed to (``only=section.figure``).
_SECTIONS = ("conversations", "service", "safeguarding", "volunteers")


class ReportApi:
    def __init__(
        self,
        auth: SessionAuth,
        reports: Reports,
        pages: Pages,
        labels: Labels,
        small: SmallNumbers,
        clock: Clock,
    ) -> None:
        self._auth = auth
        self._reports = reports
        self._shell = pages.assemble(PAGE)
        self._labels = labels
        self._small = small
        self._clock = clock

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The Reports page: a period form, then the report (exact counts) with its charts and tables."""
        try:
            session = await self._auth.session(request)
        except NotSignedIn:
            raise web.HTTPFound("/login") from None
        except Forbidden as refused:
            if refused.details.get("must_enrol_totp"):
                raise web.HTTPFound("/console/totp") from None
            raise
        try:
            period = self._period(request, default=True)
            report = await self._reports.for_user(session.user, period)
        except Forbidden as refused:
            return self._html(self._notice(refused.public_message), "", "", status=403)
        except InvalidInput as invalid:
            query = request.query
            return self._html(
                self._notice(invalid.public_message), query.get("from", ""), query.get("to", ""), status=400
            )
        content = render(as_json(report, EXACT), self._labels, small_numbers_below=self._small.threshold)
        return self._html(content, period.first.isoformat(), period.last.isoformat())

    async def json(self, request: web.Request) -> web.Response:
        """The report's JSON form, with the small-number rule applied."""
        session = await self._auth.session(request)
        report = await self._reports.for_user(session.user, self._period(request))
        return web.json_response(as_json(report, self._small))

    async def csv(self, request: web.Request) -> web.Response:
        """The report as CSV (all of it, or one ``only=section.figure``), with the small-number rule applied."""
        session = await self._auth.session(request)
        only = request.query.get("only") or None
        period = self._period(request)
        data = as_json(await self._reports.for_user(session.user, period), self._small)
        if only is not None:
            section, _, figure = only.partition(".")
            if section not in _SECTIONS or figure not in data[section]:
                raise InvalidInput("'only' names one part of the report, like service.by_day.")
        part = "-" + only.replace(".", "-").replace("_", "-") if only else ""
        name = f"helpline-report-{period.first}-to-{period.last}{part}.csv"
        return web.Response(
            text=as_csv(data, only),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def today(self, request: web.Request) -> web.Response:
        """The floor's figures for today: answered, waiting, longest wait, left before an answer."""
        session = await self._auth.session(request)
        figures = await self._reports.today(session.user)
        return web.json_response(
            {
                "answered": figures.answered,
                "waiting": figures.waiting,
                "longest_wait_seconds": figures.longest_wait_seconds,
                "left_before_answer": figures.left_before_answer,
                "waiting_longest_seconds": figures.waiting_longest_seconds,
            }
        )

    def _period(self, request: web.Request, *, default: bool = False) -> Period:
        first, last = request.query.get("from"), request.query.get("to")
        if default and not first and not last:
            # This month so far.
            day = today(self._clock.now(), self._reports.timezone).first
            first, last = date(day.year, day.month, 1).isoformat(), day.isoformat()
        return self._reports.period(first, last)

    def _html(self, content: str, first: str, last: str, *, status: int = 200) -> web.Response:
        html = (
            self._shell.replace("__FROM__", escape(first, quote=True))
            .replace("__TO__", escape(last, quote=True))
            .replace(REPORT_MARK, content)
        )
        return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)

    @staticmethod
    def _notice(message: str) -> str:
        return f'<p class="alert" role="alert">{escape(message)}</p>'
