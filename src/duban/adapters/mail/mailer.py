"""Send built messages: over one SMTP connection per batch, or into an outbox folder.

duban builds each MIME message itself (``adapters.mail.message``) because yagmail 0.16's builder
puts raw HTML in the text alternative, leaves long headers unfolded (a 120-character Chinese
file name made a 1,179-character line; RFC 5322 allows 998) and defaults the Message-ID to
md5(from+to+subject), which repeats for every reminder with the same subject.

duban still uses yagmail for the connection: ``yagmail.SMTP`` opens it, wraps it in TLS (with
the SSL context duban passes, so certificates are verified) and logs in. Then ``SmtpMailer``
calls ``sendmail`` on that one connection for every message of the batch. It never calls
yagmail's ``send()``, which logs in again for every message, never QUITs, retries for about
18 seconds when the connection drops and then returns ``False`` instead of raising.

What a send can end in:

* every recipient accepted, or some refused (``SendResult.refused``: address → SMTP code and
  text; 4xx means try later, 5xx means the address is wrong), or all refused: nothing raised,
  the connection stays usable;
* ``MailConnectionError`` as soon as the connection breaks: every earlier ``send`` returned,
  so the caller knows what went out, and resumes with a new ``SmtpMailer``. The message in
  flight may or may not have been delivered (the server can take it and lose the reply);
  resending it risks a duplicate, which for a notice beats a miss;
* ``ConfigError`` subclasses naming ``DUBAN_SMTP_URL`` when connecting or logging in fails.

``TCP_NODELAY`` is set on the socket: without it, STARTTLS to a local server ran 19 messages a
second instead of about 250 (each small TLS record waited for a delayed ACK).
"""

from __future__ import annotations

import copy
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import yagmail

from duban.adapters.mail.errors import (
    SMTP_URL_VARIABLE,
    MailAuthenticationError,
    MailConnectionError,
    MailSenderRefusedError,
    MailServerUnreachableError,
    MailTlsError,
)
from duban.adapters.mail.smtp_url import Security, SmtpConfig
from duban.errors import ConfigError

MAX_LINE = 998
_CLOSING = 421  # "service not available, closing transmission channel"
_AUTH_REQUIRED = 530


@dataclass(frozen=True)
class SendResult:
    """Who the server took the message for, and who it refused with which SMTP reply."""

    accepted: tuple[str, ...]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    kept: str | None = None
    """The SHA-256 under which the bytes sent were kept (the mailer's ``keep``), if any."""


