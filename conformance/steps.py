"""Scenario steps: each kind is a small function that tells the mock something or waits for the
integration, and records in the Observation what the checks will need to know.

Waiting is on the integration (a real process), so it polls the mock's control API with a
deadline; ``deliveries-settled`` also drives the mock's clock to each pending retry's due time,
so a three-retry story takes milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.fuzz import unusual_envelopes
from conformance.mockclient import MockClient, MockError
from conformance.observation import HARNESS_USER_AGENT, FaultFact, Observation
from conformance.waits import MissedWait

KNOWN_ACTIONS = ("new_document", "document_synchronize", "new_note")
DOCUMENT_PARAM_KINDS = ("download",)
POLL_INTERVAL = 0.02


class StepError(Exception):
    """A step could not be carried out (a mock error, or a scenario referring to nothing)."""


@dataclass
class StepRuntime:
    """What steps share while one scenario runs."""

    mock: MockClient
    observation: Observation
    webhook_id: str | None
    deadline: float
    start_target: Callable[[], None]
    known_deliveries: set[str] = field(default_factory=set)
    known_reports: set[str] = field(default_factory=set)
    journal_cursor: int = 0
    wait_timeout: float = 5.0
    """A ``wait`` step's timeout when it gives none (``--wait-timeout``)."""
    idle_quiet: float = 0.2
    """Seconds without a request that make the integration idle, when ``wait: idle`` gives no ``quiet``."""
    deadline_limit: str = "the scenario's timeout"
    """Which deadline ``deadline`` is, for a wait it cuts short."""
    step_index: int = 0
    """1-based index of the step being run (the runner sets it)."""
    restart_target: Callable[[float], None] | None = None
    """Stop the integration (SIGTERM, SIGKILL after the grace seconds) and start it again; None without --start."""

    def remaining(self, wanted: float) -> float:
        return max(0.0, min(wanted, self.deadline - time.monotonic()))

    def refs(self, names: str | list[str] | None) -> list[str]:
        if names is None:
            return []
        result: list[str] = []
        for name in [names] if isinstance(names, str) else names:
            if name not in self.observation.refs:
                raise StepError(f"unknown reference {name!r}: give it with 'as:' in an earlier step")
            result.extend(self.observation.refs[name])
        return result

    def triggered_documents(self) -> list[str]:
        return [t["resource"] for t in self.observation.triggered if t["action"] != "new_note"]

    # -- fresh views of the mock, restricted to this scenario ----------------------------------

    def deliveries(self) -> list[dict[str, Any]]:
        items = self.mock.deliveries()
        return [
            d
            for d in items
            if d.get("id") not in self.known_deliveries
            and (self.webhook_id is None or d.get("webhook_id") == self.webhook_id)
        ]

    def reports(self) -> list[dict[str, Any]]:
        return [r for r in self.mock.status_reports() if r.get("id") not in self.known_reports]

    def journal(self) -> list[dict[str, Any]]:
        entries = self.mock.journal(since=self.journal_cursor)
        return [e for e in entries if not str(e.get("user_agent", "")).startswith(HARNESS_USER_AGENT)]


Step = Callable[[StepRuntime, Any], None]
STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS[name] = fn
        return fn

    return register


def run_step(runtime: StepRuntime, spec: dict[str, Any]) -> None:
    ((kind, args),) = spec.items()
    try:
        STEPS[kind](runtime, args)
    except MockError as exc:
        raise StepError(f"{kind}: the mock refused: {exc}") from None


def _remember(runtime: StepRuntime, ref: str | None, uuids: list[str]) -> None:
    if ref:
        runtime.observation.refs.setdefault(ref, []).extend(uuids)


def _document_body(args: dict[str, Any], validate: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"validate": validate}
    for key in ("type", "title", "patient"):
        if key in args:
            body[key] = args[key]
    return body


@step("create")
def create(runtime: StepRuntime, args: dict[str, Any]) -> None:
    uuids = []
    for _ in range(int(args.get("count", 1))):
        answer = runtime.mock.post("/_mock/documents", _document_body(args, bool(args.get("validate", False))))
        uuids.append(answer["document"]["uuid"])
        if args.get("validate"):
            runtime.observation.triggered.append({"action": "new_document", "resource": answer["document"]["uuid"]})
    _remember(runtime, args["as"], uuids)


def _validate(runtime: StepRuntime, uuid: str) -> None:
    runtime.mock.post(f"/_mock/documents/{uuid}/validate")
    runtime.observation.triggered.append({"action": "new_document", "resource": uuid})


@step("validate")
def validate(runtime: StepRuntime, args: str | list[str]) -> None:
    for uuid in runtime.refs(args):
        _validate(runtime, uuid)


