"""What the reference integration does with one event: import a document (download, check, save, confirm) or a note.

The document synchronization guide's four steps, done the careful way: deduplicate by uuid, renew
an expired pre-signed link through ``GET /documents/{uuid}``, accept only a whole PDF, and ALWAYS
report the outcome with ``POST /documents/{uuid}/status`` (success or an error message).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from ref_api import BACKOFF, ApiError, AskaraApi
from ref_defects import Defects
from ref_state import imported

log = logging.getLogger("reference")

DOCUMENT_ACTIONS = frozenset({"new_document", "document_synchronize"})
NOTE_ACTIONS = frozenset({"new_note"})
KNOWN_ACTIONS = DOCUMENT_ACTIONS | NOTE_ACTIONS
DOWNLOAD_RETRIES = 2
DIRECTORY = "reference-integration"


class ImportFailed(Exception):
    """The document cannot be imported this time; the message goes into the failure report."""


@dataclass
class Download:
    status: int
    body: bytes
    content_length: str | None
    error: str | None = None

    def problem(self) -> str | None:
        """None when the body is a whole PDF; else what is wrong with it."""
        if self.status == 0:
            return f"PDF download failed ({self.error})"
        if self.error is not None:
            return f"download cut short after {len(self.body)} bytes ({self.error})"
        if self.status != 200:
            return f"PDF download answered HTTP {self.status}"
        if self.content_length is not None and self.content_length.isdigit():
            if len(self.body) != int(self.content_length):
                return f"download cut short: {len(self.body)} of {self.content_length} bytes"
        if not self.body.startswith(b"%PDF-"):
            return f"downloaded file is not a PDF (no %PDF- header, {len(self.body)} bytes)"
        if b"%%EOF" not in self.body[-1024:]:
            return f"downloaded PDF is incomplete (no %%EOF at the end, {len(self.body)} bytes)"
        return None

    @property
    def retryable(self) -> bool:
        """A 5xx, a network error or a cut body may heal; a 4xx will not."""
        return self.status == 0 or self.status >= 500 or self.status == 200 or self.error is not None


def _uuid(value: object) -> str | None:
    try:
        return str(uuidlib.UUID(str(value)))
    except ValueError:
        return None


class Importer:
    """Per-event work; states per document uuid: ``in_progress``, ``done``, ``failed``."""

    def __init__(self, api: AskaraApi, downloads: httpx.AsyncClient, data_dir: Path, defects: Defects) -> None:
        self.api = api
        self.downloads = downloads
        self.data_dir = data_dir
        self.defects = defects
        (data_dir / "notes").mkdir(parents=True, exist_ok=True)
        documents, self.notes = imported(data_dir, defects)  # what a previous run of the process imported
        self.documents: dict[str, str] = dict.fromkeys(documents, "done")
        self.dedupe = not (defects.on("no-dedupe") or defects.on("fail-first"))

    async def handle_event(self, event: Any) -> None:
        if not isinstance(event, dict):
            log.info("event: ignored, not an object: %r", event)
            return
        action = event.get("action")
        metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        if action == "document_synchronize" and self.defects.on("ignore-synchronize"):
            log.info("event: document_synchronize acknowledged and ignored")
        elif action in DOCUMENT_ACTIONS:
            document = metadata.get("document") if isinstance(metadata.get("document"), dict) else {}
            await self.import_document(event.get("id") or document.get("uuid"), document, origin=str(action))
        elif action in NOTE_ACTIONS:
            note = metadata.get("note") if isinstance(metadata.get("note"), dict) else {}
            await self.store_note(event.get("id") or note.get("uuid"), note)
        elif self.defects.on("act-on-unknown") and isinstance(metadata.get("document"), dict):
            await self.import_document(event.get("id"), metadata["document"], origin=str(action))
        else:
            log.info("event: unknown action %r acknowledged and ignored", action)

    # -- documents ---------------------------------------------------------------------------------

    async def import_document(self, raw_uuid: object, document: dict[str, Any], origin: str) -> None:
        doc_uuid = _uuid(raw_uuid)
        if doc_uuid is None:
            log.info("document: ignored %s with an invalid uuid %r", origin, raw_uuid)
            return
        state = self.documents.get(doc_uuid)
        skipped = {"in_progress", "done"} | ({"failed"} if self.defects.on("no-retry-after-failure") else set())
        if self.dedupe and state in skipped:
            log.info("document %s: %s skipped, already %s", doc_uuid, origin, state)
            return
        self.documents[doc_uuid] = "in_progress"
        log.info("document %s: import started (%s)", doc_uuid, origin)
        try:
            path = await self._fetch_and_save(doc_uuid, document)
        except Exception as exc:  # noqa: BLE001 - any failure must end in a report, never kill the worker
            message = str(exc) if isinstance(exc, (ImportFailed, ApiError)) else f"{type(exc).__name__}: {exc}"
            self.documents[doc_uuid] = "failed"
            log.info("document %s: import FAILED: %s", doc_uuid, message)
            if not self.defects.on("silent-failure"):
                await self.confirm(doc_uuid, {"success": False, "error": message})
            return
        self.documents[doc_uuid] = "done"
        log.info("document %s: saved to %s", doc_uuid, path)
        await self.confirm(doc_uuid, {"success": True, "directory": DIRECTORY, "path": str(path)})

    async def confirm(self, doc_uuid: str, body: dict[str, Any]) -> None:
        if self.defects.on("never-confirm"):
            return
        if self.defects.on("string-success"):
            body = {**body, "success": "true" if body["success"] else "false"}
        try:
            response = await self.api.call("POST", f"/documents/{doc_uuid}/status", json_body=body)
        except ApiError as exc:
            log.info("document %s: status report could not be sent: %s", doc_uuid, exc)
            return
        outcome = "success" if body["success"] in (True, "true") else "failure"
        if response.is_success:
            log.info("document %s: confirmed %s", doc_uuid, outcome)
        else:
            log.info(
                "document %s: status report (%s) refused: HTTP %d %s",
                doc_uuid,
                outcome,
                response.status_code,
                response.text[:200],
            )

    async def _fresh_url(self, doc_uuid: str) -> str:
        response = await self.api.call("GET", f"/documents/{doc_uuid}")
        if not response.is_success:
            raise ImportFailed(f"GET /documents/{doc_uuid} answered HTTP {response.status_code}")
        try:
            url = response.json()["pdf"]["url"]
        except (ValueError, KeyError, TypeError):
            raise ImportFailed(f"GET /documents/{doc_uuid} gave no pdf.url") from None
        return urljoin(self.api.credentials.api_url + "/", str(url))

    async def _fetch_and_save(self, doc_uuid: str, document: dict[str, Any]) -> Path:
        pdf = document.get("pdf") if isinstance(document.get("pdf"), dict) else {}
        url = pdf.get("url")
        if url:
            url = urljoin(self.api.credentials.api_url + "/", str(url))
        else:
            log.info("document %s: no pdf.url in the event, asking the API", doc_uuid)
            url = await self._fresh_url(doc_uuid)
        body = await self._download(doc_uuid, url)
        path = (self.data_dir / f"{doc_uuid}.pdf").resolve()
        partial = path.with_suffix(".part")
        partial.write_bytes(body)
        os.replace(partial, path)
        return path

    async def _download(self, doc_uuid: str, url: str) -> bytes:
        """The whole PDF: renew a 403 link once, retry a 5xx or a cut body twice."""
        renewed = False
        attempts = 0
        while True:
            attempts += 1
            result = await self._download_once(url)
            log.info("document %s: download -> %s, %d bytes", doc_uuid, result.status or result.error, len(result.body))
            if result.status == 403:
                if self.defects.on("ignore-expiry"):
                    raise ImportFailed("PDF link refused with HTTP 403 (expired?)")
                if renewed:
                    raise ImportFailed("PDF link refused with HTTP 403 even after renewing it")
                log.info("document %s: PDF link refused (403), renewing it through GET /documents/{uuid}", doc_uuid)
                url = await self._fresh_url(doc_uuid)
                renewed = True
                attempts -= 1  # a renewal is not a retry
                continue
            if self.defects.on("dishonest-confirm"):
                return result.body
            problem = result.problem()
            if problem is None:
                return result.body
            if not result.retryable or attempts > DOWNLOAD_RETRIES:
                raise ImportFailed(f"{problem} (after {attempts} attempt(s))")
            log.info("document %s: %s; retrying", doc_uuid, problem)
            await asyncio.sleep(BACKOFF * attempts)

    async def _download_once(self, url: str) -> Download:
        """GET without auth, collecting what arrives even when the connection is cut mid-body.

        The link is pre-signed (its query carries an S3 signature) and lives on another host: a
        bearer token sent with it is refused (S3 allows one auth mechanism) and leaks the token to
        the storage host, so downloads go through a client of their own with no default headers.
        """
        headers = {"Accept-Encoding": "identity"}
        if self.defects.on("bearer-to-pdf-link"):  # as an HTTP session with a default auth header would
            headers["Authorization"] = f"Bearer {await self.api.token()}"
        try:
            async with self.downloads.stream("GET", url, headers=headers) as response:
                chunks: list[bytes] = []
                error = None
                try:
                    async for chunk in response.aiter_raw():
                        chunks.append(chunk)
                except httpx.TransportError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                return Download(response.status_code, b"".join(chunks), response.headers.get("content-length"), error)
        except httpx.TransportError as exc:
            return Download(0, b"", None, f"{type(exc).__name__}: {exc}")

    # -- notes -------------------------------------------------------------------------------------

    async def store_note(self, raw_uuid: object, note: dict[str, Any]) -> None:
        note_uuid = _uuid(raw_uuid)
        if note_uuid is None:
            log.info("note: ignored, invalid uuid %r", raw_uuid)
            return
        if self.dedupe and note_uuid in self.notes:
            log.info("note %s: skipped, already stored", note_uuid)
            return
        self.notes.add(note_uuid)
        record = dict(note)
        try:  # the guide: fetch the note when the payload lacks data (audio, user)
            response = await self.api.call("GET", f"/notes/{note_uuid}")
            if response.is_success:
                record.update(response.json())
        except (ApiError, ValueError) as exc:
            log.info("note %s: GET /notes/{uuid} failed (%s); keeping the payload", note_uuid, exc)
        path = self.data_dir / "notes" / f"{note_uuid}.json"
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2))
        log.info("note %s: stored to %s", note_uuid, path)
