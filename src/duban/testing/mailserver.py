"""A real SMTP server on 127.0.0.1 for the demo and the tests: nothing leaves the machine.

``LocalSmtpServer`` runs aiosmtpd in a thread on a free port. It can offer STARTTLS (and insist
on it), serve TLS from the first byte (smtps), ask for AUTH LOGIN/PLAIN against a dict of
users, refuse chosen recipients with 550 at RCPT, and keep every message both in memory and,
if asked, in a Maildir folder that an intake can read later. It counts SMTP sessions (a TCP
connection that said EHLO or HELO), so a test can prove a batch used one connection.

``make_self_signed_certificate`` makes a certificate for 127.0.0.1 and localhost; a client
verifies the server by naming that same file as its CA (``?cafile=`` in ``DUBAN_SMTP_URL``).
"""

from __future__ import annotations

import hmac
import logging
import mailbox
import os
import socket
import ssl
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from duban.clock import Clock


@dataclass(frozen=True)
class Delivery:
    """One message as the server received it: envelope and raw bytes (CRLF line ends)."""

    envelope_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


class _Handler:
    """aiosmtpd hooks: greet-counting, AUTH enforcement, refusals, delivery."""

    def __init__(
        self,
        users: Mapping[str, str],
        refuse: Iterable[str],
        maildir: Path | None,
        clock: Clock | None = None,
    ):
        self.users = {u.encode(): p.encode() for u, p in users.items()}
        self.clock = clock
        self.refuse = {address.lower() for address in refuse}
        if maildir is not None:
            maildir.parent.mkdir(parents=True, exist_ok=True)
        self.maildir = None if maildir is None else mailbox.Maildir(maildir, create=True)
        self.lock = threading.Lock()
        self.messages: list[Delivery] = []
        self.sessions = 0
        self.logins = 0
        self._greeted: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        expected = self.users.get(data.login)
        ok = expected is not None and hmac.compare_digest(expected, data.password)
        if not ok:
            return AuthResult(success=False, handled=False)  # aiosmtpd answers 535
        with self.lock:
            self.logins += 1
        return AuthResult(success=True, auth_data=data)

    async def handle_HELO(  # noqa: N802 (aiosmtpd hook names)
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        self._greet(server)
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_EHLO(  # noqa: N802 (aiosmtpd hook names)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self._greet(server)
        session.host_name = hostname
        return responses

    async def handle_MAIL(  # noqa: N802 (aiosmtpd hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook names)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        data = envelope.content if isinstance(envelope.content, bytes) else b""
        delivery = Delivery(envelope.mail_from or "", tuple(envelope.rcpt_tos), data)
        with self.lock:
            self.messages.append(delivery)
            if self.maildir is not None:
                key = self.maildir.add(data.replace(b"\r\n", b"\n"))
                if self.clock is not None:  # arrival time on a simulated clock (the demo's)
                    arrived = self.clock.now().timestamp()
                    os.utime(Path(self.maildir._path) / "new" / key, (arrived, arrived))
        return "250 2.0.0 Message accepted"

    def _greet(self, server: SMTP) -> None:
        """Count a session once, though EHLO comes again after STARTTLS."""
        with self.lock:
            if server not in self._greeted:
                self._greeted.add(server)
                self.sessions += 1


def _not_login_data_deprecation(record: logging.LogRecord) -> bool:
    """aiosmtpd 1.4 warns about its own ``Session.login_data`` at every successful AUTH."""
    return "login_data is deprecated" not in record.getMessage()


class LocalSmtpServer:
    """``with LocalSmtpServer(...) as server:`` — a server on 127.0.0.1 at ``server.port``.

    ``starttls_context`` offers STARTTLS (``require_starttls`` refuses mail without it);
    ``smtps_context`` makes it TLS from the first byte instead. ``users`` turns on AUTH and
    refuses MAIL FROM before it; ``auth_require_tls`` (default) offers AUTH only over TLS.
    ``refuse`` lists recipient addresses answered with 550. ``maildir`` also stores messages
    in a Maildir folder, stamped with ``clock``'s time of arrival when a clock is given.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        starttls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        smtps_context: ssl.SSLContext | None = None,
        users: Mapping[str, str] | None = None,
        auth_require_tls: bool = True,
        refuse: Iterable[str] = (),
        maildir: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        if starttls_context is not None and smtps_context is not None:
            raise ValueError("choose STARTTLS or smtps, not both")
        self._handler = _Handler(users or {}, refuse, maildir, clock)
        self._starttls_context = starttls_context
        self._require_starttls = require_starttls
        self._smtps_context = smtps_context
        # Over smtps the whole session is TLS, but aiosmtpd only counts STARTTLS as TLS.
        self._auth_require_tls = auth_require_tls and smtps_context is None
        self._controller: Controller | None = None
        self.port = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on a free port; a port taken between choosing and binding is tried again."""
        aiosmtpd_log = logging.getLogger("mail.log")
        if _not_login_data_deprecation not in aiosmtpd_log.filters:
            aiosmtpd_log.addFilter(_not_login_data_deprecation)
        for attempt in range(5):
            controller = self._controller_on(_free_port())
            try:
                controller.start()
            except OSError:
                if attempt == 4:
                    raise
                continue
            self._controller, self.port = controller, controller.port
            return

    def stop(self) -> None:
        """Stop listening and drop open connections (clients see the connection close)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def messages(self) -> list[Delivery]:
        """Every message received so far, oldest first (a copy)."""
        with self._handler.lock:
            return list(self._handler.messages)

    @property
    def sessions(self) -> int:
        """SMTP sessions so far: connections that said EHLO or HELO."""
        return self._handler.sessions

    @property
    def logins(self) -> int:
        return self._handler.logins

    def url(
        self, user: str | None = None, password: str | None = None, cafile: Path | None = None
    ) -> str:
        """A ``DUBAN_SMTP_URL`` for this server, user and password percent-encoded."""
        scheme = "smtps" if self._smtps_context else "smtp"
        scheme += "+starttls" if self._starttls_context else ""
        login = "" if user is None else f"{quote(user, safe='')}:{quote(password or '', safe='')}@"
        query = "" if cafile is None else f"?cafile={quote(str(cafile))}"
        return f"{scheme}://{login}{self.host}:{self.port}{query}"

    def _controller_on(self, port: int) -> Controller:
        options: dict[str, Any] = {}
        if self._handler.users:
            options["authenticator"] = self._handler.authenticate
        if self._starttls_context is not None:
            options["tls_context"] = self._starttls_context
            options["require_starttls"] = self._require_starttls
        return Controller(
            self._handler,
            hostname=self.host,
            port=port,
            ssl_context=self._smtps_context,
            server_hostname="localhost",  # not socket.getfqdn(): that can wait on DNS
            auth_require_tls=self._auth_require_tls,
            **options,
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LocalSmtpServer.host, 0))
        port: int = probe.getsockname()[1]
        return port


def make_self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` for 127.0.0.1 and localhost into ``folder``.

    The certificate signs itself and may act as a CA, so a client trusts it by naming the
    same file as its CA file. Needs ``cryptography`` (a development dependency).
    """
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "duban local SMTP")])
    # A certificate date is not a reading of duban's clock; it only has to cover the test.
    start = datetime(2000, 1, 1, tzinfo=UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 100))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def server_tls_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """The server side of TLS for ``LocalSmtpServer`` (STARTTLS or smtps)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
