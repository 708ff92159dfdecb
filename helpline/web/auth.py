"""Who is asking: the session cookie, and the CSRF token every state-changing request must carry."""

from __future__ import annotations

import hmac

from aiohttp import web

from helpline.core.accounts import Accounts, SignedIn
from helpline.core.models import Session
from helpline.core.networks import UNKNOWN, forwarded_address, network_of
from helpline.errors import Forbidden, NotSignedIn

COOKIE = "helpline_session"
CSRF_HEADER = "X-CSRF-Token"


class SessionAuth:
    """Reads and writes the session cookie; checks CSRF tokens."""

    def __init__(self, accounts: Accounts, *, secure_cookies: bool, trusted_proxy_hops: int = 0) -> None:
        self._accounts = accounts
        self._secure = secure_cookies
        self._hops = trusted_proxy_hops

    def network(self, request: web.Request) -> str:
        """The network the request comes from (for sign-in throttling only): ``UNKNOWN`` when our own proxies
        should have recorded the client in X-Forwarded-For and did not."""
        if self._hops > 0:
            forwarded = forwarded_address(request.headers.get("X-Forwarded-For", ""), self._hops)
            return UNKNOWN if forwarded is None else network_of(forwarded)
        return network_of(request.remote or "")

    async def session(self, request: web.Request, *, unenrolled: bool = False) -> Session:
        """The signed-in session, or NotSignedIn; before two-factor enrolment, only where ``unenrolled``."""
        token = request.cookies.get(COOKIE)
        if not token or len(token) > 128:
            raise NotSignedIn("Please sign in.")
        session = await self._accounts.session(token)
        if not unenrolled and self._accounts.must_enrol(session.user):
            raise Forbidden("Set up two-factor sign-in before using the console.", must_enrol_totp=True)
        return session

    async def session_for_change(self, request: web.Request, *, unenrolled: bool = False) -> Session:
        """The session, for a request that changes something: the CSRF token must match too."""
        session = await self.session(request, unenrolled=unenrolled)
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise Forbidden("The page is out of date (missing or wrong CSRF token). Reload it and try again.")
        return session

    def set_cookie(self, response: web.StreamResponse, signed_in: SignedIn) -> None:
        response.set_cookie(COOKIE, signed_in.token, httponly=True, samesite="Strict", secure=self._secure, path="/")

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/")
