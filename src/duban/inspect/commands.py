"""The coordinator's inspection commands as the CLI and the flow run them, composed with a
``Runtime``: each opens one session and calls one step of ``drawing``; ``publication`` writes
the page an office posts (双随机一公开): registers and their hashes, parameters, seed, result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from duban.adapters.outfiles import target_of, writing
from duban.compile.outputs import safe_name, send_to_distribution
from duban.evaluate.figures import InspectionRound
from duban.inspect import drawing, gather, rounds
from duban.inspect.bulletin import render_bulletin, write_bulletin_docx
from duban.inspect.draw import Draw
from duban.inspect.drawing import Committed, Drawn, RoundRequest
from duban.inspect.notify import NotifyReport, notify_round
from duban.inspect.registers import digest
from duban.inspect.report import InspectionReport
from duban.inspect.summary import write_inspection_summary
from duban.inspect.verify import Verdict
from duban.ledger.store import append_event

if TYPE_CHECKING:
    from duban.runtime import Runtime


@dataclass(frozen=True)
class RoundView:
    """One round as ``duban inspect status`` lists it."""

    inspection_id: str
    label: str
    state: str
    announced: bool
    attempts: int
    commitment_id: str | None
    seed: str | None
    units: tuple[str, ...]
    approved_at: datetime | None


def commit(rt: Runtime, request: RoundRequest) -> Committed:
    with rt.session() as session:
        return drawing.commit_round(session, rt.bundle, request, rt.clock)


def draw(rt: Runtime, request: RoundRequest, seed: str) -> Drawn:
    with rt.session() as session:
        return drawing.draw_round(session, rt.bundle, request, seed, rt.clock)


def approve(rt: Runtime, inspection_id: str, label: str | None, actor: str) -> tuple[str, bool]:
    with rt.session() as session:
        row, before = drawing.approve_round(
            session, rt.bundle, inspection_id, label, rt.clock, actor
        )
        return row.label, before


def recuse(
    rt: Runtime,
    inspection_id: str,
    label: str | None,
    unit_id: str,
    inspector_id: str,
    *,
    note: str,
    actor: str,
) -> Draw:
    rt.bundle.unit(unit_id)  # a mistyped unit is named with the roster's ids
    with rt.session() as session:
        return drawing.recuse_inspector(
            session, rt.bundle, inspection_id, label, unit_id, inspector_id,
            note=note, clock=rt.clock, actor=actor,
        )  # fmt: skip


def notify(rt: Runtime, inspection_id: str, label: str | None) -> NotifyReport:
    """Tell the approved round's inspectors (with their scoresheets) and, if announced, its
    units; what was sent before is not sent again."""
    with rt.session() as session, rt.mailer() as mailer:
        round_row = drawing.find_round_or_fail(session, rt.bundle, inspection_id, label)
        return notify_round(
            session, rt.bundle, round_row.id,
            mailer=mailer, clock=rt.clock, secret=rt.secret, env=rt.env,
        )  # fmt: skip


def verify(rt: Runtime, inspection_id: str, label: str | None) -> Verdict:
    with rt.session() as session:
        return drawing.verify_round(session, rt.bundle, inspection_id, label)


def status(rt: Runtime, inspection_id: str | None = None) -> list[RoundView]:
    bundle = rt.bundle
    if inspection_id is not None:
        bundle.campaign.inspection(inspection_id)  # a mistyped id is named
    views = []
    with rt.session() as session:
        for row in rounds.rounds_of(session, bundle.campaign.id, inspection_id):
            latest = rounds.latest_commitment(session, row.id)
            done = None if latest is None else rounds.draw_of(session, latest.id)
            units = () if done is None else _drawn_units(done.result)
            views.append(
                RoundView(
                    row.inspection_id, row.label, row.state, row.announced,
                    0 if latest is None else latest.seq,
                    None if latest is None else latest.digest,
                    None if done is None else done.seed, units, row.approved_at,
                )
            )  # fmt: skip
    return views


def _drawn_units(result: dict[str, Any]) -> tuple[str, ...]:
    return tuple(unit for picks in result.get("picks", []) for unit in picks.get("units", []))


# --------------------------------------------------------------------------- publication


@dataclass(frozen=True)
class Published:
    path: Path
    label: str
    result_hash: str


def publication(
    rt: Runtime, inspection_id: str, label: str | None, out: Path | None = None
) -> Published:
    """Write the draw's publication page (HTML, in the campaign's language): what anyone needs
    to recompute the draw with the README's procedure, and its result."""
    bundle = rt.bundle
    campaign = bundle.campaign
    with rt.session() as session:
        round_row, latest, done, result = drawing.current_draw(
            session, bundle, inspection_id, label
        )
        page = rt.env.get_template(f"{campaign.language}/draw-publication.html").render(
            _page_context(rt, round_row.label, latest, done, result)
        )
        default = rt.settings.outputs / campaign.id / "inspections" / _file_name(
            campaign.language, inspection_id, round_row.label
        )  # fmt: skip
        target = target_of(default, out)
        with writing(target):
            target.write_text(page, encoding="utf-8")
        append_event(
            session, rt.clock, "inspection.published", campaign_id=campaign.id,
            subject=f"inspection:{inspection_id}/{round_row.label}",
            payload={"path": str(target), "result": result.hash},
        )  # fmt: skip
    return Published(target, round_row.label, result.hash)


