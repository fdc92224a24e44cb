"""Signing in: the signed session cookie, its CSRF token, and the login throttle.

The cookie holds the user's name and a random CSRF token, signed with a key derived from
``DUBAN_SECRET`` (itsdangerous), so it cannot be forged or edited; it is HttpOnly and
SameSite=Lax. Every form carries the token and every POST is refused without it (a page of
another site cannot read it). The account is looked up again on every request, so a disabled
account is signed out at its next click.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from duban.clock import Clock

COOKIE = "duban_board"
MAX_AGE_SECONDS = 12 * 3600
"""A working day: a session left open overnight asks for the password again."""


@dataclass
class BoardSession:
    user: str | None
    csrf: str
    flash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"u": self.user, "t": self.csrf, "f": self.flash}


class Cookies:
    """Signs and reads the session cookie with a key only this board knows."""

    def __init__(self, secret: bytes) -> None:
        key = hmac.new(secret, b"duban board session", hashlib.sha256).hexdigest()
        self._signer = URLSafeTimedSerializer(key, salt="duban-board")

    def dump(self, session: BoardSession) -> str:
        return self._signer.dumps(session.as_dict())

    def load(self, value: str | None) -> BoardSession:
        """The session the cookie holds, or a fresh signed-out one (new CSRF token)."""
        if value:
            try:
                data = self._signer.loads(value, max_age=MAX_AGE_SECONDS)
            except BadSignature:
                data = None
            if isinstance(data, dict) and isinstance(data.get("t"), str):
                user = data.get("u")
                flash = data.get("f")
                return BoardSession(
                    user if isinstance(user, str) else None,
                    data["t"],
                    flash if isinstance(flash, str) else None,
                )
        return BoardSession(None, secrets.token_urlsafe(24))


def token_matches(session: BoardSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf, str(given))


MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


@dataclass
class LoginThrottle:
    """At most ``MAX_FAILURES`` wrong passwords per address and per user name in ``WINDOW``:
    a guesser is slowed to a handful of tries an hour; the right password clears its count."""

    clock: Clock
    failures: dict[str, list[datetime]] = field(default_factory=dict)
    lock: Lock = field(default_factory=Lock)

    def blocked(self, *keys: str) -> bool:
        now = self.clock.now()
        with self.lock:
            return any(len(self._recent(key, now)) >= MAX_FAILURES for key in keys)

    def failed(self, *keys: str) -> None:
        now = self.clock.now()
        with self.lock:
            for key in keys:
                self.failures[key] = [*self._recent(key, now), now]

    def succeeded(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.failures.pop(key, None)

    def _recent(self, key: str, now: datetime) -> list[datetime]:
        return [t for t in self.failures.get(key, []) if now - t < WINDOW]
