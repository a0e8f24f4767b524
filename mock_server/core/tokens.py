"""Access and refresh tokens: issuing, verifying, rotating, revoking.

Access tokens are RS256 JWTs shaped like those of league/oauth2-server (which the ``def502``
refresh tokens in Askara's examples point to): ``aud`` is the client id, ``sub`` the user,
``scopes`` an array. Expiry is judged on the mock clock, not by PyJWT, so a manual clock can
expire a token. Refresh tokens are opaque, single-use, and belong to a *family*: the chain of
tokens born from one consent. Presenting a spent one revokes the whole family (theft signal).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_server.core.clock import Clock
from mock_server.core.errors import OAuthError, Unauthorized
from mock_server.core.settings import Settings
from mock_server.core.store import Store

KNOWN_SCOPES = ("profile", "organization", "read:documents", "write:document_integrations", "read:notes")
_VERIFY_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class AccessToken:
    """What a verified bearer token grants."""

    jti: str
    client_id: str
    user_id: str
    scopes: frozenset[str]
    family: str
    issued_at: float
    expires_at: float


def parse_scope(scope: str | None) -> list[str]:
    return [s for s in (scope or "").split(" ") if s]


class TokenService:
    """Issues and checks every token of one mock."""

    def __init__(self, settings: Settings, clock: Clock, store: Store) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        stored = _stored_key(store)
        if settings.signing_key_pem:
            pem = settings.signing_key_pem
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        elif stored:
            # Our own key, already checked when made: skip the slow RSA consistency check.
            pem = stored
            key = serialization.load_pem_private_key(pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)
        else:
            key, pem = _new_key()
        if settings.state_path and not settings.signing_key_pem:
            store.meta.put("signing_key", {"pem": pem})
        self._private_key = key
        self._public_key = self._private_key.public_key()  # type: ignore[union-attr]
        self.key_id = uuid.uuid5(uuid.NAMESPACE_URL, pem).hex[:16]
        self._verified: dict[str, AccessToken] = {}

    # -- access tokens -------------------------------------------------------------------------

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(self._public_key, as_dict=True)
        jwk.update({"kid": self.key_id, "use": "sig", "alg": "RS256"})
        return jwk

    def _mint_access(self, client_id: str, user_id: str, scopes: list[str], family: str) -> str:
        now = self.clock.now()
        jti = secrets.token_hex(20)
        claims = {
            "aud": client_id,
            "jti": jti,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + self.settings.access_token_ttl),
            "sub": user_id,
            "scopes": scopes,
            "iss": self.settings.base_url,
        }
        token = jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.key_id})  # type: ignore[arg-type]
        self.store.access_tokens.put(
            jti, {"jti": jti, "client_id": client_id, "user_id": user_id, "family": family, "revoked": False}
        )
        return token

    def verify_access(self, token: str) -> AccessToken:
        """The grant behind a bearer token, or 401 saying why not."""
        info = self._verified.get(token)
        if info is None:
            info = self._decode(token)
            if len(self._verified) >= _VERIFY_CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = info
        record = self.store.access_tokens.get(info.jti)
        if record is None or record["revoked"]:
            raise Unauthorized("The access token has been revoked.")
        if self.clock.now() >= info.expires_at or record.get("expired"):
            raise Unauthorized("The access token has expired; use the refresh token to get a new one.")
        return info

    def peek_client(self, token: str) -> str | None:
        """The client a well-signed token belongs to, without judging expiry (for rate limiting)."""
        try:
            return self.verify_signature_only(token).client_id
        except Unauthorized:
            return None

    def verify_signature_only(self, token: str) -> AccessToken:
        info = self._verified.get(token)
        return info if info is not None else self._decode(token)

    def _decode(self, token: str) -> AccessToken:
        try:
            claims = jwt.decode(
                token,
                self._public_key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The access token could not be verified ({exc}).") from None
        record = self.store.access_tokens.get(claims.get("jti", ""))
        family = record["family"] if record else ""
        return AccessToken(
            jti=claims["jti"],
            client_id=claims["aud"],
            user_id=claims["sub"],
            scopes=frozenset(claims.get("scopes", [])),
            family=family,
            issued_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
        )

    def expire_all_access_tokens(self) -> float:
        """Fault: every access token issued so far answers 401 'expired' from now on.

        Marked per token, not by issue time: ``iat`` has whole seconds, so on a manual clock a
        token refreshed right after the fault would share the cut-off second and expire too.
        """
        for record in self.store.access_tokens:
            if not record.get("expired"):
                record["expired"] = True
                self.store.access_tokens.save(record["jti"])
        return self.clock.now()

    # -- token pairs and refresh ---------------------------------------------------------------

    def issue_pair(
        self,
        client_id: str,
        user_id: str,
        scopes: list[str],
        family: str | None = None,
        *,
        refresh_token: str | None = None,
    ) -> dict[str, Any]:
        """A token response as Askara's token endpoint answers it.

        ``refresh_token`` registers a given string instead of a random one: an integration that is
        already running was configured with it before this mock started.
        """
        family = family or uuid.uuid4().hex
        access = self._mint_access(client_id, user_id, scopes, family)
        refresh = refresh_token or "def502" + secrets.token_hex(64)
        self.store.refresh_tokens.put(
            refresh,
            {
                "token": refresh,
                "client_id": client_id,
                "user_id": user_id,
                "scopes": scopes,
                "family": family,
                "issued_at": self.clock.now(),
                "expires_at": self.clock.now() + self.settings.refresh_token_ttl,
                "used_at": None,
                "revoked": False,
            },
        )
        return {
            "token_type": "Bearer",
            "expires_in": self.settings.access_token_ttl,
            "access_token": access,
            "refresh_token": refresh,
        }

    def refresh_outcome(self, refresh_token: str, client_id: str) -> tuple[str, dict[str, Any] | None]:
        """What presenting ``refresh_token`` would do, without doing it (for the request journal).

        One of ``rotated``, ``unknown``, ``wrong_client``, ``reused_spent_token``, ``revoked``,
        ``expired``. A spent token stays ``reused_spent_token`` even once its family is revoked, so
        the harness can tell "kept using the old refresh token" from other failures.
        """
        record = self.store.refresh_tokens.get(refresh_token)
        if record is None:
            return "unknown", None
        if record["client_id"] != client_id:
            return "wrong_client", record
        if record["used_at"] is not None:
            return "reused_spent_token", record
        if record["revoked"]:
            return "revoked", record
        if self.clock.now() >= record["expires_at"]:
            return "expired", record
        return "rotated", record

    def refresh(self, refresh_token: str, client_id: str, scope: str | None) -> dict[str, Any]:
        """Rotate: spend ``refresh_token`` and issue a new pair; reuse revokes the family."""
        outcome, record = self.refresh_outcome(refresh_token, client_id)
        if outcome == "unknown" or record is None:
            raise OAuthError("invalid_grant", "The refresh token is invalid.")
        if outcome == "wrong_client":
            raise OAuthError("invalid_grant", "The refresh token was not issued to this client.")
        if outcome == "reused_spent_token":
            self.revoke_family(record["family"], reason="spent refresh token presented again")
            raise OAuthError(
                "invalid_grant",
                "The refresh token has already been used; every token of its family is now revoked.",
            )
        if outcome == "revoked":
            raise OAuthError("invalid_grant", "The refresh token has been revoked.")
        if outcome == "expired":
            raise OAuthError("invalid_grant", "The refresh token has expired.")
        scopes = list(record["scopes"])
        if scope is not None:
            asked = parse_scope(scope)
            wider = [s for s in asked if s not in scopes]
            if wider:
                raise OAuthError(
                    "invalid_scope", f"The requested scope exceeds the original grant: {' '.join(wider)}."
                )
            scopes = asked
        record["used_at"] = self.clock.now()
        self.store.refresh_tokens.save(refresh_token)
        return self.issue_pair(client_id, record["user_id"], scopes, family=record["family"])

    def revoke_family(self, family: str, *, reason: str) -> int:
        count = 0
        for record in self.store.refresh_tokens:
            if record["family"] == family and not record["revoked"]:
                record["revoked"] = True
                record["revoked_reason"] = reason
                self.store.refresh_tokens.save(record["token"])
                count += 1
        for record in self.store.access_tokens:
            if record["family"] == family and not record["revoked"]:
                record["revoked"] = True
                self.store.access_tokens.save(record["jti"])
                count += 1
        return count


def _new_key() -> tuple[rsa.RSAPrivateKey, str]:
    """A fresh key and its PEM, without parsing the PEM back (that costs a third of start-up)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, pem


def _stored_key(store: Store) -> str | None:
    record = store.meta.get("signing_key")
    return record["pem"] if record else None
