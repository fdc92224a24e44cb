"""Excel workbooks: the personalised templates sent to units and the metadata read back.

Only the light parts are imported here (the error and the tokens), so that code which merely
checks a token does not pay for importing openpyxl; the template API lives in
``duban.adapters.xlsx.template``.
"""

from __future__ import annotations

from duban.adapters.xlsx.errors import WorkbookError
from duban.adapters.xlsx.token import TemplateIdentity, sign, verify

__all__ = ["TemplateIdentity", "WorkbookError", "sign", "verify"]
