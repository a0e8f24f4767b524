"""Checks on the requests themselves: every call uses a route and a method Askara serves.

The mock notes in its journal why it refused a request for routing reasons (``refused``:
``method`` for a 405, ``route`` for a 404 no route matched, a trailing slash on a POST included, or
a malformed path uuid) and what it said (``problem``). Such a call fails in production too, the
same way: the integration must not depend on it.
"""

from __future__ import annotations

from typing import Any

from conformance.checks.registry import Status, check, skip
from conformance.observation import Observation


def describe(entry: dict[str, Any]) -> str:
    """``POST /me?x=1 answered 405: <what the mock said>``, for a message a reader can act on."""
    query = entry.get("query") or ""
    target = f"{entry.get('method')} {entry.get('path')}" + (f"?{query}" if query else "")
    said = entry.get("problem")
    return f"{target} answered {entry.get('status')}" + (f" ({said})" if said else "")


@check("routes", "every API call uses a route and a method Askara serves (no 405, no 404 from routing)")
def routes(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    requests = [e for e in observation.api_requests() if e.get("kind") == "api"]
    if not requests:
        return skip("the integration made no API call in this scenario")
    refused = [e for e in requests if e.get("refused") in ("method", "route")]
    if refused:
        calls = sorted({f"{e.get('method')} {e.get('path')}" for e in refused})
        return (
            "failed",
            f"{len(refused)} call(s) refused for routing reasons ({', '.join(calls[:3])}): {describe(refused[0])}. "
            "Use the documented method and path (no trailing slash, canonical uuids).",
            [{"request": e.get("id"), "method": e.get("method"), "path": e.get("path"), "status": e.get("status"),
              "mock_said": e.get("problem")} for e in refused[:20]],  # fmt: skip
        )
    return "passed", f"{len(requests)} API calls, none refused for their route or method", []