@step("trigger")
def trigger(runtime: StepRuntime, args: dict[str, Any]) -> None:
    event, count, ref = args["event"], int(args.get("count", 1)), args.get("as")
    if event == "new_document":
        if "document" in args:
            for uuid in runtime.refs(args["document"]):
                _validate(runtime, uuid)
            return
        create(runtime, {"as": ref or "_documents", "count": count, "validate": True})
    elif event == "document_synchronize":
        targets = runtime.refs(args["document"]) if "document" in args else runtime.triggered_documents()[-1:]
        if not targets:
            raise StepError("document_synchronize needs a document: give 'document:' or trigger one first")
        for uuid in targets:
            runtime.mock.post(f"/_mock/documents/{uuid}/synchronize")
            runtime.observation.triggered.append({"action": event, "resource": uuid})
    else:
        uuids = []
        for _ in range(count):
            answer = runtime.mock.post("/_mock/notes", {})
            uuids.append(answer["note"]["uuid"])
            runtime.observation.triggered.append({"action": event, "resource": answer["note"]["uuid"]})
        _remember(runtime, ref, uuids)


@step("fault")
def fault(runtime: StepRuntime, args: dict[str, Any]) -> None:
    """Arm a fault. ``document`` names what it aims at: sent to the mock for kinds that take it
    (``download``), only remembered for the checks otherwise (``expired_link`` hits the next event)."""
    params = {k: v for k, v in args.items() if k not in ("kind", "document")}
    documents = runtime.refs(args.get("document")) if "document" in args else [None]
    for uuid in documents:
        body = dict(params)
        if uuid is not None and args["kind"] in DOCUMENT_PARAM_KINDS:
            body["document"] = uuid
        record = runtime.mock.fault(args["kind"], **body)
        runtime.observation.faults.append(FaultFact(args["kind"], body, uuid, record or {}))


@step("advance")
def advance(runtime: StepRuntime, seconds: float) -> None:
    answer = runtime.mock.advance(float(seconds))
    runtime.observation.clock_jumps_at.append((float(seconds), float(answer.get("now", 0))))


@step("observe")
def observe(runtime: StepRuntime, seconds: float) -> None:
    time.sleep(runtime.remaining(float(seconds)))


@step("start")
def start(runtime: StepRuntime, _args: dict[str, Any]) -> None:
    runtime.start_target()


@step("send")
def send(runtime: StepRuntime, args: dict[str, Any]) -> None:
    if runtime.webhook_id is None:
        raise StepError("send needs the integration's webhook (webhook mode)")
    answer = runtime.mock.send_raw(runtime.webhook_id, args["events"])
    actions = [e.get("action") for e in args["events"]]
    resources = [str(e.get("id")) for e in args["events"]]
    runtime.observation.raw_sends.append(
        {
            "delivery": answer.get("id"),
            "actions": actions,
            "resources": resources,
            "unknown": any(a not in KNOWN_ACTIONS for a in actions),
        }
    )
    _remember(runtime, args.get("as"), resources)


@step("fuzz")
def fuzz(runtime: StepRuntime, args: dict[str, Any]) -> None:
    if runtime.webhook_id is None:
        raise StepError("fuzz needs the integration's webhook (webhook mode)")
    examples, seed = int(args.get("examples", 20)), args.get("seed", 0)
    for events in unusual_envelopes(runtime.mock, examples, seed=seed, webhook_id=runtime.webhook_id):
        answer = runtime.mock.send_raw(runtime.webhook_id, events)
        runtime.observation.fuzz_deliveries.append(str(answer.get("id")))


# -- waits -------------------------------------------------------------------------------------


def _until(runtime: StepRuntime, timeout: float, condition: Callable[[], bool], missed: MissedWait) -> None:
    """Poll ``condition`` until it holds or the deadline passes; a deadline reached is recorded, never silent."""
    allowed = runtime.remaining(timeout)
    end, deadline_wall = time.monotonic() + allowed, time.time() + allowed
    while True:
        if condition():
            return
        if time.monotonic() >= end:
            problem = f"timed out after {allowed:g} s waiting for {missed.what}"
            _record_missed(runtime, missed, timeout, allowed, problem, deadline_wall)
            return
        time.sleep(POLL_INTERVAL)


def _record_missed(
    runtime: StepRuntime, missed: MissedWait, timeout: float, allowed: float, problem: str, deadline_wall: float
) -> None:
    """Keep the wait that ran out (the checks it fed will fail) and say so among the step problems."""
    missed.problem = problem
    runtime.observation.step_problems.append(problem)
    missed.waited_s = round(allowed, 3)
    if allowed < timeout:
        missed.limit = runtime.deadline_limit
    missed.deadline_wall = deadline_wall
    runtime.observation.missed_waits.append(missed)


def _after(runtime: StepRuntime, documents: list[str]) -> str | None:
    """The last event the harness triggered for ``documents``: what the awaited work follows."""
    actions = [t["action"] for t in runtime.observation.triggered if t["resource"] in documents]
    return actions[-1] if actions else None


