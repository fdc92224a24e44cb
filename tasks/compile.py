"""Prefect task of the compile flow: one deliverable period's workbook and bulletin."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from duban.compile import commands
from duban.runtime import Runtime
from duban.settings import Settings


@task(name="compile", cache_policy=NO_CACHE)
def compile_task(
    settings: Settings, campaign_file: str, deliverable: str, period: str | None, send: bool
) -> dict[str, Any]:
    with Runtime(settings, campaign_file) as rt:
        return commands.compile_one(rt, deliverable, period, send)
