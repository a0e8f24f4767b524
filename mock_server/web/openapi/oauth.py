"""The OAuth2 paths of the document: the browser pages, the token and device endpoints, the key set.

Written as strictly as the endpoints read their parameters, so a fuzzer finds nothing the document
admits and the mock refuses: ``client_id`` and ``redirect_uri`` are the registered ones (anything
else is an HTML error page, never a redirect), a device authorization names its client and known
scopes, and every body parameter is a non-empty string (RFC 6749 section 3.1: empty is absent).
What an authorization request gets wrong after its client and redirect URI (``response_type``,
``scope``) is answered by a redirect carrying ``error``, so the document leaves those free.
"""

from __future__ import annotations

import re
from typing import Any

from mock_server.core.settings import Settings
from mock_server.core.tokens import KNOWN_SCOPES
from mock_server.web.openapi.parts import content, html_error, ok, op, parameter, problems

DECISIONS = ["approve", "deny"]
STRING = {"type": "string", "minLength": 1}
DEVICE_DECISION = {"type": "string", "enum": [*DECISIONS, ""], "description": "Empty or absent: show the page."}
_ONE_SCOPE = "(?:" + "|".join(re.escape(scope) for scope in KNOWN_SCOPES) + ")"
SCOPE_PATTERN = f"^ *{_ONE_SCOPE}(?: +{_ONE_SCOPE})* *$"
"""Known scopes separated by spaces, at least one (``validate_scopes`` refuses anything else)."""
TOKEN_REQUEST = {"$ref": "#/components/schemas/TokenRequest"}
OAUTH_ERROR = {"$ref": "#/components/schemas/OAuthError"}
JSON_OR_FORM = ("application/json", "application/x-www-form-urlencoded")


def _form(properties: dict[str, Any], required: list[str], types: tuple[str, ...] = JSON_OR_FORM) -> dict[str, Any]:
    """A body of string parameters; extras are ignored, so they may appear (as strings, empty too)."""
    schema = {"type": "object", "required": required, "properties": properties,
              "additionalProperties": {"type": "string"}}  # fmt: skip
    return {"required": True, "content": {media: {"schema": schema} for media in types}}


def _client(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        "client_id": {"type": "string", "enum": [settings.client_id],
                      "description": "The registered client; any other is an HTML error page."},
        "redirect_uri": {"type": "string", "enum": list(settings.redirect_uris),
                         "description": "A registered redirect URI, exactly; any other is an HTML error page."},
    }  # fmt: skip


def _authorize(settings: Settings) -> dict[str, Any]:
    client = _client(settings)
    free = {"response_type": "code; another value is answered by a redirect with error",
            "scope": "Known scopes separated by spaces; a bad one is answered by a redirect with error=invalid_scope",
            "state": "Echoed in the redirect"}  # fmt: skip
    query = [{**parameter(name, schema=schema, description=schema["description"]), "required": True}
             for name, schema in client.items()]  # fmt: skip
    query += [parameter(name, description=text) for name, text in free.items()]
    form = {**client, "decision": {"type": "string", "enum": DECISIONS},
            **{name: {"type": "string", "description": text} for name, text in free.items()}}  # fmt: skip
    return {
        "get": op("Authorization code flow: consent page, then redirect with ?code&state", "OAuth2",
                  {"302": {"description": "Redirect to redirect_uri with code and state, or with error"},
                   "200": {"description": "Consent page (HTML)", "content": {"text/html": {"schema": {}}}},
                   "400": html_error("Unknown client or redirect_uri: an HTML page, never a redirect")},
                  parameters=query),
        "post": op("Consent page decision (HTML form), then redirect with ?code&state or ?error", "OAuth2",
                   {"302": {"description": "Redirect to redirect_uri"},
                    "400": html_error("Bad form, unknown client or redirect_uri (HTML page)"), **problems(413)},
                   requestBody=_form(form, ["client_id", "redirect_uri", "decision"],
                                     ("application/x-www-form-urlencoded",))),
    }  # fmt: skip


def oauth_paths(settings: Settings) -> dict[str, Any]:
    """``/authorize``, ``/oauth2/token``, ``/oauth2/device``, ``/device``, ``/.well-known/jwks.json``."""
    oauth_error = {"description": "OAuth2 error", "content": content(OAUTH_ERROR, ("application/json",))}
    scope = {"type": "string", "pattern": SCOPE_PATTERN}
    device = {"client_id": {**STRING, "description": "Unknown: 401 invalid_client"}, "scope": scope}
    user_code = {"type": "string", "description": "The code the software shows (case, spaces and hyphens do not "
                 "matter); none: the page asks for it; unknown: 404; expired or used: 409."}  # fmt: skip
    page = {"description": "HTML page", "content": {"text/html": {"schema": {}}}}
    return {
        "/authorize": _authorize(settings),
        "/oauth2/token": {
            "post": op("Token endpoint: authorization_code, refresh_token and device_code grants", "OAuth2",
                       {**ok("A token pair", {"$ref": "#/components/schemas/TokenResponse"}),
                        "400": oauth_error,
                        "401": {"description": "Client authentication failed",
                                "content": content(OAUTH_ERROR, ("application/json",))}},
                       requestBody={"required": True, "content": content(TOKEN_REQUEST, JSON_OR_FORM)}),
        },
        "/oauth2/device": {
            "post": op("Device authorization request (RFC 8628)", "OAuth2",
                       {**ok("device_code, user_code, verification_uri, expires_in", {"type": "object"}),
                        "400": oauth_error, "401": oauth_error},
                       requestBody=_form(device, ["client_id", "scope"])),
        },
        "/device": {
            "get": op("Device verification page (HTML)", "OAuth2",
                      {"200": page, "404": html_error("Unknown user code (HTML page)"),
                       "409": html_error("Expired or already decided user code (HTML page)")},
                      parameters=[parameter("user_code", schema=user_code, description=user_code["description"])]),
            "post": op("Device verification decision (HTML form)", "OAuth2",
                       {"200": page, "400": html_error("Bad form or decision (HTML page)"),
                        "404": html_error("Unknown user code (HTML page)"),
                        "409": html_error("Expired or already decided user code (HTML page)"), **problems(413)},
                       requestBody=_form({"user_code": user_code, "decision": DEVICE_DECISION},
                                         [], ("application/x-www-form-urlencoded",))),
        },
        "/.well-known/jwks.json": {
            "get": op("Public key of the access tokens (JWK set)", "OAuth2", ok("JWK set", {"type": "object"})),
        },
    }  # fmt: skip
