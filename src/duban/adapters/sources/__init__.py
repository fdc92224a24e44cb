"""Open the intake source a ``DUBAN_INTAKE`` value names: IMAP, a Maildir or a drop folder.

``open_source`` checks the setting at once, so a wrong value fails when intake starts (with a
``ConfigError`` naming ``DUBAN_INTAKE`` and never the password) rather than halfway through a
batch: an IMAP source connects and logs in here, a folder source checks the folder exists and
may be read and written. The spec forms are described in ``duban.adapters.sources.spec``; how each
source reads and marks items is described in ``sources_imap`` and ``sources_local``.
"""

from __future__ import annotations

from duban.adapters.sources.imap import ImapSource
from duban.adapters.sources.local import DirSource, MaildirSource
from duban.adapters.sources.model import Source
from duban.adapters.sources.spec import INTAKE_VARIABLE, FolderSpec, ImapConfig, parse_intake_spec

__all__ = ["INTAKE_VARIABLE", "DirSource", "ImapSource", "MaildirSource", "open_source"]


def open_source(spec: str) -> Source:
    """The source ``spec`` names, ready to ``fetch``; the caller ``close``s it."""
    parsed = parse_intake_spec(spec)
    if isinstance(parsed, ImapConfig):
        return ImapSource(parsed)
    return _folder_source(parsed)


def _folder_source(spec: FolderSpec) -> Source:
    if spec.kind == "maildir":
        return MaildirSource(spec.path)
    return DirSource(spec.path)
