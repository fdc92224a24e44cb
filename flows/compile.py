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
from flows.parameters import AsOf, CampaignFile, OneDeliverable, Period, Send, campaign_of
from tasks.compile import compile_task


@flow(name="compile")
def compile_flow(
    campaign_file: CampaignFile = None,
    deliverable: OneDeliverable = None,
    period: Period = None,
    send: Send = False,
    as_of: AsOf = None,
) -> list[dict[str, Any]]:
    """Compile the summary workbook and the bulletin.

    The parameters, their checks and their Chinese descriptions (the Custom Run form) are in
    ``flows.parameters``. Without ``deliverable``: every deliverable period whose deadline
    passed in the last 24 hours; without ``period``: the latest past its deadline.
    """
    settings = load_settings(now=as_of)
    path = str(campaign_of(settings, campaign_file))
    with Runtime(settings, path) as rt:
        results = commands.compile_periods(
            rt, deliverable, period, send=send,
            one=lambda d, p, s: compile_task(settings, path, d, p, s),
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
