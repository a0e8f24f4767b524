"""``/_mock/faults``: arm, list and disarm faults of every kind (the API's and the sender's)."""

from __future__ import annotations

import uuid

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.core.context import MockContext
from mock_server.core.errors import NotFound, ValidationFailed, Violation
from mock_server.core.store import Record
from mock_server.faults.registry import active, add, clear, fault_count, fault_params, remove
from mock_server.web.http import json_response, read_json
from mock_server.web.validation import validate

# -- the control endpoints ------------------------------------------------------------------------


async def create_fault(request: Request) -> Response:
    """``POST /_mock/faults``: check the body, apply or arm the fault, answer its record."""
    ctx: MockContext = request.app.state.mock
    body = await read_json(request)
    violations = validate("fault", body)
    kinds = ctx.fault_kinds
    kind = body.get("kind") if isinstance(body, dict) else None
    if isinstance(kind, str) and kind and kind not in kinds:
        known = ", ".join(sorted(kinds))
        message = f"The value {kind!r:.60} is not a known fault kind. Known kinds: {known}."
        violations.append(Violation("kind", message, "choice"))
    if violations:
        summary = "\n".join(f"{v.property_path or '(body)'}: {v.message}" for v in violations)
        raise ValidationFailed(summary, violations=violations)
    assert isinstance(kind, str)
    params = fault_params(body)
    record: Record = {
        "id": "flt_" + uuid.uuid4().hex[:16],
        "kind": kind,
        "params": params,
        "remaining": fault_count(params),
        "created_at": ctx.clock.now(),
    }
    record.update(kinds[kind](ctx, body) or {})
    if record.get("remaining") is None or record["remaining"] > 0:
        add(ctx, record)
    return json_response(record, 201)


async def list_faults(request: Request) -> Response:
    """``GET /_mock/faults``: the faults still armed, oldest first."""
    return json_response(active(request.app.state.mock))


async def list_kinds(request: Request) -> Response:
    """``GET /_mock/faults/kinds``: every kind this mock can inject (the API's and the sender's)."""
    return json_response(sorted(request.app.state.mock.fault_kinds))


async def clear_faults(request: Request) -> Response:
    """``DELETE /_mock/faults``: disarm every fault."""
    return json_response({"cleared": clear(request.app.state.mock)})


async def delete_fault(request: Request) -> Response:
    """``DELETE /_mock/faults/{id}``: disarm one fault."""
    fault_id = request.path_params["fault_id"]
    if remove(request.app.state.mock, fault_id) is None:
        raise NotFound(f'Fault "{fault_id}" not found (it may have been used up already).')
    return Response(status_code=204)


class FaultIdConvertor(Convertor[str]):
    """The ids :func:`create_fault` gives, as a route requirement: ``/_mock/faults/kinds`` is never one,
    so its ``Allow`` names GET alone (the OpenAPI document says the same pattern)."""

    regex = "flt_[0-9a-f]{16}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("fault_id", FaultIdConvertor())


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/faults", create_fault, methods=["POST"]),
        Route("/_mock/faults", list_faults, methods=["GET"]),
        Route("/_mock/faults", clear_faults, methods=["DELETE"]),
        Route("/_mock/faults/kinds", list_kinds, methods=["GET"]),
        Route("/_mock/faults/{fault_id:fault_id}", delete_fault, methods=["DELETE"]),
    ]
