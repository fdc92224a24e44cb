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

import math
import re
import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote, urlsplit

from ..errors import ConfigError
from .errors import SMTP_URL_VARIABLE

DEFAULT_TIMEOUT = 30.0
_ENCODING_HINT = (
    "percent-encode / ? # @ : % in the user name and password (%2F %3F %23 %40 %3A %25)"
)
_OPTION_NAME = re.compile(r"[A-Za-z_]{1,30}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Security(StrEnum):
    """How the connection is protected: the URL scheme, in words."""

    PLAIN = "plain"
    STARTTLS = "starttls"
    TLS = "tls"


_SCHEMES = {"smtp": Security.PLAIN, "smtp+starttls": Security.STARTTLS, "smtps": Security.TLS}
_DEFAULT_PORTS = {Security.PLAIN: 25, Security.STARTTLS: 587, Security.TLS: 465}


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
        if self.security is Security.PLAIN:
            return None
        if not self.verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        try:
            return ssl.create_default_context(cafile=None if self.cafile is None else self.cafile)
        except (OSError, ssl.SSLError):
            raise _error(
                f"the CA file {self.cafile} cannot be read as PEM certificates",
                "set ?cafile= in DUBAN_SMTP_URL to a readable PEM file",
            ) from None


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
        raise _error("text after the host could not be read", _ENCODING_HINT)
    if parts.fragment:
        raise _error("a '#' follows the host", _ENCODING_HINT)
    user, password = _user_info(parts.username, parts.password)
    options = _options(parts.query, security)
    return SmtpConfig(
        host=_host(parts.hostname),
        port=_port(parts, security),
        security=security,
        user=user,
        password=password,
        verify=options.verify,
        cafile=options.cafile,
        timeout=options.timeout,
    )


def _error(message: str, hint: str) -> ConfigError:
    return ConfigError(f"{SMTP_URL_VARIABLE}: {message}", hint=hint)


def _host(hostname: str | None) -> str:
    if not hostname or any(ch.isspace() for ch in hostname):
        raise _error("no host name", "write the server as smtp://host:port")
    return hostname


def _port(parts: SplitResult, security: Security) -> int:
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        return _DEFAULT_PORTS[security]
    if not 1 <= port <= 65535:
        raise _error("the port is not a number from 1 to 65535", _ENCODING_HINT)
    return port


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


@dataclass(frozen=True)
class _Options:
    verify: bool = True
    cafile: Path | None = None
    timeout: float = DEFAULT_TIMEOUT


def _options(query: str, security: Security) -> _Options:
    values = _query_values(query)
    if security is Security.PLAIN and ({"verify", "cafile"} & values.keys()):
        raise _error(
            "?verify and ?cafile apply only to TLS",
            "use smtp+starttls:// or smtps://, or drop the option",
        )
    verify = _flag(values.get("verify", "true"))
    cafile = _cafile(values.get("cafile"))
    if cafile is not None and not verify:
        raise _error("?cafile and ?verify=false contradict each other", "keep one of them")
    timeout = _timeout(values.get("timeout"))
    return _Options(verify=verify, cafile=cafile, timeout=timeout)


def _query_values(query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        if name not in ("verify", "cafile", "timeout"):
            shown = repr(name) if _OPTION_NAME.fullmatch(name) else "(unreadable)"
            raise _error(f"unknown option {shown}", "the options are verify, cafile, timeout")
        if name in values:
            raise _error(f"option {name!r} is given twice", "keep one of them")
        values[name] = unquote(value)
    return values


def _flag(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _error("?verify must be true or false", "write ?verify=false or leave it out")


def _cafile(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise _error(f"the CA file {path} does not exist", "set ?cafile= to a PEM file")
    return path


def _timeout(value: str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= 3600:
        raise _error("?timeout must be a number of seconds from 0 to 3600", "write ?timeout=30")
    return seconds
