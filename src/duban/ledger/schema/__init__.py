"""The ledger's tables (SQLAlchemy 2 declarative), one module per concern. Migrations in
``migrations/`` create them.

``base`` holds ``Base`` (naming convention, shared column types); ``campaign`` the campaigns,
units and deliverable instances; ``messages`` the outgoing messages; ``intake`` the intake
records, intake files and submissions; ``events`` the append-only event log and its hash
chain (``event_links``); ``bulletins`` the bulletins' issue numbers; ``selfcheck``,
``inspect`` (and ``inspect_results``) and ``evaluate`` the tables of later phases; ``board``
the web board's accounts. A new phase adds its own module and imports it here, so
``Base.metadata`` is complete (for Alembic's ``target_metadata`` and the test that the
migrations build exactly the models) whenever this package is imported.

Rows are never deleted: a unit leaving the roster becomes inactive, a duty no longer owed is
withdrawn, and the event log is append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from duban.ledger.schema.base import ID, NAMING, Base
from duban.ledger.schema.board import BoardUserRow
from duban.ledger.schema.bulletins import BulletinIssueRow
from duban.ledger.schema.campaign import CampaignRow, InstanceRow, UnitRow
from duban.ledger.schema.evaluate import (
    AdjustmentRow,
    AppealRow,
    BallotRow,
    EvaluationRow,
    EvaluationScoreRow,
)
from duban.ledger.schema.events import EventLinkRow, EventRow
from duban.ledger.schema.inspect import (
    InspectionAssignmentRow,
    InspectionCommitmentRow,
    InspectionDrawRow,
    InspectionRoundRow,
)
from duban.ledger.schema.inspect_results import InspectionScoreRow
from duban.ledger.schema.intake import IntakeFileRow, IntakeRow, SubmissionRow
from duban.ledger.schema.messages import MessageRow
from duban.ledger.schema.selfcheck import RectificationRow

__all__ = [
    "ID",
    "NAMING",
    "AdjustmentRow",
    "AppealRow",
    "BallotRow",
    "Base",
    "BoardUserRow",
    "BulletinIssueRow",
    "CampaignRow",
    "EvaluationRow",
    "EvaluationScoreRow",
    "EventLinkRow",
    "EventRow",
    "InspectionAssignmentRow",
    "InspectionCommitmentRow",
    "InspectionDrawRow",
    "InspectionRoundRow",
    "InspectionScoreRow",
    "InstanceRow",
    "IntakeFileRow",
    "IntakeRow",
    "MessageRow",
    "RectificationRow",
    "SubmissionRow",
    "UnitRow",
]
