"""Access and refresh tokens: issuing, verifying, rotating, revoking, as league/oauth2-server does.

Askara's ``def502…`` refresh tokens and RS256 JWTs are league/oauth2-server's, so the mock keeps
league's shapes and rules where Askara's guides are silent:

- Access tokens are RS256 JWTs with header ``{"alg":"RS256","typ":"JWT"}`` (no ``kid``) and league's claims
  only: ``aud`` (client id), ``jti`` (80 hex), ``iat``, ``nbf``, ``exp`` (decimal seconds with microseconds,
  as lcobucci/jwt writes them), ``sub`` (user), ``scopes`` (array). Expiry and revocation are judged on
  the mock clock, not by PyJWT.
- Refresh tokens and authorization codes look like league's defuse ciphertexts: ``def50200`` and as many
  hex characters as league's encrypted JSON payload would take (800-odd, so a ``VARCHAR(255)`` truncates
  them). Their content is random; the mock looks them up server-side.
- A refresh spends the refresh token **and revokes the access token issued with it** (league's
  ``RefreshTokenGrant``). Refresh tokens belong to a *family* (the chain born from one consent): presenting
  a spent one revokes the family (Askara's documented theft signal) or, with ``refresh_reuse="invalid-grant"``,
  is only refused, as league does.

PyJWT and cryptography are imported, and a fresh key generated, when first needed (~90 ms of start-up).
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_server.core.clock import Clock
from mock_server.core.errors import ConfigError, OAuthError, Unauthorized
from mock_server.core.settings import Settings
from mock_server.core.store import Store
from mock_server.core.token_refusals import RefreshRefused, TokenRefused, revoked_refusal

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

KNOWN_SCOPES = ("profile", "organization", "read:documents", "write:document_integrations", "read:notes")
LEAGUE_PREFIX = "def50200"
"""The defuse/php-encryption version header league's encrypted tokens start with."""
_DEFUSE_OVERHEAD = 32 + 16 + 32
"""Salt, IV and HMAC bytes a defuse ciphertext adds to its plaintext (after the 4-byte header)."""
_TRUNCATION_MIN = 16
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


def league_identifier() -> str:
    """league's ``generateUniqueIdentifier()``: 40 random bytes as 80 hex characters."""
    return secrets.token_hex(40)


def league_ciphertext(payload: dict[str, Any]) -> str:
    """A string shaped like league's encryption of ``payload``: its prefix and length, random content.

    league encrypts the JSON payload with defuse/php-encryption and hex-encodes it: a 4-byte
    header (``def50200``), a 32-byte salt, a 16-byte IV, the ciphertext (as long as the JSON) and
    a 32-byte HMAC. The JSON is counted as PHP's ``json_encode`` writes it (``/`` escaped).
    """
    plain = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")
    return LEAGUE_PREFIX + secrets.token_hex(_DEFUSE_OVERHEAD + len(plain.encode()))


def numeric_date(moment: float) -> float:
    """A JWT date as lcobucci/jwt writes league's: decimal seconds with microseconds."""
    return round(moment, 6)


