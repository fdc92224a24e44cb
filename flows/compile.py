"""The compile flow: after a deadline, the summary workbook (汇总表) and the bulletin (通报).

Scheduled every morning (prefect.yaml) it compiles each deliverable period whose deadline
passed in the last 24 hours and sends the bulletin; run on demand it compiles one.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from duban.compile import commands
from duban.runtime import Runtime
from duban.settings import load_settings
from tasks.compile import compile_task


@flow(name="compile")
def compile_flow(
    campaign_file: str,
    deliverable: str | None = None,
    period: str | None = None,
    send: bool = False,
    as_of: str | None = None,
) -> list[dict[str, Any]]:
    """Compile the summary workbook and the bulletin.

    Parameters: ``campaign_file``; ``deliverable`` (default: every deliverable period whose
    deadline passed in the last 24 hours); ``period`` (default: the latest past its deadline);
    ``send`` mail the bulletin to the distribution list and post it to the group bots;
    ``as_of`` act as of this moment (simulations).
    """
    settings = load_settings(now=as_of)
    with Runtime(settings, campaign_file) as rt:
        results = commands.compile_periods(
            rt, deliverable, period, send=send,
            one=lambda d, p, s: compile_task(settings, campaign_file, d, p, s),
        )  # fmt: skip
    for result in results:
        create_markdown_artifact(
            key=f"bulletin-{result['deliverable']}-{result['period']}".lower(),
            markdown=_markdown(result),
            description=f"Bulletin of {result['deliverable']} {result['period']}",
        )
    return results


def _markdown(result: dict[str, Any]) -> str:
    return "\n\n".join(
        [
            f"**{result['deliverable']} {result['period']}**: expected {result['expected']}, "
            f"received {result['received']} (on time {result['on_time']}, late "
            f"{result['late']}), missing {result['missing']}, rejected {result['rejected']}",
            "```\n" + result["bulletin_text"] + "\n```",
            f"Workbook: `{result['workbook']}`  \nBulletin: `{result['docx']}`",
        ]
    )
