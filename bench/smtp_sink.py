"""A LocalSmtpServer in its own process, so a benchmark's client does not share its GIL.

    python bench/smtp_sink.py CERT KEY USER PASSWORD

Prints the port on the first line, runs until standard input closes, then prints how many
messages and SMTP sessions it received.
"""

from __future__ import annotations

import sys
from pathlib import Path

from duban.testing.mailserver import LocalSmtpServer, server_tls_context


def main() -> None:
    cert, key, user, password = sys.argv[1:5]
    context = server_tls_context(Path(cert), Path(key))
    with LocalSmtpServer(
        starttls_context=context, require_starttls=True, users={user: password}
    ) as server:
        print(server.port, flush=True)  # noqa: T201 (the protocol with the parent)
        sys.stdin.read()
        print(len(server.messages), server.sessions, flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
