"""The board in a real browser (issue 18): Debian's Chromium, driven by Playwright's driver, over
a board served by uvicorn on a loopback port, on a SQLite ledger made by the real intake.

Signed out, every page sends the browser to the login page and back to the page it asked for;
a coordinator finds a late unit through the matrix filter, opens it and accepts its held file,
and the ledger records it in their name; a viewer sees no action and a POST forged from the
viewer's own session is refused. The matrix's screenshot is what the README shows: set
``DUBAN_BOARD_SCREENSHOT=docs/board.png`` to write it there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import func, select

from duban.ledger.db import session_scope
from duban.ledger.schema import EventRow, InstanceRow, IntakeFileRow, SubmissionRow
from duban.model.loader import CampaignBundle

from .board_fixtures import (
    COORDINATOR,
    HELD_ONLY,
    LATE_UNITS,
    LATE_WITH_HELD,
    VIEWER,
    BoardSite,
    running_board,
)
from .conftest import EXAMPLE

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (`make test` installs it)",
                allow_module_level=True)  # fmt: skip

ACTIONS = ".act-accept, .act-dismiss, .act-extend, .act-exempt"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, example_bundle: CampaignBundle
) -> Iterator[BoardSite]:
    home = tmp_path_factory.mktemp("board")
    with running_board(home, example_bundle, EXAMPLE) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module: the system's, nothing downloaded."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, site: BoardSite) -> Iterator[Page]:
    """A fresh browser profile (no cookie) per test."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 800},
                                  locale="zh-CN")  # fmt: skip
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, account: tuple[str, str]) -> None:
    """Fill the login form the browser is on and send it."""
    assert urlsplit(page.url).path == "/login", page.url
    page.fill("input[name=username]", account[0])
    page.fill("input[name=password]", account[1])
    with page.expect_navigation():
        page.click("button#login")


def open_signed_in(page: Page, path: str, account: tuple[str, str]) -> None:
    page.goto(path)
    sign_in(page, account)
    assert _path(page.url) == path


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _file_state(site: BoardSite, item: str) -> tuple[str, str | None, int, int]:
    """The file's outcome and reviewer, the campaign's submissions and review events."""
    with session_scope(site.engine) as session:
        row = session.get_one(IntakeFileRow, int(item[1:]))
        submissions = session.scalar(select(func.count(SubmissionRow.id))) or 0
        reviews = (
            session.scalar(select(func.count(EventRow.id)).where(EventRow.kind.like("review.%")))
            or 0
        )
        return row.outcome, row.reviewed_by, submissions, reviews


def test_signed_out_every_page_goes_to_the_login_and_back(page: Page, site: BoardSite) -> None:
    cid = site.campaign_id
    pages = ["/", f"/c/{cid}/", f"/c/{cid}/matrix?state=late", f"/c/{cid}/unit/{HELD_ONLY}",
             f"/c/{cid}/held", f"/c/{cid}/files", f"/c/{cid}/raw/{site.held_other}",
             f"/c/{cid}/matrix.xlsx"]  # fmt: skip
    for path in pages:
        answer = page.request.get(path, max_redirects=0)
        assert answer.status == 303, (path, answer.status)
        assert answer.headers["location"] == f"/login?next={quote(path)}", path
    refused = page.request.post(f"/c/{cid}/held/{site.held_other}/accept", form={"csrf": "x"})
    assert refused.status == 403
    assert _file_state(site, site.held_other)[0] == "held"

    # in the browser: the asked page, the login form, then the asked page with its query
    page.goto(f"/c/{cid}/matrix?state=late")
    assert _path(page.url) == f"/login?next={quote(f'/c/{cid}/matrix?state=late')}"
    page.fill("input[name=username]", COORDINATOR[0])
    page.fill("input[name=password]", "not the password")
    with page.expect_navigation():
        page.click("button#login")
    assert page.locator("p.failed").is_visible()
    sign_in(page, COORDINATOR)
    assert _path(page.url) == f"/c/{cid}/matrix?state=late"
    assert page.locator("select[name=state]").input_value() == "late"

    # signing out ends the session: the pages are closed again
    with page.expect_navigation():
        page.click("button#logout")
    page.goto(f"/c/{cid}/held")
    assert urlsplit(page.url).path == "/login"


