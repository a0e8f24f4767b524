"""What the mock saw during one scenario, gathered over its control API, plus what the harness did.

Checks judge only this: deliveries to the integration's webhook and their attempts, the journal
of the integration's own requests and downloads, the status reports, and the harness's facts
(which documents it created, which faults it armed against which of them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.waits import MissedWait

HARNESS_USER_AGENT = "askara-mock-harness"
ACK_LIMIT_MS = 5000.0


@dataclass
class FaultFact:
    kind: str
    params: dict[str, Any]
    document: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class Observation:
    scenario: str
    mode: str
    webhook_id: str | None
    signatures: bool
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[str, list[str]] = field(default_factory=dict)
    faults: list[FaultFact] = field(default_factory=list)
    triggered: list[dict[str, Any]] = field(default_factory=list)
    raw_sends: list[dict[str, Any]] = field(default_factory=list)
    fuzz_deliveries: list[str] = field(default_factory=list)
    clock_jumps_at: list[tuple[float, float]] = field(default_factory=list)
    """(seconds jumped, mock time after the jump)."""
    step_problems: list[str] = field(default_factory=list)
    missed_waits: list[MissedWait] = field(default_factory=list)
    """Waits that reached their deadline (conformance.waits): the checks they fed fail."""
    unannounced: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Real, verified documents no webhook was told about (the harness paused it), by uuid."""
    restarts: list[float] = field(default_factory=list)
    """Wall times (epoch seconds) at which the harness had restarted the integration (listening again)."""
    integration_exit: int | None = None

    # -- derived views -------------------------------------------------------------------------

    def faults_of(self, *kinds: str) -> list[FaultFact]:
        return [f for f in self.faults if f.kind in kinds]

    def api_requests(self) -> list[dict[str, Any]]:
        return [e for e in self.journal if e.get("kind") in ("api", "oauth")]

    def downloads(self, document: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.journal
            if e.get("kind") == "download" and (document is None or e.get("document_uuid") == document)
        ]

    def complete_downloads(self, document: str) -> list[dict[str, Any]]:
        return [e for e in self.downloads(document) if e.get("status") == 200 and e.get("download_complete", True)]

    def reports_for(self, document: str) -> list[dict[str, Any]]:
        return [r for r in self.reports if r.get("document_uuid") == document]

    @staticmethod
    def forgery(delivery: dict[str, Any]) -> str | None:
        """The forged-signature mode a delivery was sent with, if any."""
        params = (delivery.get("fault_params") or {}).get("forged_signature")
        return str(params.get("mode")) if isinstance(params, dict) else None

    def forged(self, delivery: dict[str, Any]) -> bool:
        """A delivery carrying a signature the integration must refuse (a rotated secret's is valid)."""
        mode = self.forgery(delivery)
        return mode is not None and mode != "rotated"

    def acked_attempts(self, delivery: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            a for a in delivery.get("attempts", []) if isinstance(a.get("status"), int) and 200 <= a["status"] < 300
        ]

    def receipts(self) -> dict[str, int]:
        """How many times each resource id reached the integration and was acknowledged."""
        counts: dict[str, int] = defaultdict(int)
        for delivery in self.deliveries:
            if self.forged(delivery):
                continue
            acked = len(self.acked_attempts(delivery))
            for resource_id in delivery.get("resource_ids", []):
                counts[resource_id] += acked
        return counts

    def delivered_documents(self) -> list[str]:
        """Documents whose events the integration acknowledged at least once (known actions only)."""
        seen: list[str] = []
        for delivery in self.deliveries:
            if self.forged(delivery) or not self.acked_attempts(delivery):
                continue
            for resource_id, action in zip(delivery.get("resource_ids", []), delivery.get("actions", []), strict=False):
                if action in ("new_document", "document_synchronize") and resource_id not in seen:
                    seen.append(resource_id)
        return seen

    def deliveries_with_action(self, action: str) -> list[dict[str, Any]]:
        return [d for d in self.deliveries if action in d.get("actions", [])]
