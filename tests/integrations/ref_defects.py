"""The named defects of the reference integration: each one breaks exactly one conformance check.

The harness proves every check both ways: the correct reference must pass it, and the variant
started with ``--defect NAME`` must fail it. Keeping the table here (and printable with
``--list-defects``) lets the harness and the README name the same things.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Defect:
    name: str
    check: str
    does: str


DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in (
        Defect("slow-ack", "ack-within-5s", "sleeps 6 s before answering each delivery"),
        Defect(
            "fail-first",
            "retry-recovery",
            "answers 500 to the first delivery of each event but processes it anyway; the retry is processed "
            "again, without dedupe",
        ),
        Defect("no-dedupe", "dedupe", "imports every delivery of a document (and note) again"),
        Defect("silent-failure", "confirm-failure", "sends no status report when an import fails"),
        Defect("never-confirm", "always-confirm", "never posts a status report"),
        Defect(
            "dishonest-confirm",
            "honest-confirm",
            "skips the whole-body check and reports success: true even when the download failed or was cut short",
        ),
        Defect("ignore-expiry", "expired-url", "on a 403 PDF link does not renew it; reports a failure"),
        Defect(
            "bearer-to-pdf-link",
            "anonymous-download",
            "sends its Authorization: Bearer header with the PDF download, as an HTTP session with a default auth "
            "header would; S3 answers 400 InvalidArgument and the import is reported failed",
        ),
        Defect("no-refresh", "token-refresh", "never refreshes the access token on 401; the call just fails"),
        Defect(
            "reuse-refresh-token",
            "refresh-rotation",
            "always refreshes with the ORIGINAL refresh token from the environment",
        ),
        Defect(
            "stale-token-after-refresh",
            "stale-token",
            "each receiver worker keeps the access token it took at start until it gets a 401: after "
            "another worker refreshed, its next call presents the replaced (revoked) token",
        ),
        Defect(
            "short-token-column",
            "refresh-rotation",
            "stores each new refresh token cut to 255 characters (a VARCHAR(255) column), so its next refresh "
            "presents a truncated token",
        ),
        Defect("hammer-429", "rate-limit", "retries at once on 429, ignoring Retry-After (at most 50 tries)"),
        Defect("narrow-scope", "scopes", "refreshes with scope=read:documents only"),
        Defect("first-event-only", "batch-events", "processes only events[0] of a delivery"),
        Defect("crash-unknown-event", "unknown-events", "answers 500 when a delivery contains an unknown action"),
        Defect("ignore-notes", "note-events", "answers 500 to deliveries that contain new_note"),
        Defect(
            "fragile-payloads",
            "unusual-payloads",
            "answers 500 when a patient name is not plain ASCII or longer than 100 characters, or a field is null",
        ),
        Defect("accept-forged", "signature", "skips signature verification even with --verify-signatures"),
        Defect(
            "reserialize-body",
            "signature",
            "verifies the signature over json.dumps(json.loads(body)) instead of the raw bytes, so valid "
            "deliveries are refused with 401",
        ),
        Defect("poll-every-second", "polling-interval", "polls every 1 s instead of --poll-interval"),
        Defect("first-page-only", "pagination", "reads only page 1 of GET /documents?synchronized=false"),
        Defect(
            "python-bool-filter",
            "pagination",
            "polls GET /documents?synchronized=False (Python's str(False)), which Askara's BooleanFilter drops",
        ),
        Defect("post-me", "routes", "calls POST /me at start-up (the quickstart's curl) and logs the refusal"),
        Defect(
            "string-success",
            "always-confirm",
            'posts its status reports with success as a string ("true"/"false"); the mock refuses them 422',
        ),
        Defect(
            "corrupt-refresh-token",
            "token-refresh",
            "changes the last character of the refresh token it presents, so every refresh is refused invalid_grant",
        ),
        Defect("ignore-synchronize", "synchronize-retry", "acknowledges document_synchronize and ignores it"),
        Defect(
            "no-retry-after-failure",
            "synchronize-retry",
            "deduplicates every document it has seen, so one whose import failed is never tried again",
        ),
        Defect(
            "act-on-unknown",
            "unknown-inert",
            "imports the document an event names whatever its action, unknown actions included",
        ),
        Defect(
            "give-up-on-transient",
            "transient-errors",
            "gives up on an API call answered 429 or 5xx instead of retrying it (the status report is lost)",
        ),
        Defect(
            "work-before-ack",
            "ack-within-5s",
            "downloads, saves and confirms each document before answering the delivery (no queue)",
        ),
        Defect(
            "uncoordinated-refresh",
            "refresh-rotation",
            "each worker that meets a 401 refreshes on its own (no lock, no look at whether another worker just "
            "did), so concurrent workers present the same single-use refresh token",
        ),
        Defect(
            "memory-dedupe",
            "restart-state",
            "keeps the set of imported documents only in memory: after a restart a redelivered document is "
            "imported again",
        ),
        Defect(
            "forget-refresh-token",
            "restart-state",
            "does not persist its refresh token: after a restart it presents the spent one it was configured with",
        ),
        Defect(
            "import-while-paging",
            "pagination",
            "imports (and confirms) each page of GET /documents?synchronized=false before reading the next, so the "
            "later pages shift under it and documents are skipped",
        ),
    )
}


class Defects:
    """The set of defects switched on for this run; ``defects.on("name")`` at each deviation point."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        names = list(names)
        for name in names:
            if name not in DEFECTS:
                close = difflib.get_close_matches(name, DEFECTS, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown defect {name!r}; known: {', '.join(sorted(DEFECTS))}.{hint}")
        self.names: frozenset[str] = frozenset(names)

    def on(self, name: str) -> bool:
        assert name in DEFECTS, f"typo in a defect name: {name!r}"
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)

    def sorted(self) -> list[str]:
        return sorted(self.names)
