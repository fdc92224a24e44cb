"""The ledger look-ups that deciding needs, read once per wave of records and kept up to date.

Deciding a file asks which instance its identity names and which versions that instance has;
asked file by file, that is a query or two per file. ``Known`` reads them for many files at once
and adds each submission as it is written, so the files of one batch see each other's versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.adapters.xlsx.token import TemplateIdentity
from duban.implement.intake.chunks import IN_CHUNK, chunks
from duban.ledger.schema import InstanceRow, SubmissionRow


@dataclass(frozen=True)
class Version:
    """What deciding needs of a recorded submission (its rows are left in the ledger)."""

    intake_file_id: int | None
    sha256: str
    version: int


class Known:
    """The instances and submissions that decisions look up, read from the ledger once and kept
    up to date as submissions are added, so the files of one batch see each other's versions.
    ``load`` reads many at once; whatever it did not read is read when first asked for."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._instances: dict[tuple[str, str, str, str], InstanceRow | None] = {}
        self._versions: dict[int, list[Version]] = {}

    def load(self, identities: Iterable[TemplateIdentity]) -> None:
        """The instances of these identities and their submissions: a query or two each."""
        wanted = {_key(i) for i in identities} - self._instances.keys()
        self._load_instances(wanted)
        for key in wanted:
            self._instances.setdefault(key, None)
        ids = {i.id for k in wanted if (i := self._instances[k]) is not None}
        self._load_versions(sorted(ids - self._versions.keys()))

    def _load_instances(self, keys: set[tuple[str, str, str, str]]) -> None:
        """The instances of the units, deliverables and periods named: a query a campaign (a
        few more rows than asked for when several deliverables or periods are named)."""
        named: dict[str, tuple[set[str], set[str], set[str]]] = {}
        for campaign_id, deliverable_id, unit_id, period in keys:
            deliverables, units, periods = named.setdefault(campaign_id, (set(), set(), set()))
            deliverables.add(deliverable_id)
            units.add(unit_id)
            periods.add(period)
        for campaign_id, (deliverables, units, periods) in named.items():
            for chunk in chunks(sorted(units)):
                query = select(InstanceRow).where(
                    InstanceRow.campaign_id == campaign_id,
                    InstanceRow.unit_id.in_(chunk),
                    InstanceRow.withdrawn.is_(False),
                )
                if len(deliverables) <= IN_CHUNK and len(periods) <= IN_CHUNK:
                    query = query.where(
                        InstanceRow.deliverable_id.in_(sorted(deliverables)),
                        InstanceRow.period.in_(sorted(periods)),
                    )
                for instance in self.session.scalars(query):
                    key = (instance.campaign_id, instance.deliverable_id, instance.unit_id,
                           instance.period)  # fmt: skip
                    self._instances.setdefault(key, instance)

    def _load_versions(self, instance_ids: list[int]) -> None:
        for instance_id in instance_ids:
            self._versions[instance_id] = []
        for chunk in chunks(instance_ids):
            query = select(
                SubmissionRow.instance_id, SubmissionRow.intake_file_id, SubmissionRow.sha256,
                SubmissionRow.version,
            ).where(SubmissionRow.instance_id.in_(chunk))  # fmt: skip
            for instance_id, file_id, sha, version in self.session.execute(query).tuples():
                self._versions[instance_id].append(Version(file_id, sha, version))

    def instance(self, identity: TemplateIdentity) -> InstanceRow | None:
        """The instance the identity names, unless withdrawn."""
        key = _key(identity)
        if key not in self._instances:
            self._instances[key] = self.session.scalars(
                select(InstanceRow).where(
                    InstanceRow.campaign_id == identity.campaign_id,
                    InstanceRow.deliverable_id == identity.deliverable_id,
                    InstanceRow.unit_id == identity.unit_id,
                    InstanceRow.period == identity.period,
                    InstanceRow.withdrawn.is_(False),
                )
            ).first()
        return self._instances[key]

    def versions(self, instance_id: int) -> list[Version]:
        """The submissions of an instance, those added since included."""
        if instance_id not in self._versions:
            query = select(
                SubmissionRow.intake_file_id, SubmissionRow.sha256, SubmissionRow.version
            ).where(SubmissionRow.instance_id == instance_id)
            self._versions[instance_id] = [
                Version(file_id, sha, version)
                for file_id, sha, version in self.session.execute(query).tuples()
            ]
        return self._versions[instance_id]


def _key(identity: TemplateIdentity) -> tuple[str, str, str, str]:
    return (identity.campaign_id, identity.deliverable_id, identity.unit_id, identity.period)
