"""What the reference integration keeps on disk in ``--data-dir`` so that a restart loses nothing.

A deploy restarts the process while Askara goes on delivering at least once: the set of imported
documents and notes must survive (the saved PDFs and note files are that set), and so must the
newest refresh token, since the one the integration was configured with is spent after its first
refresh. The token file also records which configured token it descends from, so a data directory
reused with new credentials starts from the new ones.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ref_defects import Defects

log = logging.getLogger("reference")

TOKEN_FILE = "refresh-token.json"


def imported(data_dir: Path, defects: Defects) -> tuple[set[str], set[str]]:
    """(document uuids, note uuids) already imported, read from the saved files (``memory-dedupe``: none)."""
    if defects.on("memory-dedupe"):
        return set(), set()
    documents = {path.stem for path in data_dir.glob("*.pdf")}
    notes = {path.stem for path in (data_dir / "notes").glob("*.json")}
    return documents, notes


class TokenFile:
    """The newest refresh token, written atomically after every rotation."""

    def __init__(self, data_dir: Path, configured: str, defects: Defects) -> None:
        self.path = data_dir / TOKEN_FILE
        self.configured = configured
        self.defects = defects

    def load(self) -> str:
        """The newest saved token descending from the configured one; else the configured one."""
        if self.defects.on("forget-refresh-token"):
            return self.configured
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self.configured
        if not isinstance(saved, dict) or saved.get("configured") != self.configured or not saved.get("newest"):
            return self.configured
        log.info("token: using the refresh token saved in %s", self.path)
        return str(saved["newest"])

    def save(self, newest: str) -> None:
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps({"configured": self.configured, "newest": newest}), encoding="utf-8")
        os.replace(partial, self.path)
