"""The campaign file's ``rectification:`` section (issue 15): which deliverable's rows become
items and which form columns fill which item fields; a mapping the form cannot fill is named
with the deliverable, the key, the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban.errors import InvalidInputError
from duban.model.campaign import RectificationSpec
from duban.model.loader import CampaignBundle, load_campaign

from .test_campaign_file import NEIGHBOURS, replace_in

MAPPING = """      columns: {category: category, finding: finding, cause: cause, measure: measure,
                owner: owner, due: due}"""


def problems_of(path: Path) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        load_campaign(path)
    return caught.value


def test_the_example_self_check_creates_items(example_bundle: CampaignBundle) -> None:
    spec = example_bundle.campaign.deliverable("self-check").rectification
    assert spec == RectificationSpec.model_validate(
        {"columns": {k: k for k in ("category", "finding", "cause", "measure", "owner", "due")}}
    )
    assert spec.source == "self-check"
    assert spec.roll == "next-working-day"
    others = [d.id for d in example_bundle.campaign.deliverables if d.rectification is not None]
    assert others == ["self-check"]


@pytest.mark.parametrize("path", NEIGHBOURS, ids=lambda p: p.parent.name)
def test_campaigns_without_the_section_still_load(path: Path) -> None:
    bundle = load_campaign(path)
    assert all(d.rectification is None for d in bundle.campaign.deliverables)


def test_a_column_the_form_lacks_names_deliverable_key_and_line(example_copy: Path) -> None:
    line = replace_in(example_copy, "                owner: owner, due: due}",
                      "                owner: responsible, due: due}")  # fmt: skip
    error = problems_of(example_copy)
    [english] = error.details("en")
    assert english.startswith(
        f"campaign.yaml:{line} deliverables[2].rectification.columns.owner: "
        "deliverable 'self-check': form 'rectification' has no column 'responsible'; "
        "columns are category, finding, cause, measure, owner, owner_email, due, state"
    )
    [chinese] = error.details("zh-CN")
    assert "报送事项“self-check”：表单“rectification”没有列“responsible”" in chinese


def test_a_deadline_must_come_from_a_date_column(example_copy: Path) -> None:
    replace_in(example_copy, "owner: owner, due: due}", "owner: owner, due: state}")
    [english] = problems_of(example_copy).details("en")
    assert english.endswith(
        "deliverables[2].rectification.columns.due: deliverable 'self-check': column 'state' "
        "is a choice column; a deadline needs a date column"
    )


def test_finding_and_due_are_required(example_copy: Path) -> None:
    replace_in(example_copy, MAPPING, "      columns: {measure: measure}")
    error = problems_of(example_copy)
    [english] = error.details("en")
    assert english.endswith(
        "deliverables[2].rectification: columns must map finding and due to a form column"
    )
    assert error.details("zh-CN")[0].endswith("columns 须写明 finding、due 对应表单的哪一列")


def test_an_unknown_item_field_is_not_ignored(example_copy: Path) -> None:
    replace_in(example_copy, "owner: owner, due: due}", "owner: owner, due: due, owners: owner}")
    messages = problems_of(example_copy).details("en")
    assert any("deliverables[2].rectification.columns.owners" in m for m in messages), messages


def test_an_unknown_sheet_is_named(example_copy: Path) -> None:
    replace_in(
        example_copy, "      source: self-check ", "      sheet: 台账\n      source: self-check "
    )
    [english] = problems_of(example_copy).details("en")
    assert english.endswith(
        "deliverables[2].rectification.sheet: deliverable 'self-check': "
        "form 'rectification' has no sheet '台账'; sheets are 整改台账"
    )
