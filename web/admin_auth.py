"""Who may use /admin: the holder of ILMASTO_ADMIN_TOKEN, and nobody while it is unset.

A browser logs in once with the token and then carries a signed, expiring session cookie (HttpOnly,
SameSite=Strict); scripts send ``Authorization: Bearer <token>`` with every request. Tokens are compared in
constant time, and failed attempts are limited per client address (``limits``, in memory) so that the token
cannot be guessed. Each session has its own CSRF token, checked on every POST together with the Origin header;
Bearer requests need neither, since a browser never adds that header to a forged request by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

COOKIE = "ilmasto_admin"
SESSION_S = 8 * 3600
FAILED_ATTEMPTS_PER_MINUTE = 5
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NOT_LOGGED_IN = "Kirjaudu ensin sisään ylläpitoon (/admin)."
WRONG_TOKEN = "Väärä tunnus."
TOO_MANY_ATTEMPTS = "Liian monta väärää yritystä. Odota hetki ja yritä sitten uudelleen."
FORGED = "Lomakkeen tarkiste puuttuu tai on vanhentunut. Lataa sivu uudelleen ja yritä uudelleen."
FOREIGN_ORIGIN = "Pyyntö tuli toiselta sivustolta, joten sitä ei käsitelty."
NO_LENGTH = "Pyynnön koko puuttuu (Content-Length)."
TOO_LARGE = "Pyyntö on liian suuri (enintään {mb:g} Mt)."


@dataclass(frozen=True)
class AdminSession:
    """An authenticated request: by cookie (with the session's CSRF token) or by Bearer token (csrf "")."""

    csrf: str
    by_cookie: bool


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class AdminAuth:
    """The token check, the session cookie, the attempt limit and the CSRF check of one app process."""

    def __init__(self, token: str, max_body_bytes: int):
        self._token = token.encode("utf-8")
        # Keyed by the token, so changing the token ends every session; a cookie never reveals the token.
        key = hmac.new(self._token, b"ilmasto-admin-session", hashlib.sha256).hexdigest()
        self._signer = URLSafeTimedSerializer(key, salt="ilmasto-admin")
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._attempts = RateLimitItemPerMinute(FAILED_ATTEMPTS_PER_MINUTE)
        self.max_body_bytes = max_body_bytes

    # ------------------------------------------------------------ token and attempts

    def token_matches(self, request: Request, given: str) -> bool:
        """Constant-time check of a presented token; a wrong one counts against the client's attempts."""
        self.refuse_if_locked_out(request)
        if hmac.compare_digest(given.encode("utf-8"), self._token):
            return True
        self._limiter.hit(self._attempts, client_address(request))
        return False

    def refuse_if_locked_out(self, request: Request) -> None:
        """429 while the client has used up its failed attempts."""
        address = client_address(request)
        if not self._limiter.test(self._attempts, address):
            reset = self._limiter.get_window_stats(self._attempts, address).reset_time
            raise HTTPException(429, TOO_MANY_ATTEMPTS,
                                headers={"Retry-After": str(max(1, math.ceil(reset - time.time())))})

    # ------------------------------------------------------------ sessions

    def start_session(self, request: Request, response: Response) -> None:
        """Give the browser a fresh signed session cookie with a new CSRF token."""
        value = self._signer.dumps({"csrf": secrets.token_urlsafe(32)})
        response.set_cookie(COOKIE, value, max_age=SESSION_S, path="/admin", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")

    @staticmethod
    def end_session(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="strict")

    def session(self, request: Request) -> AdminSession | None:
        """The request's admin session, or None; a wrong Bearer token is 401 (and counts as an attempt)."""
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, given = header.partition(" ")
            if scheme.lower() != "bearer" or not self.token_matches(request, given.strip()):
                raise HTTPException(401, WRONG_TOKEN, headers={"WWW-Authenticate": "Bearer"})
            return AdminSession(csrf="", by_cookie=False)
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_S)
        except BadSignature:  # also expired ones (SignatureExpired is a BadSignature)
            return None
        return AdminSession(csrf=str(data.get("csrf", "")), by_cookie=True) if isinstance(data, dict) else None

    # ------------------------------------------------------------ dependencies

    def require_admin(self, request: Request) -> AdminSession:
        """FastAPI dependency: the admin session, or 401."""
        session = self.session(request)
        if session is None:
            raise HTTPException(401, NOT_LOGGED_IN, headers={"WWW-Authenticate": "Bearer"})
        return session

    async def csrf(self, request: Request) -> str:
        """FastAPI dependency: the session's CSRF token for the page's forms (hidden field ``csrf``).

        On a POST it has already checked the Origin and, for cookie sessions, the token (403 otherwise).
        """
        session = self.require_admin(request)
        if request.method in SAFE_METHODS or not session.by_cookie:
            return session.csrf
        check_origin(request)
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            check_body_size(request, self.max_body_bytes)
            form = await request.form()
            given = str(form.get(CSRF_FIELD, ""))
        if not session.csrf or not hmac.compare_digest(given.encode("utf-8"), session.csrf.encode("utf-8")):
            raise HTTPException(403, FORGED)
        return session.csrf


def check_origin(request: Request) -> None:
    """403 when a browser says the request comes from another site (Origin, else Referer, names another host).

    Compares host and port with the Host header, which a reverse proxy must pass on unchanged; the scheme is
    left out because TLS usually ends at the proxy.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return  # not sent by a browser form (which always names its origin on a POST)
    host = request.headers.get("host", "")
    if source == "null" or urlsplit(source).netloc.lower() != host.lower():
        raise HTTPException(403, FOREIGN_ORIGIN)


def check_body_size(request: Request, max_bytes: int) -> None:
    """411/413 before a form is read: uploads are spooled to disk, so an unbounded body could fill it.

    The declared length is enough, since the server refuses a body that is longer than it says.
    """
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HTTPException(411, NO_LENGTH)
    if int(length) > max_bytes:
        raise HTTPException(413, TOO_LARGE.format(mb=max_bytes / 1e6))
