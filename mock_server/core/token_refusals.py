"""Why a token is refused: typed errors that carry what the request journal and the developer need.

A bearer token refused by the resource server is a :class:`TokenRefused` (401): the body stays
what league/oauth2-server's Symfony bundle sends, while ``outcome`` and the revocation facts go
to the journal and the detail to the ``X-Askara-Mock-Explanation`` header. A refused refresh is a
:class:`RefreshRefused` (``invalid_grant``) with league's ``hint`` and the mock's explanation.
"""

from __future__ import annotations

from typing import Any

from mock_server.core.errors import OAuthError, Unauthorized


class TokenRefused(Unauthorized):
    """A bearer token the resource server rejects; ``outcome`` names why, for the request journal.

    Outcomes: ``invalid`` (not a token of this mock), ``unknown`` (signed here, but forgotten),
    ``revoked_by_refresh`` (its refresh token was used since), ``revoked``, ``expired``.
    """

    def __init__(
        self,
        detail: str,
        *,
        outcome: str,
        jti: str | None = None,
        revoked_at: float | None = None,
        replaced_by: str | None = None,
        error: str = "invalid_token",
    ) -> None:
        super().__init__(detail, error=error)
        self.outcome = outcome
        self.jti = jti
        self.revoked_at = revoked_at
        self.replaced_by = replaced_by

    def notes(self) -> dict[str, Any]:
        """Journal notes: the outcome and, when known, which token and when it was revoked."""
        notes: dict[str, Any] = {"auth_outcome": self.outcome}
        if self.jti is not None:
            notes["token_jti"] = self.jti
        if self.revoked_at is not None:
            notes["token_revoked_at"] = self.revoked_at
        if self.replaced_by is not None:
            notes["token_replaced_by"] = self.replaced_by
        return notes


class NoBearerCredentials(TokenRefused):
    """No ``Authorization: Bearer …`` header at all: the bundle's entry point answers (empty body)."""


class RefreshRefused(OAuthError):
    """A refused refresh, with league's ``hint``, the mock's explanation and notes for the journal."""

    def __init__(
        self,
        description: str,
        *,
        hint: str | None = None,
        explanation: str | None = None,
        notes: dict[str, Any] | None = None,
    ) -> None:
        super().__init__("invalid_grant", description)
        self.hint = hint
        self.explanation = explanation
        self.notes = notes or {}


def revoked_refusal(record: dict[str, Any]) -> TokenRefused:
    """Why a revoked access token is refused, in words a developer can act on."""
    jti, at = str(record["jti"]), record.get("revoked_at")
    if record.get("revoked_reason") == "refreshed":
        return TokenRefused(
            "The access token was revoked when its refresh token was used: league/oauth2-server revokes the old "
            "access token on every refresh. Use the access token that refresh returned (share one token store "
            "between workers).",
            outcome="revoked_by_refresh",
            jti=jti,
            revoked_at=at,
            replaced_by=record.get("replaced_by"),
        )
    reason = record.get("revoked_reason") or "revoked"
    return TokenRefused(f"The access token has been revoked ({reason}).", outcome="revoked", jti=jti, revoked_at=at)