class TokenService:
    """Issues and checks every token of one mock."""

    def __init__(self, settings: Settings, clock: Clock, store: Store) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self._verified: dict[str, AccessToken] = {}
        self._key: tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey, str] | None = None
        """(private key, public key, key id); when none is given, generated on first use (~50 ms)."""
        self._key_lock = threading.Lock()
        given = settings.signing_key_pem or _stored_key(store)
        if given:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            # Our own stored key was checked when made: skip the slow RSA consistency check for it.
            loaded = serialization.load_pem_private_key(
                given.encode(), password=None, unsafe_skip_rsa_key_validation=not settings.signing_key_pem
            )
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ConfigError("signing_key_pem must be an RSA private key (access tokens are RS256)")
            self._adopt(loaded, given)

    def _adopt(self, key: rsa.RSAPrivateKey, pem: str) -> None:
        if self.settings.state_path and not self.settings.signing_key_pem:
            self.store.meta.put("signing_key", {"pem": pem})
        self._key = (key, key.public_key(), uuid.uuid5(uuid.NAMESPACE_URL, pem).hex[:16])

    def _signing(self) -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey, str]:
        if self._key is None:
            with self._key_lock:  # a test thread and the server's loop may both ask first
                if self._key is None:
                    self._adopt(*_new_key())
        assert self._key is not None
        return self._key

    @property
    def key_id(self) -> str:
        """Only in the JWKS (the mock's own assumption): league's tokens carry no ``kid``."""
        return self._signing()[2]

    # -- access tokens -------------------------------------------------------------------------

    def public_jwk(self) -> dict[str, Any]:
        import jwt

        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(self._signing()[1], as_dict=True)
        jwk.update({"kid": self.key_id, "use": "sig", "alg": "RS256"})
        return jwk

    def _mint_access(self, client_id: str, user_id: str, scopes: list[str], family: str) -> tuple[str, str]:
        """A signed access token and its ``jti``, recorded so it can be revoked."""
        now = self.clock.now()
        jti = league_identifier()
        claims = {
            "aud": client_id,
            "jti": jti,
            "iat": numeric_date(now),
            "nbf": numeric_date(now),
            "exp": numeric_date(now + self.settings.access_token_ttl),
            "sub": user_id,
            "scopes": scopes,
        }
        import jwt

        token = jwt.encode(claims, self._signing()[0], algorithm="RS256")
        self.store.access_tokens.put(
            jti,
            {
                "jti": jti,
                "client_id": client_id,
                "user_id": user_id,
                "family": family,
                "issued_at": now,
                "revoked": False,
            },
        )
        return token, jti

    def verify_access(self, token: str) -> AccessToken:
        """The grant behind a bearer token, or :class:`TokenRefused` saying why not."""
        info = self._verified.get(token)
        if info is None:
            info = self._decode(token)
            if len(self._verified) >= _VERIFY_CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = info
        record = self.store.access_tokens.get(info.jti)
        if record is None:
            raise TokenRefused(
                "The access token is not known to this mock (it was reset or restarted since); get a new one.",
                outcome="unknown",
                jti=info.jti,
            )
        if record["revoked"]:
            raise revoked_refusal(record)
        if self.clock.now() >= info.expires_at or record.get("expired"):
            raise TokenRefused(
                "The access token has expired; use the refresh token to get a new one.", outcome="expired", jti=info.jti
            )
        return info

    def forget_verified(self) -> None:  # the store's token records were replaced (a snapshot loaded)
        self._verified.clear()

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
        import jwt

        try:
            claims = jwt.decode(
                token,
                self._signing()[1],
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
            jti, client_id, user_id = str(claims["jti"]), str(claims["aud"]), str(claims["sub"])
            issued_at, expires_at = float(claims["iat"]), float(claims["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            raise TokenRefused(f"The access token could not be verified ({exc}).", outcome="invalid") from None
        record = self.store.access_tokens.get(jti)
        family = record["family"] if record else ""
        return AccessToken(
            jti=jti,
            client_id=client_id,
            user_id=user_id,
            scopes=frozenset(claims.get("scopes", [])),
            family=family,
            issued_at=issued_at,
            expires_at=expires_at,
        )

    def expire_all_access_tokens(self) -> float:
        """Fault: every access token issued so far answers 401 'expired' from now on. Marked per token, not
        by issue time: on a manual clock a token refreshed right after the fault would share the cut-off."""
        for record in self.store.access_tokens:
            if not record.get("expired"):
                record["expired"] = True
                self.store.access_tokens.save(record["jti"])
        return self.clock.now()

    def _revoke_access(self, jti: str | None, *, reason: str, replaced_by: str | None = None) -> bool:
        record = self.store.access_tokens.get(jti) if jti else None
        if record is None or record["revoked"]:
            return False
        record.update(revoked=True, revoked_reason=reason, revoked_at=self.clock.now())
        if replaced_by is not None:
            record["replaced_by"] = replaced_by
        self.store.access_tokens.save(record["jti"])
        return True

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
        """A token response as Askara's token endpoint answers it. ``refresh_token`` registers a given string
        instead of a new one: an integration that is already running was configured with it before this mock."""
        family = family or uuid.uuid4().hex
        access, jti = self._mint_access(client_id, user_id, scopes, family)
        now = self.clock.now()
        expires_at = now + self.settings.refresh_token_ttl
        payload = {
            "client_id": client_id,
            "refresh_token_id": league_identifier(),
            "access_token_id": jti,
            "scopes": scopes,
            "user_id": user_id,
            "expire_time": int(expires_at),
        }
        refresh = refresh_token or league_ciphertext(payload)
        self.store.refresh_tokens.put(
            refresh,
            {
                "token": refresh,
                "client_id": client_id,
                "user_id": user_id,
                "scopes": scopes,
                "family": family,
                "access_jti": jti,
                "issued_at": now,
                "expires_at": expires_at,
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

        One of ``rotated``, ``unknown``, ``truncated`` (a prefix of a token the mock issued: the
        integration stored it cut short), ``wrong_client``, ``reused_spent_token``, ``revoked``,
        ``expired``. A spent token stays ``reused_spent_token`` even once its family is revoked,
        so the harness can tell "kept using the old refresh token" from other failures.
        """
        record = self.store.refresh_tokens.get(refresh_token)
        if record is None:
            whole = self.truncated_from(refresh_token)
            return ("truncated", whole) if whole is not None else ("unknown", None)
        if record["client_id"] != client_id:
            return "wrong_client", record
        if record["used_at"] is not None:
            return "reused_spent_token", record
        if record["revoked"]:
            return "revoked", record
        if self.clock.now() >= record["expires_at"]:
            return "expired", record
        return "rotated", record

    def truncated_from(self, presented: str) -> dict[str, Any] | None:
        """The issued refresh token ``presented`` is a cut-short copy of, if any."""
        if len(presented) < _TRUNCATION_MIN:
            return None
        for record in self.store.refresh_tokens:
            token = str(record["token"])
            if len(token) > len(presented) and token.startswith(presented):
                return record
        return None

    def refresh(self, refresh_token: str, client_id: str, scope: str | None) -> dict[str, Any]:
        """Rotate: spend ``refresh_token``, revoke its access token, issue a new pair."""
        outcome, record = self.refresh_outcome(refresh_token, client_id)
        if outcome == "truncated" and record is not None:
            raise RefreshRefused(
                "The refresh token is invalid.",
                hint="Cannot decrypt the refresh token",
                explanation=(
                    f"The refresh token presented is the first {len(refresh_token)} characters of one this mock"
                    f" issued ({len(record['token'])} characters): it was stored cut short (a VARCHAR(255)"
                    " column does that). league's refresh tokens are several hundred characters: store them whole."
                ),
                notes={"refresh_presented_length": len(refresh_token), "refresh_issued_length": len(record["token"])},
            )
        if outcome == "unknown" or record is None:
            raise RefreshRefused("The refresh token is invalid.", hint="Cannot decrypt the refresh token")
        if outcome == "wrong_client":
            raise RefreshRefused(
                "The refresh token was not issued to this client.", hint="Token is not linked to client"
            )
        if outcome == "reused_spent_token":
            raise self._reused(record)
        if outcome == "revoked":
            raise RefreshRefused("The refresh token has been revoked.", hint="Token has been revoked")
        if outcome == "expired":
            raise RefreshRefused("The refresh token has expired.", hint="Token has expired")
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
        pair = self.issue_pair(client_id, record["user_id"], scopes, family=record["family"])
        new_jti = self.store.refresh_tokens.get(pair["refresh_token"])["access_jti"]  # type: ignore[index]
        self._revoke_access(record.get("access_jti"), reason="refreshed", replaced_by=new_jti)
        return pair

    def _reused(self, record: dict[str, Any]) -> RefreshRefused:
        """A spent refresh token presented again: revoke the family (default) or only refuse (league)."""
        if self.settings.refresh_reuse == "invalid-grant":
            return RefreshRefused(
                "The refresh token is invalid.",
                hint="Token has been revoked",
                explanation="This refresh token was already spent by an earlier refresh; it is refused and "
                "nothing else is revoked (refresh_reuse=invalid-grant, league's behaviour).",
                notes={"refresh_reuse": "refused", "revoked_tokens": 0},
            )
        count = self.revoke_family(record["family"], reason="spent refresh token presented again")
        return RefreshRefused(
            "The refresh token has already been used; every token of its family is now revoked.",
            hint="Token has been revoked",
            explanation=f"A spent refresh token was presented again: Askara treats that as theft, so the {count}"
            " tokens of its family still valid are revoked. Keep only the newest refresh token.",
            notes={"refresh_reuse": "family_revoked", "revoked_tokens": count},
        )

    def revoke_family(self, family: str, *, reason: str) -> int:
        count = 0
        for record in self.store.refresh_tokens:
            if record["family"] == family and not record["revoked"]:
                record["revoked"] = True
                record["revoked_reason"] = reason
                self.store.refresh_tokens.save(record["token"])
                count += 1
        for record in self.store.access_tokens:
            if record["family"] == family and self._revoke_access(record["jti"], reason=reason):
                count += 1
        return count


def _new_key() -> tuple[rsa.RSAPrivateKey, str]:
    """A fresh key and its PEM, without parsing the PEM back (that costs a third of start-up)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, pem


def _stored_key(store: Store) -> str | None:
    record = store.meta.get("signing_key")
    return record["pem"] if record else None
