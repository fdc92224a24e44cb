"""duban (督办): the domain of phased campaigns run by a coordinating office.

This package holds the campaign model, the calendar, the due rules, status and the ledger.
It never imports Prefect: the flows in ``flows/`` and the tasks in ``tasks/`` are thin layers
over it, so almost everything can be tested without an orchestrator.
"""

__version__ = "0.1.0"
