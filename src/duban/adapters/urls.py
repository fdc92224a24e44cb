"""What the server URLs of ``DUBAN_SMTP_URL`` and ``DUBAN_INTAKE`` share: how the connection
is protected (the scheme), the port, and the options ``?verify``, ``?cafile`` and ``?timeout``.

Each setting keeps its own schemes, default ports and error wording; the rules are here once,
so a coordinator who has learnt them for one setting can rely on them for the other. Errors
come from the caller's ``error(message, hint)``, which names the setting to fix, and never
repeat the URL as given (a password with an unencoded ``/`` lands where the port or the
options should be).
"""

from __future__ import annotations

import math
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import SplitResult, unquote

from duban.errors import ConfigError

Error = Callable[[str, str], ConfigError]
"""Builds the caller's ``ConfigError`` from a message and a hint."""

DEFAULT_TIMEOUT = 30.0
ENCODING_HINT = "percent-encode / ? # @ : % in the user name and password (%2F %3F %23 %40 %3A %25)"
_OPTION_NAME = re.compile(r"[A-Za-z_]{1,30}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Security(StrEnum):
    """How the connection is protected: the URL scheme, in words."""

    PLAIN = "plain"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True)
class Options:
    """The query options of a server URL."""

    verify: bool = True
    cafile: Path | None = None
    timeout: float = DEFAULT_TIMEOUT


def read_host(hostname: str | None, error: Error, hint: str) -> str:
    if not hostname or any(ch.isspace() for ch in hostname):
        raise error("no host name", hint)
    return hostname


def read_port(
    parts: SplitResult, security: Security, defaults: Mapping[Security, int], error: Error
) -> int:
    """The port in the URL, or the scheme's default."""
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        return defaults[security]
    if not 1 <= port <= 65535:
        raise error("the port is not a number from 1 to 65535", ENCODING_HINT)
    return port


def read_options(query: str, security: Security, error: Error, tls_hint: str) -> Options:
    """``?verify``, ``?cafile`` and ``?timeout``; the first two only with TLS (``tls_hint``
    says which schemes have it)."""
    values = _query_values(query, error)
    if security is Security.PLAIN and ({"verify", "cafile"} & values.keys()):
        raise error("?verify and ?cafile apply only to TLS", tls_hint)
    verify = _flag(values.get("verify", "true"), error)
    cafile = _cafile(values.get("cafile"), error)
    if cafile is not None and not verify:
        raise error("?cafile and ?verify=false contradict each other", "keep one of them")
    return Options(verify, cafile, _timeout(values.get("timeout"), error))


def tls_context(security: Security, options: Options, error: Error) -> ssl.SSLContext | None:
    """The client TLS context the URL asks for; ``None`` for a plain connection."""
    if security is Security.PLAIN:
        return None
    if not options.verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=options.cafile)
    except (OSError, ssl.SSLError):
        raise error(
            f"the CA file {options.cafile} cannot be read as PEM certificates",
            "set ?cafile= to a readable PEM file",
        ) from None


def _query_values(query: str, error: Error) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        if name not in ("verify", "cafile", "timeout"):
            shown = repr(name) if _OPTION_NAME.fullmatch(name) else "(unreadable)"
            raise error(f"unknown option {shown}", "the options are verify, cafile, timeout")
        if name in values:
            raise error(f"option {name!r} is given twice", "keep one of them")
        values[name] = unquote(value)
    return values


def _flag(value: str, error: Error) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise error("?verify must be true or false", "write ?verify=false or leave it out")


def _cafile(value: str | None, error: Error) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise error(f"the CA file {path} does not exist", "set ?cafile= to a PEM file")
    return path


def _timeout(value: str | None, error: Error) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= 3600:
        raise error("?timeout must be a number of seconds from 0 to 3600", "write ?timeout=30")
    return seconds
