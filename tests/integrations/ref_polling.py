"""Polling mode: read every page of ``GET /documents?synchronized=false`` every ``--poll-interval`` seconds.

All pages are read BEFORE importing anything: each successful import marks a document
synchronized, which would shift the later pages of a live ``synchronized=false`` list and skip
documents.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ref_api import ApiError, AskaraApi
from ref_defects import Defects
from ref_importer import Importer

log = logging.getLogger("reference")

DEFAULT_ITEMS_PER_PAGE = 20
"""API Platform's default page size, which Askara keeps (a shorter page is the last one)."""
MAX_PAGES = 1000


def _items(answer: Any) -> list[dict[str, Any]] | None:
    """The documents of one page: a plain JSON array, or a Hydra collection's members."""
    if isinstance(answer, dict):
        answer = answer.get("member", answer.get("hydra:member"))
    if not isinstance(answer, list):
        return None
    return [item for item in answer if isinstance(item, dict)]


class Poller:
    def __init__(self, api: AskaraApi, importer: Importer, interval: float, defects: Defects) -> None:
        self.api = api
        self.importer = importer
        self.defects = defects
        self.interval = 1.0 if defects.on("poll-every-second") else interval
        self.polls = 0

    async def run(self) -> None:
        """Poll at once, then never more often than every ``interval`` seconds (start to start)."""
        while True:
            started = time.monotonic()
            try:
                await self.poll_once()
            except ApiError as exc:
                log.info("poll: failed: %s", exc)
            except Exception:  # noqa: BLE001 - one bad poll must not end polling
                log.exception("poll: crashed")
            await asyncio.sleep(max(0.0, started + self.interval - time.monotonic()))

    async def read_pages(self) -> list[dict[str, Any]]:
        documents: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            # A correct client writes the boolean as the API spells it; str(False) is "False".
            synchronized = str(False) if self.defects.on("python-bool-filter") else "false"
            response = await self.api.call("GET", "/documents", params={"synchronized": synchronized, "page": page})
            if not response.is_success:
                raise ApiError(f"GET /documents page {page} answered HTTP {response.status_code}")
            try:
                items = _items(response.json())
            except ValueError:
                items = None
            if items is None:
                raise ApiError(f"GET /documents page {page} is not a list of documents")
            documents.extend(items)
            log.info("poll: page %d has %d document(s)", page, len(items))
            if self.defects.on("import-while-paging"):  # confirming shifts the later pages of the live list
                for item in items:
                    await self.importer.import_document(item.get("uuid"), item, origin="poll")
            if len(items) < DEFAULT_ITEMS_PER_PAGE or self.defects.on("first-page-only"):
                break
        return documents

    async def poll_once(self) -> None:
        self.polls += 1
        documents = await self.read_pages()
        log.info("poll #%d: %d unsynchronized document(s)", self.polls, len(documents))
        for document in documents:
            await self.importer.import_document(document.get("uuid"), document, origin="poll")