@dataclass(frozen=True)
class Reported:
    """What ``report`` wrote (and sent): the files, the round's counts, messages sent now."""

    label: str
    workbook: Path
    docx: Path
    html: Path
    drawn: int
    returned: int
    pending: int
    findings: int
    sent: int


def report(rt: Runtime, inspection_id: str, label: str | None, *, send: bool = False) -> Reported:
    """Write the round's summary workbook (督查汇总表) and bulletin (督查通报: .docx to file,
    .html as mailed) as of the clock; with ``send``, mail the bulletin to the distribution
    list, once per round and day however often it runs."""
    campaign = rt.bundle.campaign
    with rt.session() as session:
        found = gather.gather_report(session, rt.bundle, inspection_id, label, rt.clock.now())
        folder = rt.settings.outputs / campaign.id / "inspections"
        names = _report_names(campaign.language, found)
        workbook, docx, html = (folder / f"{names[0]}.xlsx", folder / f"{names[1]}.docx",
                                folder / f"{names[1]}.html")  # fmt: skip
        rendered = render_bulletin(found, rt.env)
        with writing(workbook):
            write_inspection_summary(found, workbook)
            write_bulletin_docx(found, docx)
            html.write_text(rendered.html, encoding="utf-8")
        sent = 0
        if send:
            key = f"inspection-bulletin:{campaign.id}:{inspection_id}:{found.header.label}:" \
                  f"{found.header.as_of.astimezone(campaign.zone):%Y%m%d}"  # fmt: skip
            with rt.mailer() as mailer:
                outcomes = send_to_distribution(session, rt.bundle, key, rendered, docx,
                                                mailer=mailer, clock=rt.clock)  # fmt: skip
            sent = sum(o.sent_now for o in outcomes)
        append_event(session, rt.clock, "inspection.reported", campaign_id=campaign.id,
                     subject=f"inspection:{inspection_id}/{found.header.label}",
                     payload={"workbook": str(workbook), "docx": str(docx),
                              "returned": len(found.ranked), "sent": sent})  # fmt: skip
    return Reported(found.header.label, workbook, docx, html, len(found.units),
                    len(found.ranked), len(found.pending), found.findings, sent)  # fmt: skip


def inspection_rounds(rt: Runtime) -> dict[str, list[InspectionRound]]:
    """Each unit's inspection rounds as the evaluation's inspection source reads them."""
    with rt.session() as session:
        return gather.inspection_rounds(session, rt.bundle, rt.clock.now())


def _report_names(language: str, found: InspectionReport) -> tuple[str, str]:
    h = found.header
    if language == "zh-CN":
        names = (f"督查汇总表-{h.inspection_title}-{h.label}",
                 f"督查通报-{h.inspection_title}-{h.label}")  # fmt: skip
    else:
        names = (f"inspection summary-{h.inspection_id}-{h.label}",
                 f"inspection bulletin-{h.inspection_id}-{h.label}")  # fmt: skip
    return (safe_name(names[0]), safe_name(names[1]))


def _file_name(language: str, inspection_id: str, label: str) -> str:
    if language == "zh-CN":
        return f"双随机抽查结果公示-{inspection_id}-{label}.html"
    return f"inspection draw-{inspection_id}-{label}.html"


def _page_context(
    rt: Runtime,
    label: str,
    latest: Any,
    done: Any,
    result: Draw,
) -> dict[str, Any]:
    bundle = rt.bundle
    spec = bundle.campaign.inspection(result.commitment.inspection)
    names = {i.id: i.name for i in bundle.inspectors}
    units = bundle.units_by_id
    previous = rounds.previous_text(latest)
    return {
        "campaign": bundle.campaign,
        "inspection": spec,
        "label": label,
        "commitment": result.commitment,
        "commitment_json": result.commitment.canonical_json().decode(),
        "commitment_at": latest.created_at.astimezone(bundle.campaign.zone),
        "reason": latest.reason,
        "seed": result.seed,
        "drawn_at": done.drawn_at.astimezone(bundle.campaign.zone),
        "registers": [
            ("units", latest.unit_register, digest(latest.unit_register.encode())),
            ("inspectors", latest.inspector_register, digest(latest.inspector_register.encode())),
            ("previous", previous, digest(previous.encode())),
        ],
        "picks": [
            (p.stratum, p.size, p.k, [(u, units[u].name if u in units else u) for u in p.units])
            for p in result.picks
        ],
        "teams": [
            (
                t.unit_id,
                units[t.unit_id].name if t.unit_id in units else t.unit_id,
                [(i, names.get(i, i)) for i in t.inspectors],
            )
            for t in result.teams
        ],
        "recusals": result.recusals,
        "result_json": result.canonical_json().decode(),
        "result_hash": result.hash,
    }
