"""The device authorization grant (RFC 8628) for desktop software without a browser callback.

``POST /oauth2/device`` starts it, the user approves at ``GET/POST /device`` (or the control API
calls :func:`approve_device_code`), and the software polls ``POST /oauth2/token`` with
``grant_type=urn:ietf:params:oauth:grant-type:device_code``. Askara's guide names no paths or
fields past ``authorization_pending``, so the rest is league's ``DeviceCodeGrant``: the device
authorization request names the client by ``client_id`` alone (no secret; the polls authenticate
it), the answer omits ``interval`` and ``verification_uri_complete`` unless the settings turn
them on, and user codes are 8 letters without a separator. The polling interval is judged on the
mock clock, so a manual clock makes ``slow_down`` deterministic.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from mock_server.api.oauth.authorize import consenting_user
from mock_server.api.oauth.consent import device_confirm_page, device_done_page, device_entry_page, error_page
from mock_server.api.oauth.params import (
    FORM,
    Params,
    content_type,
    identify_client,
    parse_form,
    read_params,
    require,
    validate_scopes,
)
from mock_server.core.context import MockContext
from mock_server.core.errors import Conflict, NotFound, OAuthError
from mock_server.core.store import Record
from mock_server.core.tokens import league_identifier
from mock_server.web.http import json_response, read_body

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
"""Base-20 consonants, as RFC 8628 section 6.1 suggests: no vowels (no words), no look-alikes."""
USER_CODE_LENGTH = 8
SLOW_DOWN_STEP = 5
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def normalize_user_code(text: str) -> str:
    """``wdjb mjht``, ``WDJB-MJHT`` and ``WDJBMJHT`` are the same code: keep alphabet letters, upper-case."""
    letters = "".join(ch for ch in text.upper() if ch in USER_CODE_ALPHABET)
    return letters if len(letters) == USER_CODE_LENGTH else text.strip().upper()


def _new_user_code(ctx: MockContext) -> str:
    """league's ``generateUserCode()``: 8 letters of the alphabet, no separator."""
    taken = {r["user_code"] for r in ctx.store.device_codes if r["status"] == "pending"}
    while True:
        code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
        if code not in taken:
            return code


async def device_authorization(request: Request) -> Response:
    """``POST /oauth2/device``: a device code, a user code and where to type it."""
    ctx: MockContext = request.app.state.mock
    note = request.scope.setdefault("askara.note", {})
    params = await read_params(request)
    note["client_id"] = params.get("client_id")
    client_id = identify_client(request, params)
    note["client_id"] = client_id
    scopes = validate_scopes(params.get("scope"))
    now = ctx.clock.now()
    _forget_stale(ctx, now)
    device_code = league_identifier()
    user_code = _new_user_code(ctx)
    ctx.store.device_codes.put(
        device_code,
        {
            "device_code": device_code,
            "user_code": user_code,
            "client_id": client_id,
            "scopes": scopes,
            "issued_at": now,
            "expires_at": now + ctx.settings.device_code_ttl,
            "interval": ctx.settings.device_poll_interval,
            "last_poll_at": None,
            "status": "pending",
            "user_id": None,
            "decided_at": None,
            "family": uuid.uuid4().hex,
        },
    )
    base = ctx.settings.base_url
    body: dict[str, Any] = {
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": f"{base}/device",
        "expires_in": ctx.settings.device_code_ttl,
    }
    if ctx.settings.device_verification_uri_complete:
        body["verification_uri_complete"] = f"{base}/device?user_code={quote(user_code)}"
    if ctx.settings.device_interval:
        body["interval"] = ctx.settings.device_poll_interval
    return json_response(body, headers=NO_STORE)


def _forget_stale(ctx: MockContext, now: float) -> None:
    for record in ctx.store.device_codes:
        if record["expires_at"] + 86_400 < now:
            ctx.store.device_codes.delete(record["device_code"])


def find_user_code(ctx: MockContext, user_code: str) -> Record | None:
    wanted = normalize_user_code(user_code)
    for record in ctx.store.device_codes:
        if record["user_code"] == wanted and record["status"] == "pending":
            return record
    return None


