"""A real IMAP server on 127.0.0.1 for the tests and the demo: Debian's dovecot, run privately.

``LocalImapServer(folder, users)`` writes a dovecot configuration of its own into ``folder``
and runs ``dovecot -F`` (the master in the foreground) listening on a free loopback port; the
system's dovecot, if any, is untouched. Mail is stored as one Maildir per user under
``folder/mail/<user>/Maildir``; ``deliver`` hands a message to ``dovecot-lda``, the way a mail
system delivers, so the server's indexes and UIDs are right at once.

Run as root (as the tests here are), dovecot keeps its usual privilege separation: the master
runs as root, logins as ``dovenull``, internal services as ``dovecot`` and mail access as
``mail`` (it refuses uid 0 for mail). Those users must be able to reach ``folder``: it is made
world-traversable (mode 0711) and every parent must already be (pytest's ``tmp_path`` is 0700,
so tests use a folder made with ``tempfile.mkdtemp`` under ``/tmp``). Run as another user,
everything runs as that user and dovecot's chroots are switched off.

Facts measured here (dovecot 2.3.19, 2 cores): it listens within about 0.01 s and takes about
1.1 s to stop (the master waits for its children), so tests share one server and give each
test a user of its own (``add_user``, seen at once). ``dovecot-lda`` delivered about 250
messages of 30 KB a second. The default Maildir++ layout uses ``.`` as the hierarchy separator
and refuses ``/`` in folder names. The configuration turns off what slows tests down: the
delay after a failed login and the per-IP penalty after it (which made the next login wait
4 s), and the stats service (an early stop otherwise waited 5 s for it).
"""

from __future__ import annotations

import base64
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

DOVECOT_CANDIDATES = (Path("/usr/sbin/dovecot"), Path("/usr/local/sbin/dovecot"))
LDA_CANDIDATES = (
    Path("/usr/lib/dovecot/dovecot-lda"),
    Path("/usr/libexec/dovecot/dovecot-lda"),
    Path("/usr/local/libexec/dovecot/dovecot-lda"),
)
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")
_SAFE_USER = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,63}")  # also a file name
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class DovecotNotInstalledError(RuntimeError):
    """dovecot (the ``dovecot-imapd`` package) is needed and missing."""


class DovecotError(RuntimeError):
    """dovecot would not start, or refused a delivery; the message quotes its log."""


