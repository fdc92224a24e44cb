"""The ``Runtime`` a batch task opens, over the campaign its flow run has loaded already.

A task builds its own edges from the settings it is given, as it may run in another process
than its flow; but the batch tasks of one flow run (a notice batch, a collect batch, a remind
batch: fifty of them at 10,000 units) mostly run in one process, and each loaded the campaign
file again: 0.9 s at 10,000 units, about 45 s of a mobilize through Prefect (issue 20). So the
campaign is loaded once a flow run and process, and shared as the board shares it (a bundle is
read, never changed, by the runs over it). A new flow run loads it again, so a coordinator's
edit to the file counts from the next run, as on the command line.
"""

from __future__ import annotations

import threading
from pathlib import Path

from prefect.context import TaskRunContext

from duban.model.loader import CampaignBundle
from duban.runtime import Runtime
from duban.settings import Settings

_LOADED: dict[tuple[str, Path], CampaignBundle] = {}
"""The bundles of the latest flow run of this process, by campaign file."""
_LOCK = threading.Lock()


def runtime(settings: Settings, campaign_file: str) -> Runtime:
    """A ``Runtime`` over ``campaign_file``, loaded once for this task's flow run."""
    context = TaskRunContext.get()
    run = None if context is None else context.task_run.flow_run_id
    if run is None:  # not in a flow run: nothing to share with
        return Runtime(settings, campaign_file)
    key = (str(run), Path(campaign_file).resolve())
    with _LOCK:
        bundle = _LOADED.get(key)
    if bundle is not None:
        return Runtime(settings, campaign_file, bundle=bundle)
    rt = Runtime(settings, campaign_file)
    loaded = rt.bundle
    with _LOCK:
        if not any(run_id == key[0] for run_id, _ in _LOADED):
            _LOADED.clear()  # another flow run's: let it go
        _LOADED[key] = loaded
    return rt