@step("wait")
def wait(runtime: StepRuntime, args: dict[str, Any]) -> None:
    until = args["until"]
    timeout = float(args.get("timeout", runtime.wait_timeout))
    documents = runtime.refs(args.get("document")) if "document" in args else runtime.triggered_documents()

    def missed(what: str, **facts: Any) -> MissedWait:
        source = "set in the scenario" if "timeout" in args else "--wait-timeout"
        return MissedWait(runtime.step_index, until, what, timeout, f"its timeout, {source}", 0.0, **facts)

    if until == "status-reports":
        wanted = int(args.get("count", 1))

        def reported() -> bool:
            counts: dict[str, int] = {}
            for report in runtime.reports():
                counts[report.get("document_uuid", "")] = counts.get(report.get("document_uuid", ""), 0) + 1
            return all(counts.get(d, 0) >= wanted for d in documents)

        what = f"{wanted} status report(s) (POST /documents/{{uuid}}/status) for each of {len(documents)} document(s)"
        _until(
            runtime,
            timeout,
            reported,
            missed(what, documents=documents, count=wanted, after=_after(runtime, documents)),
        )
    elif until == "deliveries-settled":
        what = "every delivery to be delivered or failed"
        _until(runtime, timeout, lambda: _settle_deliveries(runtime), missed(what))
    elif until == "attempts":
        count = int(args.get("count", 1))

        def attempted() -> bool:
            deliveries = runtime.deliveries()
            return all(
                any(d in x.get("resource_ids", []) and len(x.get("attempts", [])) >= count for x in deliveries)
                for d in documents
            )

        _until(
            runtime,
            timeout,
            attempted,
            missed(f"{count} delivery attempt(s) per document", documents=documents, count=count),
        )
    elif until in ("downloads", "requests"):
        count, path = int(args.get("count", 1)), args.get("path", "")
        kind = "download" if until == "downloads" else None

        def seen() -> bool:
            entries = [
                e
                for e in runtime.journal()
                if (kind is None or e.get("kind") == kind) and str(e.get("path", "")).startswith(path)
            ]
            return len(entries) >= count

        _until(runtime, timeout, seen, missed(f"{count} {until} on {path or 'any path'}", count=count, path=path))
    else:
        _wait_idle(runtime, float(args.get("quiet", runtime.idle_quiet)), timeout, missed("the integration to be idle"))


def _settle_deliveries(runtime: StepRuntime) -> bool:
    """True when nothing is pending; otherwise move the clock to the next retry and say False."""
    pending = [d for d in runtime.deliveries() if d.get("state") == "pending"]
    if not pending:
        return True
    due = [d["next_attempt_at"] for d in pending if d.get("next_attempt_at") is not None]
    if due:
        now = runtime.mock.clock()["now"]
        jump = min(due) - now
        if jump > 0:
            runtime.mock.advance(jump)
    return False


IDLE_PAGE = 1_000


def _integration_requests_after(runtime: StepRuntime, cursor: int, page: int = IDLE_PAGE) -> tuple[int, bool]:
    """The journal's cursor now, and whether the integration made a request after ``cursor``.

    Only entries past the cursor are fetched, a page at most (one request of the integration among
    them is all this needs to know), so a poll costs the same whatever the journal holds.
    """
    answer = runtime.mock.get("/_mock/journal", since=cursor, limit=page)
    entries = answer.get("entries", [])
    last_id = answer.get("last_id")
    newest = max(int(last_id) if last_id is not None else cursor, cursor)
    ours = any(not str(e.get("user_agent", "")).startswith(HARNESS_USER_AGENT) for e in entries)
    return newest, ours or bool(answer.get("truncated"))


def _wait_idle(runtime: StepRuntime, quiet: float, timeout: float, missed: MissedWait | None = None) -> None:
    """Wait until the integration has made no request for ``quiet`` seconds.

    Idle is decided from the journal's cursor (the id of its newest entry), never from its length:
    the journal is bounded, so under a flood its length sticks at the limit while its ids keep
    growing, and a length would read a flooder as idle. Status reports are requests too, so the
    journal sees them.
    """
    allowed = runtime.remaining(timeout)
    end, deadline_wall = time.monotonic() + allowed, time.time() + allowed
    cursor, _ = _integration_requests_after(runtime, runtime.journal_cursor, page=100_000)  # to the newest entry
    last_change = time.monotonic()
    while time.monotonic() < end:
        time.sleep(POLL_INTERVAL * 2)
        cursor, active = _integration_requests_after(runtime, cursor)
        if active:
            last_change = time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return
    busy = f"the integration was still busy after {allowed:g} s"
    if missed is None:
        runtime.observation.step_problems.append(busy)
    else:
        missed.what = f"the integration to be idle ({quiet:g} s without a request)"
        _record_missed(runtime, missed, timeout, allowed, busy, deadline_wall)