@dataclass(frozen=True)
class Wire:
    """A message as it goes on the wire: its envelope and its bytes (``prepare``)."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes


def prepare(message: EmailMessage) -> Wire:
    """What ``SmtpMailer.send`` sends of ``message``, made beforehand (another process may
    make it: ``sending.ahead``)."""
    sender, recipients = envelope(message)
    return Wire(sender, recipients, wire_bytes(message))


class Mailer(Protocol):
    """What a flow needs: open a batch, send messages, close the batch."""

    def __enter__(self) -> Mailer: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def send(self, message: EmailMessage) -> SendResult: ...


def envelope(message: EmailMessage) -> tuple[str, tuple[str, ...]]:
    """Envelope sender (Sender, else From) and recipients (To, Cc, Bcc), as smtplib does."""
    senders = _addr_specs(message, ("Sender",)) or _addr_specs(message, ("From",))
    recipients = tuple(dict.fromkeys(_addr_specs(message, ("To", "Cc", "Bcc"))))
    if not senders or not recipients:
        raise ValueError("a message needs a From address and at least one recipient")
    return senders[0], recipients


def _addr_specs(message: EmailMessage, names: Iterable[str]) -> list[str]:
    values = [value for name in names for value in message.get_all(name, [])]
    found: list[str] = []
    for value in values:
        addresses = getattr(value, "addresses", None)
        if addresses is not None:
            found.extend(a.addr_spec for a in addresses if a.addr_spec)
        else:
            found.extend(addr for _, addr in getaddresses([str(value)]) if addr)
    return found


def wire_bytes(message: EmailMessage, *, keep_bcc: bool = False) -> bytes:
    """The bytes sent: CRLF line ends, Bcc left out (as ``smtplib.send_message`` does).

    Refuses a line over 998 characters (RFC 5322), which some servers cut or bounce. duban's
    builder never makes one; a message built elsewhere might.
    """
    if "Bcc" in message and not keep_bcc:
        message = copy.copy(message)
        del message["Bcc"]
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    longest = max(map(len, data.split(b"\r\n")))
    if longest > MAX_LINE:
        raise ValueError(f"the message has a {longest}-character line; RFC 5322 allows {MAX_LINE}")
    return data


class SmtpMailer:
    """One SMTP connection for a batch: ``with SmtpMailer(config) as mailer: mailer.send(m)``."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        helo_name: str | None = None,
        keep: Callable[[bytes], str] | None = None,
        settle: Callable[[], None] | None = None,
    ) -> None:
        """``keep`` stores the exact bytes of each message before it is sent and returns
        their hash: what the archive files as sent. Without ``settle`` it must store them
        durably at once (the raw store's ``put``); with it (``put_later``), ``settle`` makes
        everything kept so far durable, and must be called before the ledger records a hash
        (``settle_kept``, which ``dispatch`` calls before it commits a group's marks; closing
        calls it too)."""
        self.config = config
        self.helo_name = helo_name
        self.keep = keep
        self.settle = settle
        self._client: Any = None  # the yagmail client: kept, or its __del__ would QUIT
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect, start TLS, log in; errors name ``DUBAN_SMTP_URL``."""
        if self._smtp is not None:
            return
        _check_ascii_login(self.config)
        client = yagmail.SMTP(**_yagmail_arguments(self.config, self.helo_name))
        try:
            client.login()
        except Exception as error:
            _close_quietly(client, say_quit=False)
            mapped = _setup_error(self.config, error)
            if mapped is None:
                raise
            raise mapped from error
        self._client, self._smtp = client, client.smtp
        client.smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        """Settle what was kept; QUIT if the connection is still there (never raises)."""
        try:
            settle_kept(self)
        finally:
            self._drop(say_quit=True)

    def _drop(self, *, say_quit: bool) -> None:
        client, self._client, self._smtp = self._client, None, None
        if client is not None:
            _close_quietly(client, say_quit=say_quit)

    def send(self, message: EmailMessage) -> SendResult:
        """Send one message on the batch's connection; see the module docstring for outcomes."""
        return self.send_wire(prepare(message))

    def send_wire(self, wire: Wire) -> SendResult:
        """Send a message ``prepare``d beforehand, as ``send`` does."""
        smtp = self._smtp
        if smtp is None:
            raise MailConnectionError(
                "the SMTP connection is not open (or was lost earlier in this batch)",
                hint="open a new SmtpMailer to go on",
            )
        sender, recipients, data = wire.sender, wire.recipients, wire.data
        kept = None if self.keep is None else self.keep(data)
        options = ["BODY=8BITMIME"] if not data.isascii() and smtp.has_extn("8bitmime") else []
        try:
            refused = _decoded(smtp.sendmail(sender, list(recipients), data, options))
        except smtplib.SMTPRecipientsRefused as error:
            refused = _decoded(error.recipients)
            if any(code == _CLOSING for code, _ in refused.values()):
                raise self._lost(error) from error
        except smtplib.SMTPSenderRefused as error:
            if error.smtp_code == _CLOSING:
                raise self._lost(error) from error
            raise _sender_refused(sender, error) from error
        except smtplib.SMTPDataError as error:
            if error.smtp_code == _CLOSING:
                raise self._lost(error) from error
            reply = (error.smtp_code, _text(error.smtp_error))
            refused = dict.fromkeys(recipients, reply)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as error:
            raise self._lost(error) from error
        accepted = tuple(r for r in recipients if r not in refused)
        return SendResult(accepted=accepted, refused=refused, kept=kept)

    def _lost(self, error: BaseException) -> MailConnectionError:
        self._drop(say_quit=False)  # a QUIT could wait out the whole timeout again
        return MailConnectionError(
            f"the connection to {self.config.host}:{self.config.port} broke: {_reason(error)}",
            hint="earlier messages went out; send this one and the rest on a new connection",
        )


def settle_kept(mailer: Mailer) -> None:
    """Make the bytes a mailer kept durable (``SmtpMailer``'s ``settle``), before the ledger
    records their hashes; nothing for a mailer that keeps nothing, or keeps durably at once."""
    if isinstance(mailer, SmtpMailer) and mailer.settle is not None:
        mailer.settle()


def _yagmail_arguments(config: SmtpConfig, helo_name: str | None) -> dict[str, Any]:
    """Map ``SmtpConfig`` onto ``yagmail.SMTP``'s arguments (and smtplib's, via kwargs)."""
    context = config.ssl_context()
    arguments: dict[str, Any] = {
        # A dict keeps the login name as given: a bare "name" would become "name@gmail.com".
        "user": {config.user: config.user} if config.user is not None else None,
        "password": config.password,
        "host": config.host,
        "port": config.port,
        "smtp_ssl": config.security is Security.TLS,
        "smtp_starttls": {"context": context} if config.security is Security.STARTTLS else False,
        "smtp_skip_login": not config.login,
        "soft_email_validation": False,
        "timeout": config.timeout,
    }
    if config.security is Security.TLS:
        arguments["context"] = context
    if helo_name is not None:
        arguments["local_hostname"] = helo_name
    return arguments


