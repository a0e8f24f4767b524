"""Typed errors, rendered in one place as problem documents.

Tree::

    MockServerError
    ├── ConfigError (ValueError)          bad settings, raised before serving
    ├── ProblemError                      any HTTP-facing error: status, title, detail, violations
    │   ├── BadRequest (400)              malformed JSON, bad query parameter
    │   ├── Unauthorized (401)            missing, bad or expired token (WWW-Authenticate)
    │   ├── Forbidden (403)               missing scope (WWW-Authenticate insufficient_scope)
    │   ├── NotFound (404)
    │   ├── MethodNotAllowed (405)
    │   ├── NotAcceptable (406)         an Accept header the API cannot answer
    │   ├── Conflict (409)
    │   ├── PayloadTooLarge (413)
    │   ├── UnsupportedMediaType (415)
    │   ├── ValidationFailed (422)        with ``violations`` naming each field and rule
    │   └── TooManyRequests (429)         with Retry-After
    └── OAuthError                        RFC 6749 token-endpoint error: {"error", "error_description"}

Endpoints raise these; they never build error JSON themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class MockServerError(Exception):
    """Root of every error askara-mock raises on purpose."""


class ConfigError(MockServerError, ValueError):
    """A setting has a value the mock cannot run with."""


@dataclass(frozen=True)
class Violation:
    """One broken rule of a request body or query: the API Platform ``violations[]`` entry."""

    property_path: str
    message: str
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"propertyPath": self.property_path, "message": self.message, "code": self.code}


class ProblemError(MockServerError):
    status = 500
    title = "An error occurred"
    type_uri = "about:blank"

    def __init__(
        self,
        detail: str,
        *,
        violations: list[Violation] | None = None,
        headers: dict[str, str] | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.violations = violations or []
        self.headers = headers or {}
        if title is not None:
            self.title = title


class BadRequest(ProblemError):
    status = 400
    title = "Bad Request"


class Unauthorized(ProblemError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str, *, error: str = "invalid_token", scope: str | None = None) -> None:
        challenge = 'Bearer realm="askara"'
        if error:
            challenge += f', error="{error}", error_description="{detail}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ProblemError):
    status = 403
    title = "Forbidden"

    def __init__(self, detail: str, *, scope: str | None = None) -> None:
        headers = {}
        if scope is not None:
            headers["WWW-Authenticate"] = (
                f'Bearer realm="askara", error="insufficient_scope", scope="{scope}", error_description="{detail}"'
            )
        super().__init__(detail, headers=headers)


class NotFound(ProblemError):
    status = 404
    title = "Not Found"


class MethodNotAllowed(ProblemError):
    status = 405
    title = "Method Not Allowed"


class NotAcceptable(ProblemError):
    status = 406
    title = "Not Acceptable"


class Conflict(ProblemError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(ProblemError):
    status = 413
    title = "Payload Too Large"


class UnsupportedMediaType(ProblemError):
    status = 415
    title = "Unsupported Media Type"


class ValidationFailed(ProblemError):
    status = 422
    title = "An error occurred"


class TooManyRequests(ProblemError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, *, retry_after: int, headers: dict[str, str] | None = None) -> None:
        merged = {"Retry-After": str(max(1, int(retry_after)))}
        merged.update(headers or {})
        super().__init__(detail, headers=merged)


class OAuthError(MockServerError):
    """An RFC 6749 section 5.2 error from the token or authorization endpoints."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
