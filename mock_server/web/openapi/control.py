"""The control API's paths (``/_mock``), under the ``x-askara-mock-control`` tag."""

from __future__ import annotations

from typing import Any

from mock_server.web.openapi.parts import (
    CONTROL_TAG,
    UUID,
    op,
    parameter,
    problems,
    ref,
)


def control_paths() -> dict[str, Any]:
    def ctl(summary: str, body: str | None = None, status: str = "200", **extra: Any) -> dict[str, Any]:
        responses = {status: {"description": "OK", "content": {"application/json": {"schema": {}}}},
                     **problems(400, 404, 415, 422)}
        operation = op(summary, CONTROL_TAG, responses, **extra)
        if body is not None:
            operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": ref(body)}}}
        return operation

    uuid_path = [parameter("uuid", "path", UUID)]
    since = parameter("since", schema={"type": "integer", "minimum": 0})
    snapshot_read = ctl("The whole state as one versioned snapshot document")
    snapshot_read["responses"]["200"]["content"]["application/json"]["schema"] = ref("snapshot")
    snapshot_load = ctl("Load a snapshot: checked whole first (400 naming each broken rule), no webhook fires, "
                        "pending retries keep their times", "snapshot")
    snapshot_load["requestBody"]["required"] = True
    settle = ctl("Wait until every due delivery was attempted and answered (409 naming what is still pending when "
                 "the timeout runs out)", parameters=[
                     parameter("advance", schema={"enum": ["true", "false", "1", "0"]}),
                     parameter("timeout", schema={"type": "number", "exclusiveMinimum": 0, "maximum": 600})])
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    settle["responses"]["409"] = {"description": "Not settled in time: violations name each delivery still pending",
                                  "content": {"application/problem+json": problem}}
    return {
        "/_mock/credentials": {"get": ctl("Client credentials and a fresh refresh token",
                                          parameters=[parameter("scope")]),
                               "post": ctl("Register the refresh token of an already-running integration",
                                           "control-credentials")},
        "/_mock/clock": {"get": ctl("The mock clock")},
        "/_mock/clock/advance": {"post": ctl("Move the mock clock forward", "clock-advance")},
        "/_mock/documents": {"get": ctl("Every document, drafts and internal sync state included", parameters=[
            since, parameter("state", schema={"enum": ["draft", "verified"]}),
            parameter("synchronized", schema={"enum": ["true", "false", "1", "0"]})]),
                             "post": ctl("Create a document (validate: true fires new_document)",
                                         "control-document", "201")},
        "/_mock/documents/{uuid}": {"get": ctl("One document record", parameters=uuid_path)},
        "/_mock/documents/{uuid}/validate": {"post": ctl("Validate: fires new_document", parameters=uuid_path)},
        "/_mock/documents/{uuid}/synchronize": {"post": ctl("Synchronize button: fires document_synchronize",
                                                            parameters=uuid_path)},
        "/_mock/notes": {"get": ctl("Every note", parameters=[since]),
                         "post": ctl("Generate a note: fires new_note", "control-note", "201")},
        "/_mock/status-reports": {"get": ctl("Status reports received",
                                             parameters=[since, parameter("document", schema=UUID)])},
        "/_mock/journal": {"get": ctl("Requests answered", parameters=[
            since, parameter("kind"), parameter("path"),
            parameter("limit", schema={"type": "integer", "minimum": 1})])},
        "/_mock/events": {"get": ctl("Events emitted", parameters=[since, parameter("action"), parameter("id")])},
        "/_mock/webhooks": {"get": ctl("Every webhook record, with the warnings its URL deserves", parameters=[since])},
        "/_mock/assumptions": {"get": ctl("Assumptions about Askara the answers rested on, with counts",
                                          parameters=[parameter("all", schema={"enum": ["true", "false", "1", "0"]})])},
        "/_mock/device/approve": {"post": ctl("Approve a device-flow user code", "control-device-approve")},
        "/_mock/reset": {"post": ctl("Back to the seeded state")},
        "/_mock/snapshot": {"get": snapshot_read, "post": snapshot_load},
        "/_mock/settle": {"post": settle},
        "/_mock/faults": {"get": ctl("Active faults"), "post": ctl("Inject a fault", "fault", "201"),
                          "delete": ctl("Remove every fault")},
        "/_mock/faults/kinds": {"get": ctl("Every fault kind this mock knows")},
        "/_mock/faults/{fault_id}": {"delete": ctl("Remove one fault", status="204",
                                                   parameters=[parameter("fault_id", "path")])},
        "/_mock/deliveries": {"get": ctl("Webhook deliveries with every attempt", parameters=[
            since, parameter("state", schema={"enum": ["pending", "delivered", "failed", "cancelled"]}),
            parameter("webhook"), parameter("event"), parameter("created_since"),
            parameter("limit", schema={"type": "integer", "minimum": 1, "maximum": 100_000})])},
        "/_mock/failures": {"get": ctl("The failure queue", parameters=[since])},
        "/_mock/deliveries/{id}": {"get": ctl("One delivery with every attempt", parameters=[parameter("id", "path")])},
        "/_mock/deliveries/{id}/redeliver": {"post": ctl("Send a delivery again",
                                                         parameters=[parameter("id", "path")])},
        "/_mock/webhooks/{uuid}/send": {"post": ctl("Deliver hand-made events to one webhook",
                                                    "control-webhook-send", "202", parameters=uuid_path)},
    }
