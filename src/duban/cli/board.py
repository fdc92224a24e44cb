"""``duban board``: the coordinator's web board over the ledger (``duban.board``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from duban.cli.common import AsOf, reports_errors, settings_for
from duban.cli.language import pick

out = Console()


@reports_errors
def board(
    campaigns: Annotated[
        list[Path], typer.Argument(help="the campaign YAML files to show (registered by init)")
    ],
    host: Annotated[str, typer.Option(help="the address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="the port to listen on")] = 8750,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="send the session cookie over HTTPS only")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Start the web board: status matrix, unit pages, held items, downloads, actions."""
    import uvicorn

    from duban.board.app import create_app
    from duban.board.context import Board

    opened = Board.open(settings_for(as_of), campaigns, secure=secure_cookies)
    out.print(pick(f"the board is at http://{host}:{port}/ (Ctrl+C stops it)",
                   f"看板地址 http://{host}:{port}/（按 Ctrl+C 停止）"))  # fmt: skip
    uvicorn.run(create_app(opened), host=host, port=port, log_level="warning")