def _pending(ctx: MockContext, user_code: str) -> Record:
    """The pending, unexpired request behind ``user_code``, or a problem saying why not."""
    record = find_user_code(ctx, user_code)
    if record is None:
        raise NotFound(f'No pending device authorization has the user code "{user_code}".')
    if ctx.clock.now() >= record["expires_at"]:
        raise Conflict(f'The user code "{user_code}" has expired; the software must start again.')
    return record


def _decide(ctx: MockContext, record: Record, approve: bool) -> None:
    record["status"] = "approved" if approve else "denied"
    record["decided_at"] = ctx.clock.now()
    if approve:
        record["user_id"] = str(consenting_user(ctx)["uuid"])
    ctx.store.device_codes.save(record["device_code"])


def approve_device_code(ctx: MockContext, user_code: str) -> None:
    """Approve as the seeded clinician, for the control API (no browser needed)."""
    _decide(ctx, _pending(ctx, user_code), True)


def deny_device_code(ctx: MockContext, user_code: str) -> None:
    _decide(ctx, _pending(ctx, user_code), False)


async def device_page(request: Request) -> Response:
    """``GET /device`` asks for or confirms a user code; ``POST /device`` records the decision."""
    ctx: MockContext = request.app.state.mock
    if request.method == "GET":
        user_code = request.query_params.get("user_code", "")
        decision = None
    else:
        if content_type(request) != FORM:
            return error_page("Invalid request", f'The form must be posted as "{FORM}".')
        try:
            form = parse_form(await read_body(request, ctx.settings.max_body_bytes))
        except OAuthError as exc:
            return error_page("Invalid request", exc.description)
        user_code = form.get("user_code", "")
        decision = form.get("decision")
        if decision not in (None, "approve", "deny"):
            return error_page("Invalid consent", 'The form field "decision" must be "approve" or "deny".')
    if not user_code:
        return device_entry_page()
    try:
        record = _pending(ctx, user_code)
    except (NotFound, Conflict) as exc:
        return device_entry_page(user_code, exc.detail, status=exc.status)
    if decision is None:
        user = consenting_user(ctx)
        return device_confirm_page(
            record["user_code"], record["client_id"], str(user.get("email") or ""), record["scopes"]
        )
    _decide(ctx, record, decision == "approve")
    return device_done_page(decision == "approve")


def exchange_device_code(ctx: MockContext, params: Params, client_id: str, note: dict[str, Any]) -> dict[str, Any]:
    """One poll of the device grant: pending, slow down, denied, expired, or a token pair."""
    device_code = require(params, "device_code")
    record = ctx.store.device_codes.get(device_code)
    if record is None:
        note["device_outcome"] = "unknown"
        raise OAuthError("invalid_grant", "The device code is invalid.")
    if record["client_id"] != client_id:
        note["device_outcome"] = "wrong_client"
        raise OAuthError("invalid_grant", "The device code was not issued to this client.")
    if record["status"] == "used":
        note["device_outcome"] = "reused"
        raise OAuthError("invalid_grant", "The device code has already been exchanged for tokens.")
    now = ctx.clock.now()
    if now >= record["expires_at"]:
        note["device_outcome"] = "expired"
        raise OAuthError("expired_token", "The device code has expired; start a new device authorization.")
    if record["status"] == "denied":
        note["device_outcome"] = "denied"
        raise OAuthError("access_denied", "The user denied the authorization request.")
    if record["status"] == "pending":
        last = record["last_poll_at"]
        record["last_poll_at"] = now
        if last is not None and now - last < record["interval"]:
            record["interval"] += SLOW_DOWN_STEP
            ctx.store.device_codes.save(device_code)
            note["device_outcome"] = "slow_down"
            raise OAuthError(
                "slow_down", f"Polling too fast; wait at least {record['interval']} seconds between requests."
            )
        ctx.store.device_codes.save(device_code)
        note["device_outcome"] = "pending"
        raise OAuthError("authorization_pending", "The user has not yet approved the request.")
    record["status"] = "used"
    ctx.store.device_codes.save(device_code)
    note["device_outcome"] = "exchanged"
    return ctx.tokens.issue_pair(client_id, str(record["user_id"]), list(record["scopes"]), family=record["family"])
