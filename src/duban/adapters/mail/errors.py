"""Errors of the mail layer, each something a coordinator (or the caller's code) can act on.

Setup failures (wrong password, unreachable server, certificate not trusted, From address not
allowed) are ``ConfigError`` subclasses whose hint names ``DUBAN_SMTP_URL``: they are fixed in
the settings, not retried. A connection lost in the middle of a batch is ``MailConnectionError``:
the batch stops at once so the caller can record what went out and resume later.
"""

from __future__ import annotations

from duban.errors import ConfigError, DubanError

SMTP_URL_VARIABLE = "DUBAN_SMTP_URL"


class HeaderInjectionError(DubanError):
    """A header value (subject, name, address, file name…) holds a line break or NUL.

    Python 3.11 lets ``"x\\r\\n\\r\\nbody"`` through in some header paths, which would move
    headers into the body; duban refuses such values before a message is built.
    """


class InvalidAddressError(DubanError):
    """An e-mail address duban cannot put in a header safely (no @, spaces, commas, non-ASCII)."""


class MailConnectionError(DubanError):
    """The SMTP connection broke in the middle of a batch; nothing was retried silently."""


class MailAuthenticationError(ConfigError):
    """The SMTP server refused the user name or password of ``DUBAN_SMTP_URL``."""


class MailServerUnreachableError(ConfigError):
    """No SMTP server answered at the host and port of ``DUBAN_SMTP_URL``."""


class MailTlsError(ConfigError):
    """TLS could not be set up: certificate not trusted, or the port does not speak TLS."""


class MailSenderRefusedError(ConfigError):
    """The server refused the envelope sender: the account may not send as that From address."""
