"""``python -m demo``: the example campaign on a simulated clock, offline (what `make demo` runs).

The demo shows the Prefect flows at work, so it lives beside ``flows/`` in the project folder
and is run from there, not installed with the ``duban`` command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from demo.run import run_demo
from duban.errors import DubanError


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument(
        "--home",
        type=Path,
        default=Path("var/demo"),
        help="where the demo keeps its ledger and outputs (emptied first)",
    )
    parser.add_argument("--campaign", type=Path, default=Path("data/example/campaign.yaml"),
                        help="the campaign to simulate")  # fmt: skip
    args = parser.parse_args()
    console = Console()
    try:
        run_demo(args.campaign, args.home, console)
    except DubanError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
