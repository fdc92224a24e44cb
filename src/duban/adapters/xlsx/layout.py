"""Where things are in a duban workbook: the contract between the template and intake.

The rows of a form sheet (title, header, first data row) belong to the form model
(``duban.model.forms``); here are the metadata sheet, the list sheet and the placeholders.
Changing any of these means a new template_version.
"""

from __future__ import annotations

METADATA_SHEET = "_duban"
LIST_SHEET = "_lists"
"""Holds dropdown choices too long to write inline in a validation formula."""

METADATA_KEYS = (
    "campaign",
    "deliverable",
    "period",
    "unit_id",
    "unit_name",
    "template_version",
    "form_id",
    "token",
)
"""Key/value rows of the metadata sheet, in this order (column A key, column B value)."""

SHARED_STRINGS = "xl/sharedStrings.xml"
"""The only part a personalised copy changes; every unit-specific string lives there."""

PLACEHOLDER_MARKER = "{{duban:"
"""Begins every placeholder; found nowhere else in a master, which the master checks."""

PLACEHOLDERS = {
    "unit_id": "{{duban:unit_id:5f0c9e}}",
    "unit_name": "{{duban:unit_name:b71d42}}",
    "token": "{{duban:token:e3a8d6}}",
}
"""Unit-specific values as written into the master, replaced in each unit's copy."""