def test_a_coordinator_finds_a_late_unit_and_accepts_its_held_file(
    page: Page, site: BoardSite
) -> None:
    cid, item = site.campaign_id, site.held_of_late
    outcome, _, submissions, _ = _file_state(site, item)
    assert outcome == "held"
    open_signed_in(page, f"/c/{cid}/matrix", COORDINATOR)
    everyone = page.locator("table#matrix tr[data-unit]").count()

    page.select_option("form#filters select[name=state]", "late")
    with page.expect_navigation():
        page.click("button#filter")
    assert "state=late" in page.url
    rows = page.locator("table#matrix tr[data-unit]")
    shown = [str(rows.nth(i).get_attribute("data-unit")) for i in range(rows.count())]
    assert sorted(shown) == sorted(LATE_UNITS)
    assert len(shown) < everyone
    for unit in shown:
        assert page.locator(f'tr[data-unit="{unit}"] td[data-state="late"]').count() >= 1

    with page.expect_navigation():
        page.click(f'tr[data-unit="{LATE_WITH_HELD}"] a.unit')
    name = site.bundle.units_by_id[LATE_WITH_HELD].name
    assert urlsplit(page.url).path == f"/c/{cid}/unit/{LATE_WITH_HELD}"
    assert name in page.locator("h1#unit-name").inner_text()
    held_row = page.locator(f'table#unit-held tr[data-item="{item}"]')
    assert held_row.count() == 1
    # its raw file downloads as received (the bytes intake stored and hashed)
    with page.expect_download() as download:
        held_row.locator(f'a[href="/c/{cid}/raw/{item}"]').click()
    saved = download.value.path()
    assert download.value.suggested_filename.endswith(".xlsx")
    with session_scope(site.engine) as session:
        stored = session.get_one(IntakeFileRow, int(item[1:])).sha256
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == stored

    # the coordinator's own session, without the form's token: refused, nothing changed
    unsigned = page.request.post(f"/c/{cid}/held/{item}/accept", form={}, max_redirects=0)
    assert unsigned.status == 403
    assert _file_state(site, item)[0] == "held"
    with page.expect_navigation():
        held_row.locator("button.act-accept").click()

    assert urlsplit(page.url).path == f"/c/{cid}/unit/{LATE_WITH_HELD}"  # back where it was
    flash = page.locator("div.flash").inner_text()
    assert item in flash, flash
    assert "accepted" in flash, flash
    assert page.locator(f'table#unit-held tr[data-item="{item}"]').count() == 0
    page.reload()
    assert page.locator("div.flash").count() == 0  # said once

    with session_scope(site.engine) as session:
        row = session.get_one(IntakeFileRow, int(item[1:]))
        assert (row.outcome, row.reviewed_by) == ("accepted", COORDINATOR[0])
        submission = session.scalars(
            select(SubmissionRow).where(SubmissionRow.intake_file_id == row.id)
        ).one()
        instance = session.get_one(InstanceRow, submission.instance_id)
        assert (instance.unit_id, instance.deliverable_id) == (LATE_WITH_HELD, "plan")
        assert (submission.version, submission.on_time) == (2, False)
        assert session.scalar(select(func.count(SubmissionRow.id))) == submissions + 1
        [event] = session.scalars(select(EventRow).where(EventRow.kind == "review.accepted"))
        assert event.actor == COORDINATOR[0]


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(page: Page, site: BoardSite) -> None:
    """On a phone: every page fits its width (wide tables scroll inside it), no button or form
    acts, and POSTs with the viewer's own cookie and CSRF token are refused."""
    cid, item = site.campaign_id, site.held_other
    before = _file_state(site, item)
    assert before[0] == "held"
    page.set_viewport_size({"width": 390, "height": 844})  # a leader's phone
    open_signed_in(page, f"/c/{cid}/held", VIEWER)
    assert page.locator(f'table#held tr[data-item="{item}"]').count() == 1  # listed, to read
    page.goto(f"/c/{cid}/matrix?state=held")  # its template's duty shows held, not missing
    held_cell = page.locator(f'tr[data-unit="{HELD_ONLY}"] td[data-state="held"]')
    assert held_cell.count() == 1
    for path in (f"/c/{cid}/", f"/c/{cid}/matrix", f"/c/{cid}/unit/{LATE_WITH_HELD}",
                 f"/c/{cid}/unit/{HELD_ONLY}", f"/c/{cid}/held"):  # fmt: skip
        page.goto(path)
        assert page.locator("h1").count() == 1, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path  # tables scroll
        assert page.locator(ACTIONS).count() == 0, path
        assert page.locator("form[method=post]").count() == 1, path  # signing out, only
        if "/unit/" in path:  # what the buttons would act on is shown, to read
            assert page.locator("table#duties tr[data-duty]").count() >= 1, path

    # the viewer's own session and a valid CSRF token from the page: still refused
    token = page.locator("input[name=csrf]").first.input_value()
    for action, form in (("accept", {}), ("dismiss", {"note": "垃圾邮件"})):
        forged = page.request.post(f"/c/{cid}/held/{item}/{action}",
                                   form={"csrf": token, **form}, max_redirects=0)  # fmt: skip
        assert forged.status == 403, (action, forged.status)
    forged = page.request.post(
        f"/c/{cid}/unit/{HELD_ONLY}/exempt",
        form={"csrf": token, "deliverable": "plan", "reason": "x"}, max_redirects=0,
    )  # fmt: skip
    assert forged.status == 403
    assert _file_state(site, item) == before


def test_the_matrix_as_the_readme_shows_it(page: Page, site: BoardSite, tmp_path: Path) -> None:
    """The townships (tag 镇区, chosen in the form): every colour the fixture made, in Chinese."""
    open_signed_in(page, f"/c/{site.campaign_id}/matrix", COORDINATOR)
    page.select_option("form#filters select[name=tag]", "镇区")
    with page.expect_navigation():
        page.click("button#filter")
    rows = page.locator("table#matrix tr[data-unit]")
    towns = [u.id for u in site.bundle.units if "镇区" in u.tags]
    assert [rows.nth(i).get_attribute("data-unit") for i in range(rows.count())] == towns
    assert page.locator('td[data-state="on-time"]').first.inner_text() == "按时"
    states = {
        page.locator("table#matrix td[data-state]").nth(i).get_attribute("data-state")
        for i in range(page.locator("table#matrix td[data-state]").count())
    }
    assert {"on-time", "late", "missing", "extended", "exempt", "pending"} <= states
    shot = tmp_path / "board.png"
    page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 800)
    wanted = os.environ.get("DUBAN_BOARD_SCREENSHOT")
    if wanted:
        Path(wanted).write_bytes(data)