def _check_ascii_login(config: SmtpConfig) -> None:
    """smtplib sends user and password as ASCII only; say so before connecting."""
    if not (config.user or "").isascii() or not (config.password or "").isascii():
        raise MailAuthenticationError(
            f"{SMTP_URL_VARIABLE}: the user name or password holds non-ASCII characters, "
            "which SMTP login (smtplib) cannot send",
            hint="use an ASCII password (an app password, for a webmail account)",
        )


def _setup_error(config: SmtpConfig, error: Exception) -> ConfigError | None:
    """Turn what connecting and logging in raised into an error naming ``DUBAN_SMTP_URL``."""
    where = f"{config.host}:{config.port}"
    reason = _reason(error)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return MailAuthenticationError(
            f"the SMTP server {where} refused the login of {config.user!r}: {reason}",
            hint=f"check the user name and password in {SMTP_URL_VARIABLE}",
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return MailTlsError(
            f"the certificate of {where} is not trusted: {reason}",
            hint=f"name the CA in {SMTP_URL_VARIABLE} with ?cafile=/path/ca.pem "
            "(?verify=false only on a network you trust)",
        )
    if isinstance(error, ssl.SSLError):
        return MailTlsError(
            f"TLS with {where} failed: {reason}",
            hint=f"smtps:// is for port 465, smtp+starttls:// for 587 ({SMTP_URL_VARIABLE})",
        )
    if isinstance(error, smtplib.SMTPException):
        return ConfigError(
            f"the SMTP server {where} refused the connection setup: {reason}",
            hint=f"check the scheme, port and user of {SMTP_URL_VARIABLE} ({config.redacted()})",
        )
    if isinstance(error, OSError):
        return MailServerUnreachableError(
            f"no SMTP server answers at {where}: {reason}",
            hint=f"check the host and port of {SMTP_URL_VARIABLE} ({config.redacted()})",
        )
    return None


def _sender_refused(sender: str, error: smtplib.SMTPSenderRefused) -> ConfigError:
    if error.smtp_code == _AUTH_REQUIRED:
        return MailAuthenticationError(
            f"the SMTP server wants a login before mail: {_reason(error)}",
            hint=f"give user:password in {SMTP_URL_VARIABLE} (smtp+starttls://user:pass@host)",
        )
    return MailSenderRefusedError(
        f"the SMTP server refused the sender {sender}: {error.smtp_code} {_text(error.smtp_error)}",
        hint=f"the From address must be one the {SMTP_URL_VARIABLE} account may send as",
    )


def _close_quietly(client: Any, *, say_quit: bool) -> None:
    """QUIT (if asked) and close the socket; yagmail's own close lets OSError out."""
    smtp = client.smtp
    client.is_closed = True  # and yagmail's __del__ leaves the connection alone
    if smtp is None:
        return
    try:
        if say_quit:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _decoded(replies: dict[str, tuple[int, bytes]]) -> dict[str, tuple[int, str]]:
    return {address: (code, _text(text)) for address, (code, text) in replies.items()}


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error) or type(error).__name__


class OutboxMailer:
    """A dry run: every message becomes ``<n>-<recipient>.eml`` in ``folder``, nothing is sent.

    The coordinator opens the files in a mail client to see exactly what units would get (the
    same bytes ``SmtpMailer`` would send). Numbers continue after files already there.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._next: int | None = None

    def __enter__(self) -> Self:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def send(self, message: EmailMessage) -> SendResult:
        _, recipients = envelope(message)
        data = wire_bytes(message, keep_bcc=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        number = self._take_number()
        path = self.folder / f"{number:05d}-{_safe_name(message, recipients[0])}.eml"
        with path.open("xb") as file:  # never overwrite an earlier dry run
            file.write(data)
        return SendResult(accepted=recipients)

    def _take_number(self) -> int:
        if self._next is None:
            taken = (re.match(r"\d+", p.name) for p in self.folder.glob("*.eml"))
            self._next = max((int(m.group()) for m in taken if m), default=0) + 1
        number, self._next = self._next, self._next + 1
        return number


def _safe_name(message: EmailMessage, address: str) -> str:
    """The first recipient's display name and address, as a portable file name."""
    names = [a.display_name for a in getattr(message["To"], "addresses", ())]
    label = f"{names[0]} {address}" if names and names[0] else address
    safe = re.sub(r"[^\w@.+-]+", "_", label).strip("._")[:80]
    while len(safe.encode()) > 160:  # file names are limited to 255 bytes, not characters
        safe = safe[:-1]
    return safe or "message"