class LocalImapServer:
    """``with LocalImapServer(folder, {"user": "password"}) as server:`` — IMAP at ``.port``.

    ``tls=(cert, key)`` also serves IMAP over TLS at ``.tls_port`` and offers STARTTLS on
    ``.port`` (see ``duban.testing.mailserver.make_self_signed_certificate``).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        folder: Path,
        users: Mapping[str, str],
        *,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.folder = folder.resolve()
        self.users = dict(users)
        self.tls = tls
        self.port = 0
        self.tls_port = 0
        self._dovecot = _find(DOVECOT_CANDIDATES, "dovecot")
        self._lda = _find(LDA_CANDIDATES, "dovecot-lda")
        self._process: subprocess.Popen[bytes] | None = None
        _check_users(self.users)
        if not _SAFE_PATH.fullmatch(str(self.folder)):
            raise ValueError(f"use a folder path of letters, digits and _ . / + - : {folder}")

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

    @property
    def config_path(self) -> Path:
        return self.folder / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.folder / "dovecot.log"

    def start(self) -> None:
        """Write the configuration and start dovecot on a free port (retried if one is taken)."""
        self._prepare_folders()
        for attempt in range(5):
            self.port = _free_port()
            self.tls_port = _free_port() if self.tls else 0
            self._write_config()
            if self._launch():
                return
            if attempt == 4:
                raise DovecotError(f"dovecot did not start:\n{self._log_tail()}")

    def stop(self) -> None:
        """Stop dovecot and remove its configuration and runtime files (mail and log stay)."""
        process, self._process = self._process, None
        if process is not None:
            _terminate(process)
        for name in ("run", "state"):
            shutil.rmtree(self.folder / name, ignore_errors=True)
        shutil.rmtree(self.folder / "users", ignore_errors=True)
        (self.folder / "dovecot.conf").unlink(missing_ok=True)

    def url(self, user: str, password: str, mailbox: str = "INBOX", *, tls: bool = False,
            cafile: Path | None = None) -> str:  # fmt: skip
        """A ``DUBAN_INTAKE`` spec for this server; ``tls`` gives ``imaps://`` on ``tls_port``."""
        login = f"{quote(user, safe='')}:{quote(password, safe='')}"
        scheme, port = ("imaps", self.tls_port) if tls else ("imap", self.port)
        query = "" if cafile is None else f"?cafile={quote(str(cafile))}"
        return f"{scheme}://{login}@{self.host}:{port}/{quote(mailbox, safe='')}{query}"

    def add_user(self, user: str, password: str) -> None:
        """Add (or change) a user while the server runs: a fresh mailbox without a restart."""
        _check_users({user: password})
        self.users[user] = password
        self._write_passwd()

    def maildir(self, user: str) -> Path:
        return self.folder / "mail" / user / "Maildir"

    def deliver(self, user: str, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver one message with ``dovecot-lda`` (the mailbox is created when missing)."""
        if user not in self.users:
            raise ValueError(f"unknown user {user!r}")
        result = subprocess.run(
            [str(self._lda), "-c", str(self.config_path), "-d", user, "-m", mailbox],
            input=raw,
            capture_output=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            text = (result.stderr or result.stdout).decode("utf-8", "replace").strip()
            raise DovecotError(f"dovecot-lda exit {result.returncode}: {text}")

    def _prepare_folders(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        mail = self.folder / "mail"
        mail.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            self.folder.chmod(0o711)
            _check_traversable(self.folder)
            user = pwd.getpwnam("mail")
            os.chown(mail, user.pw_uid, user.pw_gid)
            mail.chmod(0o700)
        self._write_passwd()

    def _write_passwd(self) -> None:
        """One passwd-file per user (``users/<name>``), so a user added later is seen at once.

        dovecot re-reads a single passwd-file only when its mtime (in seconds) or size
        changes, so a user added within the same second could be refused. Passwords are
        base64 (``{PLAIN.b64}``), so they may hold ``:``, the field separator.
        """
        folder = self.folder / "users"
        folder.mkdir(exist_ok=True)
        if os.geteuid() == 0:  # dovecot's auth process reads them as the dovecot user
            os.chown(folder, 0, grp.getgrnam("dovecot").gr_gid)
            folder.chmod(0o750)
        for user, password in self.users.items():
            temporary = folder / f".{user}.new"
            temporary.unlink(missing_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(f"{user}:{{PLAIN.b64}}{_b64(password)}\n")
            if os.geteuid() == 0:
                os.chown(temporary, 0, grp.getgrnam("dovecot").gr_gid)
            temporary.replace(folder / user)

    def _write_config(self) -> None:
        self.config_path.write_text(_config(self), encoding="utf-8")

    def _launch(self) -> bool:
        """Start dovecot; True once it listens, False if the port was taken meanwhile."""
        self.log_path.unlink(missing_ok=True)
        with (self.folder / "dovecot.stderr").open("wb") as stderr:
            process = subprocess.Popen(
                [str(self._dovecot), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                if "Address already in use" in self._log_tail():
                    return False
                raise DovecotError(f"dovecot exited at start:\n{self._log_tail()}")
            if _listening(self.host, self.port) and (
                not self.tls or _listening(self.host, self.tls_port)
            ):
                self._process = process
                return True
            time.sleep(0.01)
        _terminate(process)
        raise DovecotError(f"dovecot did not listen within {_START_TIMEOUT} s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        texts = []
        for path in (self.folder / "dovecot.stderr", self.log_path):
            if path.exists():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(texts)[-3000:]


def _config(server: LocalImapServer) -> str:
    """The whole configuration: nothing from /etc/dovecot is read."""
    folder = server.folder
    root = os.geteuid() == 0
    me = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(os.getegid()).gr_name
    mail_owner = "uid=mail gid=mail" if root else f"uid={me.pw_uid} gid={os.getegid()}"
    lines = [
        "protocols = imap",
        f"listen = {server.host}",
        f"base_dir = {folder}/run",
        f"state_dir = {folder}/state",
        f"log_path = {folder}/dovecot.log",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        "first_valid_uid = 1",
        "mail_location = maildir:~/Maildir",
        "lda_mailbox_autocreate = yes",
        "auth_failure_delay = 0",  # a test of a wrong password need not wait 2 s
        "stats_writer_socket_path =",  # no stats: a login otherwise waits 5 s for it at shutdown
        "passdb {",
        "  driver = passwd-file",
        f"  args = scheme=PLAIN username_format=%u {folder}/users/%u",
        "}",
        "userdb {",
        "  driver = static",
        f"  args = {mail_owner} home={folder}/mail/%u",
        "}",
        "service imap-login {",
        *([] if root else ["  chroot ="]),
        f"  inet_listener imap {{\n    address = {server.host}\n    port = {server.port}\n  }}",
        "  inet_listener imaps {",
        f"    address = {server.host}",
        f"    port = {server.tls_port}",
        *(["    ssl = yes"] if server.tls else []),
        "  }",
        "}",
        "service anvil {",  # no per-IP penalty: logins after a failed one need not wait 4-15 s
        *([] if root else ["  chroot ="]),
        "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }",
        "}",
    ]
    if not root:
        lines += [
            f"default_internal_user = {me.pw_name}",
            f"default_internal_group = {group}",
            f"default_login_user = {me.pw_name}",
        ]
    if server.tls:
        cert, key = server.tls
        lines += ["ssl = yes", f"ssl_cert = <{cert.resolve()}", f"ssl_key = <{key.resolve()}"]
    else:
        lines.append("ssl = no")
    return "\n".join(lines) + "\n"


def _find(candidates: tuple[Path, ...], what: str) -> Path:
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    raise DovecotNotInstalledError(
        f"{what} is not installed (looked in {', '.join(str(p.parent) for p in candidates)}); "
        "install it with: apt-get install -y dovecot-imapd"
    )


def _check_users(users: Mapping[str, str]) -> None:
    if not users:
        raise ValueError("give at least one user")
    for user, password in users.items():
        if not _SAFE_USER.fullmatch(user):
            raise ValueError(f"user names are letters, digits and _ . @ + -: {user!r}")
        if "\0" in password:
            raise ValueError(f"the password of {user!r} holds NUL")


def _check_traversable(folder: Path) -> None:
    """dovecot's unprivileged users must reach ``folder`` through every parent."""
    for parent in folder.parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise DovecotError(
                f"{parent} is not traversable by other users (mode "
                f"{stat.S_IMODE(parent.stat().st_mode):o}), so dovecot's users cannot reach "
                f"{folder}; use a folder under /tmp made with tempfile.mkdtemp"
            )


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LocalImapServer.host, 0))
        port: int = probe.getsockname()[1]
        return port


def _listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM makes the master stop its children; SIGKILL to its process group if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the master and its children
        process.wait()
