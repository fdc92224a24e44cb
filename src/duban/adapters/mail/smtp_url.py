"""Read ``DUBAN_SMTP_URL`` into a frozen ``SmtpConfig``.

One URL says everything about the outgoing server, so a coordinator changes one setting::

    smtp://127.0.0.1:2525                        plain, no login (a local relay)
    smtp+starttls://user:pass@mail.example:587   STARTTLS, then login
    smtps://user:pass@mail.example:465           TLS from the first byte, then login

User and password are percent-decoded (``%40`` for ``@``, ``%2F`` for ``/``). Certificates are
verified against the system's trust store unless the URL says ``?cafile=/path/ca.pem`` (trust
that CA instead, for an internal CA) or ``?verify=false`` (no verification: only for a trusted
network). ``?timeout=30`` sets the socket timeout in seconds.

Errors never repeat the URL as given: a password with an unencoded ``/``, ``?`` or ``#`` makes
the parser put a piece of it where the host, port, path or query should be, so messages name
only the part that is wrong.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from duban.adapters.mail.errors import SMTP_URL_VARIABLE
from duban.adapters.urls import (
    DEFAULT_TIMEOUT,
    ENCODING_HINT,
    Options,
    Security,
    read_host,
    read_options,
    read_port,
    tls_context,
)
from duban.errors import ConfigError

__all__ = ["DEFAULT_TIMEOUT", "Security", "SmtpConfig", "parse_smtp_url"]

_SCHEMES = {"smtp": Security.PLAIN, "smtp+starttls": Security.STARTTLS, "smtps": Security.TLS}
_DEFAULT_PORTS = {Security.PLAIN: 25, Security.STARTTLS: 587, Security.TLS: 465}
_TLS_HINT = "use smtp+starttls:// or smtps://, or drop the option"


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect; ``repr`` and ``redacted`` leave the password out."""

    host: str
    port: int
    security: Security = Security.PLAIN
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool = True
    cafile: Path | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def login(self) -> bool:
        """Log in only when the URL gave user information."""
        return self.user is not None

    @property
    def scheme(self) -> str:
        return next(name for name, security in _SCHEMES.items() if security is self.security)

    def redacted(self) -> str:
        """The URL without the password, for messages and logs."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = "" if self.user is None else quote(self.user, safe="") + "@"
        return f"{self.scheme}://{user}{host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client TLS context the URL asks for; ``None`` for plain ``smtp://``."""
        return tls_context(self.security, Options(self.verify, self.cafile), _error)


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse one ``DUBAN_SMTP_URL`` value; raise ``ConfigError`` naming what is wrong."""
    parts = urlsplit(url.strip())
    security = _SCHEMES.get(parts.scheme)
    if security is None:
        raise _error(
            f"unsupported scheme {parts.scheme + '://' if parts.scheme else '(none)'}",
            "write smtp://host:25, smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465",
        )
    if "@" in parts.path + parts.query + parts.fragment or parts.path not in ("", "/"):
        raise _error("text after the host could not be read", ENCODING_HINT)
    if parts.fragment:
        raise _error("a '#' follows the host", ENCODING_HINT)
    user, password = _user_info(parts.username, parts.password)
    options = read_options(parts.query, security, _error, _TLS_HINT)
    return SmtpConfig(
        host=read_host(parts.hostname, _error, "write the server as smtp://host:port"),
        port=read_port(parts, security, _DEFAULT_PORTS, _error),
        security=security,
        user=user,
        password=password,
        verify=options.verify,
        cafile=options.cafile,
        timeout=options.timeout,
    )


def _error(message: str, hint: str) -> ConfigError:
    return ConfigError(f"{SMTP_URL_VARIABLE}: {message}", hint=hint)


def _user_info(user: str | None, password: str | None) -> tuple[str | None, str | None]:
    if user is None:
        return None, None
    if user == "":
        raise _error("a password is given without a user name", "write smtps://user:pass@host")
    if password is None:
        raise _error(
            "a user name is given without a password",
            "write user:password@host (user:@host for an empty password)",
        )
    return unquote(user), unquote(password)
