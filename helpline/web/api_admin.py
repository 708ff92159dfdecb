"""``/api/admin``: accounts, canned responses and opening hours. Every change is audited."""

from __future__ import annotations

from aiohttp import web

from helpline.clock import Clock
from helpline.core.accounts import Accounts
from helpline.core.canned import Canned
from helpline.core.hours import HoursBook
from helpline.core.password_changes import PasswordChanges
from helpline.errors import Forbidden, InvalidInput
from helpline.web.auth import SessionAuth
from helpline.web.requests import path_id, read_json, text_field

USER_ACTIONS = ("disable", "enable", "reset-totp", "unlock", "reset-password")


class AdminApi:
    def __init__(
        self,
        auth: SessionAuth,
        accounts: Accounts,
        canned: Canned,
        hours: HoursBook,
        clock: Clock,
        password_changes: PasswordChanges,
    ) -> None:
        self._auth = auth
        self._password_changes = password_changes
        self._accounts = accounts
        self._canned = canned
        self._hours = hours
        self._clock = clock

    async def users(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        users = await self._accounts.users(session.user)
        return web.json_response(
            {
                "users": [
                    {
                        "username": a.user.username,
                        "roles": a.user.role_names,
                        "disabled": a.user.disabled,
                        "locked": a.locked,
                        "totp_enabled": a.user.totp_enabled,
                        "availability": a.user.availability,
                    }
                    for a in users
                ]
            }
        )

    async def add_user(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        data = await read_json(request)
        username = text_field(data, "username", max_chars=32)
        roles = data.get("roles")
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles) or len(roles) > 3:
            raise InvalidInput("The field 'roles' must be a list of roles: volunteer, supervisor, admin.")
        password = await self._accounts.create_with_generated_password(session.user, username, roles)
        return web.json_response({"username": username, "roles": sorted(set(roles)), "password": password}, status=201)

    async def user_action(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        username = request.match_info["username"]
        action = request.match_info["action"]
        if action == "disable":
            await self._accounts.set_disabled(session.user, username, True)
        elif action == "enable":
            await self._accounts.set_disabled(session.user, username, False)
        elif action == "reset-totp":
            await self._accounts.reset_totp(session.user, username)
        elif action == "unlock":
            await self._accounts.unlock(session.user, username)
        elif action == "reset-password":
            # The new password is in this answer only: it is shown once, never stored in plaintext.
            password = await self._password_changes.reset(session.user, username)
            return web.json_response({"username": username, "password": password})
        else:
            raise web.HTTPNotFound
        return web.json_response({"username": username, "done": action})

    async def canned(self, request: web.Request) -> web.Response:
        await self._auth.session(request)
        return web.json_response(
            {
                "canned": [
                    {"id": c.id, "code": c.code, "title": c.title, "body": c.body} for c in await self._canned.all()
                ]
            }
        )

    async def save_canned(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        canned_id = path_id(request, "canned_id", "canned response") if "canned_id" in request.match_info else None
        data = await read_json(request)
        saved = await self._canned.save(
            session.user,
            canned_id,
            text_field(data, "code", max_chars=30),
            text_field(data, "title", max_chars=100),
            text_field(data, "body", max_chars=1600),
        )
        return web.json_response({"id": saved}, status=200 if canned_id else 201)

    async def delete_canned(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        await self._canned.delete(session.user, path_id(request, "canned_id", "canned response"))
        return web.json_response({"deleted": True})

    async def hours(self, request: web.Request) -> web.Response:
        session = await self._auth.session(request)
        if not session.user.is_admin:
            raise Forbidden("Only admins can see the opening hours settings.")
        current = self._hours.current
        return web.json_response(
            {
                "timezone": current.timezone,
                "days": {day: list(ranges) for day, ranges in current.days.items()},
                "closed_message": current.closed_message,
                "chat_closed_message": current.chat_closed_message,
                "open_now": current.is_open(self._clock.now()),
            }
        )

    async def save_hours(self, request: web.Request) -> web.Response:
        session = await self._auth.session_for_change(request)
        data = await read_json(request)
        days = data.get("days")
        if not isinstance(days, dict) or not all(isinstance(v, list) for v in days.values()):
            raise InvalidInput('The field \'days\' must be like {"mon": ["09:00-17:00"], "sun": []}.')
        closed = text_field(data, "closed_message", max_chars=1000)
        chat = text_field(data, "chat_closed_message", max_chars=1000, required=False)
        await self._hours.save(session.user, days, closed, chat)
        return web.json_response({"saved": True})
