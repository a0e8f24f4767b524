"""The control API's paths (``/_mock``), under the ``x-askara-mock-control`` tag."""

from __future__ import annotations

from typing import Any

from mock_server.core.vocabulary import EVENT_NAMES, FAULT_KINDS, JOURNAL_KINDS
from mock_server.web.openapi.oauth import SCOPE_PATTERN
from mock_server.web.openapi.parts import (
    CONTROL_TAG,
    UUID,
    op,
    parameter,
    problems,
    ref,
)

FAULT_ID = {"type": "string", "pattern": "^flt_[0-9a-f]{16}$"}
"""The ids ``POST /_mock/faults`` gives; the route takes no other, so ``/_mock/faults/kinds`` is not one."""
SCOPES = {"type": "string", "pattern": SCOPE_PATTERN}
"""Space-separated known scopes: the server refuses an empty or unknown one (400)."""
NEEDS_BODY = ("clock-advance", "control-device-approve", "control-webhook-send")
"""Bodies the server cannot do without (their schema has required fields): no body is a 415 or 422."""

DOCUMENT_LINKS = {
    name: {"operationId": operation, "parameters": {"uuid": "$response.body#/document/uuid"},
           "description": f"{name} the document just created"}
    for name, operation in (("Get", "controlGetDocument"), ("Validate", "controlValidateDocument"),
                            ("Synchronize", "controlSynchronizeDocument"))
}  # fmt: skip
# No link from POST /_mock/faults to DELETE /_mock/faults/{fault_id}: a fault that applies at once
# (expire_tokens, a count-less route fault used up) is gone when the answer leaves, and its 404 is the truth.


