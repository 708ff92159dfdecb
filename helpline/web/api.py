"""``/api`` for the signed-in user: sign-in and out, the session, presence, two-factor enrolment."""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from aiohttp import web

from helpline.core.accounts import Accounts
from helpline.core.models import User
from helpline.core.password_changes import PasswordChanges
from helpline.core.shift import Shift
from helpline.errors import NotSignedIn
from helpline.settings import Outcome
from helpline.web.auth import COOKIE, SessionAuth
from helpline.web.requests import bool_field, read_json, text_field


def user_json(user: User, accounts: Accounts) -> dict[str, object]:
    return {
        "username": user.username,
        "roles": user.role_names,
        "availability": user.availability,
        "totp_enabled": user.totp_enabled,
        "must_enrol_totp": accounts.must_enrol(user),
    }


def _choices(items: Sequence[Outcome]) -> list[dict[str, str]]:
    return [{"code": item.code, "label": item.label} for item in items]


class SessionApi:
    """Signing in and out, the session's view of the user, presence and two-factor enrolment."""

    def __init__(
        self,
        auth: SessionAuth,
        accounts: Accounts,
        shift: Shift,
        password_changes: PasswordChanges,
        *,
        outcomes: Sequence[Outcome],
        contact_types: Sequence[Outcome],
        missing_types: Sequence[Outcome],
        consent_wording: str,
        max_concurrent: int,
        helpline_name: str,
        safeguarding_categories: Sequence[str],
        oncall_channel: str = "",
        ack_seconds: int = 120,
        emergency_instruction: str = "",
        locale: str = "en-GB",
        timezone: str = "Europe/London",
    ) -> None:
        self._auth = auth
        self._accounts = accounts
        self._shift = shift
        self._password_changes = password_changes
        self._config = {
            "outcomes": _choices(outcomes),
            "contact_types": _choices(contact_types),
            "missing_types": _choices(missing_types),
            "consent_wording": consent_wording,
            "max_concurrent": max_concurrent,
            "helpline_name": helpline_name,
            "safeguarding_categories": list(safeguarding_categories),
            "oncall_channel": oncall_channel or None,
            "ack_seconds": ack_seconds,
            "emergency_instruction": emergency_instruction,
            "locale": locale,
            "timezone": timezone,
        }

    async def login(self, request: web.Request) -> web.Response:
        # JSON only: a cross-site form cannot send it without a CORS preflight, so login needs no token.
        data = await read_json(request)
        username = text_field(data, "username", max_chars=64)
        password = text_field(data, "password", max_chars=1024)
        code = text_field(data, "totp", max_chars=16, required=False) or None
        previous = request.cookies.get(COOKIE)
        signed_in = await self._accounts.sign_in(username, password, code, self._auth.network(request))
        if previous:
            await self._end_previous(previous)
        user = signed_in.session.user
        response = web.json_response(
            {"csrf_token": signed_in.session.csrf_token, "user": user_json(user, self._accounts)}
        )
        self._auth.set_cookie(response, signed_in)
        return response

    async def _end_previous(self, token: str) -> None:
        try:
            session = await self._accounts.session(token)
        except NotSignedIn:
            return
        await self._accounts.sign_out(session)

    async def logout(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request, unenrolled=True)
        await self._accounts.sign_out(session)
        # Nobody answers for a holder who signed out: what they held goes back to the queue at once.
        returned = await self._shift.signed_out(session.user)
        response = web.json_response({"signed_out": True, "returned": returned})
        self._auth.clear_cookie(response)
        response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        return response

    async def session(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request, unenrolled=True)
        sound = await self._shift.message_sound(session.user)
        return web.json_response(
            {
                "csrf_token": session.csrf_token,
                "user": user_json(session.user, self._accounts),
                "message_sound": sound,
                **self._config,
            }
        )

    async def change_password(self, request: web.Request) -> web.Response:
        """Change one's own password: the current one, and a code when two-factor sign-in is on."""
        session = await self._auth.session_for_change(request)
        data = await read_json(request)
        current = text_field(data, "current", max_chars=1024)
        new = text_field(data, "new", max_chars=1024)
        code = text_field(data, "totp", max_chars=16, required=False) or None
        await self._password_changes.change_own(session, current, new, code)
        return web.json_response({"changed": True})

    async def message_sound(self, request: web.Request) -> web.Response:
        """Turn the tone for new contact messages on or off for this user."""
        session = await self._auth.session_for_change(request)
        on = bool_field(await read_json(request), "on")
        await self._shift.set_message_sound(session.user, on)
        return web.json_response({"message_sound": on})

    async def availability(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        value = text_field(await read_json(request), "availability", max_chars=20)
        user = await self._accounts.set_availability(session.user, value)
        return web.json_response({"user": user_json(user, self._accounts)})

    async def totp_enrol(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request, unenrolled=True)
        data = await read_json(request)
        enrolment = await self._accounts.enrol_totp(
            session.user,
            code=text_field(data, "code", max_chars=16, required=False),
            password=text_field(data, "password", max_chars=1024, required=False),
            network=self._auth.network(request),
        )
        return web.json_response(
            {"secret": enrolment.secret, "otpauth_uri": enrolment.uri, "qr_svg_url": "/api/totp/qr.svg"}
        )

    async def totp_qr(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request, unenrolled=True)
        enrolment = await self._accounts.pending_totp(session.user)
        # A whole SVG document with its namespace: browsers will not show an <img> of inline-only SVG.
        buffer = io.BytesIO()
        segno.make(enrolment.uri, error="m").save(
            buffer, kind="svg", scale=6, xmldecl=False, svgns=True, title="Two-factor sign-in QR code"
        )
        return web.Response(body=buffer.getvalue(), content_type="image/svg+xml")

    async def totp_confirm(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request, unenrolled=True)
        code = text_field(await read_json(request), "code", max_chars=16)
        user = await self._accounts.confirm_totp(session.user, code)
        return web.json_response({"user": user_json(user, self._accounts)})
