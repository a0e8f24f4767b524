"""Small helpers shared by the control API modules: the context, optional bodies, query values."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_server.core.context import MockContext
from mock_server.core.errors import BadRequest, ValidationFailed, Violation
from mock_server.web.http import read_json
from mock_server.web.routing import canonical_uuid
from mock_server.web.validation import validate


def context(request: Request) -> MockContext:
    ctx: MockContext = request.app.state.mock
    return ctx


async def optional_json(request: Request, schema: str) -> dict[str, Any]:
    """The validated body, or ``{}`` validated the same way when the request has no body at all.

    Control calls like ``POST /_mock/notes`` are handy with no body (curl, the web page); a body
    that is present is parsed and validated as strictly as the public API does.
    """
    length = request.headers.get("content-length")
    chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
    if (length is None and not chunked) or length == "0":
        violations = validate(schema, {})
        if violations:
            raise ValidationFailed("The request body is missing.", violations=violations)
        return {}
    data: dict[str, Any] = await read_json(request, schema)
    return data


MAX_QUERY_INT = 2**53 - 1
"""The largest integer a JSON reader anywhere reads exactly (and orjson writes): larger is refused."""


def query_value(request: Request, name: str) -> str | None:
    """A query parameter given at most once; repeated, it is a 400 (which one would count is a guess)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        message = f"The query parameter {name!r} is given {len(values)} times; give it once."
        raise BadRequest(message, violations=[Violation(name, message, "query")])
    return values[0] if values else None


def query_int(request: Request, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    """An integer query parameter, or a 400 naming it and the rule it broke (empty is not a number)."""
    maximum = MAX_QUERY_INT if maximum is None else min(maximum, MAX_QUERY_INT)
    raw = query_value(request, name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or value > maximum:
        bounds = f">= {minimum} and <= {maximum}"
        message = f"The query parameter {name!r} must be an integer {bounds}; got {raw!r:.60}."
        raise BadRequest(message, violations=[Violation(name, message, "query")])
    return value


def query_choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    """One of ``choices``, None when absent; anything else (empty included) is a 400 naming them."""
    raw = query_value(request, name)
    if raw is None:
        return None
    if raw not in choices:
        message = f"The query parameter {name!r} must be one of {', '.join(choices)}; got {raw!r:.60}."
        raise BadRequest(message, violations=[Violation(name, message, "query")])
    return raw


def query_uuid(request: Request, name: str) -> str | None:
    """A uuid query parameter (lower-cased), None when absent; empty or malformed is a 400 naming it."""
    raw = query_value(request, name)
    if raw is None:
        return None
    value = canonical_uuid(raw)
    if value is None:
        message = f"The query parameter {name!r} must be a uuid (8-4-4-4-12 hexadecimal digits); got {raw!r:.60}."
        raise BadRequest(message, violations=[Violation(name, message, "query")])
    return value


def query_bool(request: Request, name: str) -> bool | None:
    value = query_choice(request, name, ("true", "false", "1", "0"))
    return None if value is None else value in ("true", "1")
