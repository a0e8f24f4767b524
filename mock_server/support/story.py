"""Control actions turned into scenario steps: what ``askara-mock record`` writes.

:class:`Story` takes the control-action feed (``GET /_mock/actions``) one action at a time and
keeps the steps a scenario file replays: documents and notes get names (``doc1``, ``note1``) so
later steps (validate, Synchronize, a fault aimed at a document) refer to them; before each new
action it inserts ``wait: {until: status-reports, document: NAME}`` for the documents the
integration had answered for meanwhile, and the story ends with ``wait: {until: idle}``.
Refused calls and actions a scenario cannot express (reset, redeliver, disarming faults) are kept
in ``skipped`` with the reason, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mock_server.core.store import Record

DOCUMENT_ACTION = re.compile(r"^/_mock/documents/([^/]+)/(validate|synchronize)$")
SEND = re.compile(r"^/_mock/webhooks/[^/]+/send$")
DOCUMENT_FIELDS = ("type", "title")


@dataclass
class Story:
    name: str = "recorded"
    seed: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    awaiting: list[str] = field(default_factory=list)
    """Documents (uuids) an event fired for, whose status report the story has not waited for yet."""

    def _name(self, uuid: str, prefix: str) -> str:
        if uuid not in self.names:
            self.names[uuid] = f"{prefix}{sum(1 for n in self.names.values() if n.startswith(prefix)) + 1}"
        return self.names[uuid]

    def answered(self, reported: set[str]) -> None:
        """The integration has sent status reports for ``reported`` (uuids): wait for them in the replay."""
        done = [uuid for uuid in self.awaiting if uuid in reported]
        if done:
            names = [self.names[uuid] for uuid in done]
            self.steps.append({"wait": {"until": "status-reports", "document": names[0] if len(names) == 1 else names}})
            self.awaiting = [uuid for uuid in self.awaiting if uuid not in done]

    def add(self, action: Record) -> None:
        """One action of the feed, in order."""
        path, body, answer = str(action.get("path")), action.get("body") or {}, action.get("answer") or {}
        what = f"{action.get('method')} {path}"
        if int(action.get("status") or 0) >= 400:
            self.skipped.append(f"{what}: refused by the mock ({action.get('status')})")
            return
        step = self._step(path, body, answer)
        if step is None:
            self.skipped.append(f"{what}: no scenario step does this")
        else:
            self.steps.append(step)

    def _step(self, path: str, body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any] | None:
        extra = {k: body[k] for k in DOCUMENT_FIELDS if k in body}
        if path == "/_mock/documents" and isinstance(answer.get("document"), dict):
            uuid = str(answer["document"]["uuid"])
            name = self._name(uuid, "doc")
            if body.get("validate"):
                self.awaiting.append(uuid)
                return {"create": {"as": name, **extra, "validate": True}} if extra else {
                    "trigger": {"event": "new_document", "as": name}}
            return {"create": {"as": name, **extra}}
        if path == "/_mock/notes" and isinstance(answer.get("note"), dict):
            return {"trigger": {"event": "new_note", "as": self._name(str(answer["note"]["uuid"]), "note")}}
        match = DOCUMENT_ACTION.match(path)
        if match:
            uuid, verb = match.groups()
            if uuid not in self.names:
                return None  # a seeded document: the replay has no name for it
            self.awaiting.append(uuid)
            if verb == "validate":
                return {"validate": self.names[uuid]}
            return {"trigger": {"event": "document_synchronize", "document": self.names[uuid]}}
        if path == "/_mock/clock/advance" and "seconds" in body:
            return {"advance": body["seconds"]}
        if path == "/_mock/faults" and body.get("kind"):
            spec = {k: v for k, v in body.items() if k != "document"}
            if body.get("document") in self.names:
                spec["document"] = self.names[str(body["document"])]
            elif "document" in body:
                return None
            return {"fault": spec}
        if SEND.match(path) and isinstance(body.get("events"), list):
            return {"send": {"events": body["events"]}}
        return None

    def scenario(self) -> dict[str, Any]:
        """The scenario file's content as it stands (ends with a wait for the integration to go quiet)."""
        document: dict[str, Any] = {
            "name": self.name,
            "description": "Recorded with askara-mock record from the control actions taken by hand.",
        }
        if self.seed is not None:
            document["seed"] = self.seed
        document["checks"] = ["always-confirm"]
        document["steps"] = [*self.steps, {"wait": {"until": "idle"}}]
        return document