def control_paths() -> dict[str, Any]:
    def ctl(summary: str, body: str | dict[str, Any] | None = None, status: str = "200", *,
            links: dict[str, Any] | None = None, needs_body: bool = False, refusals: tuple[int, ...] = (),
            **extra: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": "OK"}
        if status != "204":
            answer["content"] = {"application/json": {"schema": {}}}
        if links:
            answer["links"] = links
        codes = sorted({400, 404, 415, 422, *refusals, *((413,) if body is not None else ())})
        operation = op(summary, CONTROL_TAG, {status: answer, **problems(*codes)}, **extra)
        if body is not None:
            schema = ref(body) if isinstance(body, str) else body
            required = needs_body or body in NEEDS_BODY
            operation["requestBody"] = {"required": required, "content": {"application/json": {"schema": schema}}}
        return operation

    # The schema files validate; these narrow what a field takes where the server checks more than the file says.
    fault_body = {"allOf": [ref("fault"), {"properties": {"kind": {"enum": list(FAULT_KINDS)}}}]}
    credentials_body = {"allOf": [ref("control-credentials"), {"properties": {"scope": SCOPES}}]}
    uuid_path = [parameter("uuid", "path", UUID)]
    since = parameter("since", schema={"type": "integer", "minimum": 0, "maximum": 2**53 - 1})
    snapshot_read = ctl("The whole state as one versioned snapshot document")
    snapshot_read["responses"]["200"]["content"]["application/json"]["schema"] = ref("snapshot")
    snapshot_load = ctl("Load a snapshot: checked whole first (400 naming each broken rule), no webhook fires, "
                        "pending retries keep their times", "snapshot", operationId="controlLoadSnapshot")
    snapshot_load["requestBody"]["required"] = True
    settle = ctl("Wait until every due delivery was attempted and answered (409 naming what is still pending when "
                 "the timeout runs out)", parameters=[
                     parameter("advance", schema={"enum": ["true", "false", "1", "0"]}),
                     parameter("timeout", schema={"type": "number", "exclusiveMinimum": 0, "maximum": 600})])
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    settle["responses"]["409"] = {"description": "Not settled in time: violations name each delivery still pending",
                                  "content": {"application/problem+json": problem}}
    return {
        "/_mock/credentials": {"get": ctl("Client credentials and a fresh refresh token", refusals=(409,),
                                          parameters=[parameter("scope", schema=SCOPES)]),
                               "post": ctl("Register the refresh token of an already-running integration",
                                           credentials_body, refusals=(409,))},
        "/_mock/clock": {"get": ctl("The mock clock")},
        "/_mock/clock/advance": {"post": ctl("Move the mock clock forward", "clock-advance")},
        "/_mock/documents": {"get": ctl("Every document, drafts and internal sync state included", parameters=[
            since, parameter("state", schema={"enum": ["draft", "verified"]}),
            parameter("synchronized", schema={"enum": ["true", "false", "1", "0"]})]),
                             "post": ctl("Create a document (validate: true fires new_document)",
                                         "control-document", "201", links=DOCUMENT_LINKS, refusals=(409,))},
        "/_mock/documents/{uuid}": {"get": ctl("One document record", parameters=uuid_path,
                                               operationId="controlGetDocument")},
        "/_mock/documents/{uuid}/validate": {"post": ctl("Validate: fires new_document", parameters=uuid_path,
                                                         refusals=(409,), operationId="controlValidateDocument")},
        "/_mock/documents/{uuid}/synchronize": {"post": ctl("Synchronize button: fires document_synchronize",
                                                            parameters=uuid_path, refusals=(409, 429),
                                                            operationId="controlSynchronizeDocument")},
        "/_mock/notes": {"get": ctl("Every note", parameters=[since]),
                         "post": ctl("Generate a note: fires new_note", "control-note", "201", refusals=(409,))},
        "/_mock/status-reports": {"get": ctl("Status reports received",
                                             parameters=[since, parameter("document", schema=UUID)])},
        "/_mock/journal": {"get": ctl("Requests answered", parameters=[
            since, parameter("kind", schema={"enum": list(JOURNAL_KINDS)}), parameter("path"),
            parameter("limit", schema={"type": "integer", "minimum": 1, "maximum": 100_000})])},
        "/_mock/events": {"get": ctl("Events emitted", parameters=[
            since, parameter("action", schema={"enum": list(EVENT_NAMES)}), parameter("id")])},
        "/_mock/webhooks": {"get": ctl("Every webhook record, with the warnings its URL deserves", parameters=[since])},
        "/_mock/assumptions": {"get": ctl("Assumptions about Askara the answers rested on, with counts",
                                          parameters=[parameter("all", schema={"enum": ["true", "false", "1", "0"]})])},
        "/_mock/device/approve": {"post": ctl("Approve a device-flow user code", "control-device-approve")},
        "/_mock/reset": {"post": ctl("Back to the seeded state")},
        "/_mock/snapshot": {"get": snapshot_read, "post": snapshot_load},
        "/_mock/settle": {"post": settle},
        "/_mock/faults": {"get": ctl("Active faults"),
                          "post": ctl("Inject a fault", fault_body, "201", needs_body=True),
                          "delete": ctl("Remove every fault")},
        "/_mock/faults/kinds": {"get": ctl("Every fault kind this mock knows")},
        "/_mock/faults/{fault_id}": {"delete": ctl("Remove one fault", status="204", operationId="controlDeleteFault",
                                                   parameters=[parameter("fault_id", "path", FAULT_ID)])},
        "/_mock/deliveries": {"get": ctl("Webhook deliveries with every attempt", parameters=[
            since, parameter("state", schema={"enum": ["pending", "delivered", "failed", "cancelled"]}),
            parameter("webhook"), parameter("event"),
            parameter("created_since", schema={"type": "number", "minimum": 0}),
            parameter("limit", schema={"type": "integer", "minimum": 1, "maximum": 100_000})])},
        "/_mock/failures": {"get": ctl("The failure queue", parameters=[since])},
        "/_mock/deliveries/{id}": {"get": ctl("One delivery with every attempt", parameters=[parameter("id", "path")])},
        "/_mock/deliveries/{id}/redeliver": {"post": ctl("Send a delivery again",
                                                         parameters=[parameter("id", "path")])},
        "/_mock/webhooks/{uuid}/send": {"post": ctl("Deliver hand-made events to one webhook",
                                                    "control-webhook-send", "202", parameters=uuid_path)},
    }
