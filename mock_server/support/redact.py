"""Redaction of everything that leaves the mock as a file (HAR transcripts, bundles).

Two jobs, both applied to every string of an export:

* **secrets are removed**: the values the mock knows (client secret, webhook secret, URL-signing
  secret and S3 access key, every refresh token, authorization and device code still in the store)
  and the shapes it issues even when no longer stored (RS256 JWT access tokens, league's
  ``def50200…`` ciphertexts, ``whsec_`` secrets, ``v1,<base64>`` signatures, ``X-Amz-Signature`` /
  ``X-Amz-Credential`` query values), plus whatever sits under a secret-named JSON key, form field,
  query parameter or header (``Authorization``, ``webhook-signature``...), whatever its value;
* **patients are pseudonymised**: each patient's first and last name, date of birth and external
  id become ``Given-N``, ``Family-N``, a made-up date and ``EXT-N``, the same N for the same patient
  everywhere in the export (whole-word replacement, so a name inside a JSON body string, a title or
  a PDF file name changes too; capitals and accent-less spellings included).

A :class:`Redactor` with nothing to do (``enabled=False``) returns its input unchanged.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mock_server.core.context import MockContext

MASK = "[redacted]"
SECRET_KEYS = frozenset(
    {
        "access_token", "refresh_token", "id_token", "client_secret", "webhook_secret", "secret", "code",
        "device_code", "user_code", "password", "token", "authorization", "signature",
        "x-amz-signature", "x-amz-credential", "x-amz-security-token", "webhook-signature", "cookie",
        "set-cookie", "proxy-authorization", "x-api-key",
    }
)
"""Names (JSON keys, form fields, query parameters, headers; any case) whose values are always masked."""
SECRET_SHAPES = re.compile(
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT (the access tokens)
    r"|def50200[0-9a-f]{16,}"  # league ciphertexts: refresh tokens, authorization codes
    r"|whsec_[A-Za-z0-9+/=_-]{8,}"  # Standard Webhooks secrets
    r"|v1[,=][A-Za-z0-9+/]{20,}={0,2}"  # webhook signatures
    r"|AKIA[A-Z0-9]{16}"  # the S3 access key id
    r"|(?<=X-Amz-Signature=)[0-9a-f]{16,}"
)
PSEUDONYM_FIELDS = ("firstName", "lastName", "dateOfBirth", "externalId")


@dataclass
class Redactor:
    """Masks ``secrets`` and replaces each key of ``pseudonyms`` by its value, in any JSON-like data."""

    secrets: set[str] = field(default_factory=set)
    pseudonyms: dict[str, str] = field(default_factory=dict)
    enabled: bool = True

    def __post_init__(self) -> None:
        known = sorted((s for s in self.secrets if len(s) >= 6), key=len, reverse=True)
        self._known = re.compile("|".join(re.escape(s) for s in known)) if known else None
        names = sorted((n for n in self.pseudonyms if n), key=len, reverse=True)
        self._names = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b") if names else None

    def text(self, value: str) -> str:
        """One string: embedded JSON and form bodies are redacted by key too, then by value and shape."""
        if not self.enabled or not value:
            return value
        return self._plain(self._structured(value))

    def _plain(self, value: str) -> str:
        """Known secret values and secret shapes masked, patients' names replaced."""
        if self._known is not None:
            value = self._known.sub(MASK, value)
        value = SECRET_SHAPES.sub(MASK, value)
        if self._names is not None:
            value = self._names.sub(lambda m: self.pseudonyms[m.group(0)], value)
        return value

    def tree(self, data: Any) -> Any:
        """Dicts, lists and strings all the way down; secret-named keys are masked whatever they hold."""
        if not self.enabled:
            return data
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, list):
            return [self.tree(item) for item in data]
        if isinstance(data, dict):
            return {
                key: (MASK if _secret_name(key) and data[key] not in (None, "") else self.tree(data[key]))
                for key in data
            }
        return data

    def header(self, name: str, value: str) -> str:
        """A header value: secret-named headers keep only their scheme (``Bearer [redacted]``)."""
        if not self.enabled:
            return value
        if _secret_name(name):
            scheme, _, rest = value.partition(" ")
            return f"{scheme} {MASK}" if rest and name.lower() in ("authorization", "proxy-authorization") else MASK
        if name.lower() == "location":
            return self.url(value)
        return self.text(value)

    def url(self, value: str) -> str:
        """A URL whose secret-named query parameters (``code``, ``X-Amz-Signature``...) are masked."""
        if not self.enabled:
            return value
        parts = urlsplit(value)
        if parts.query:
            pairs = [(k, MASK if _secret_name(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
            value = urlunsplit(parts._replace(query=urlencode(pairs)))  # the mask percent-encoded: a valid URI
        return self._plain(value)

    def pairs(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Query or form parameters as (name, value) pairs."""
        return [(k, MASK if self.enabled and _secret_name(k) else self.text(v)) for k, v in pairs]

    def _structured(self, value: str) -> str:
        stripped = value.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                parsed = json.loads(value)
            except ValueError:
                return value
            masked = _mask_keys(parsed)
            # Only a body that had a secret-named key is re-written (compactly); the rest stays as sent.
            return value if masked == parsed else json.dumps(masked, ensure_ascii=False, separators=(",", ":"))
        if "=" in value and " " not in value and "\n" not in value and len(value) < 100_000:
            pairs = parse_qsl(value, keep_blank_values=True)
            if pairs and any(_secret_name(k) for k, _ in pairs):
                return urlencode(self.pairs(pairs), safe="[]")
        return value


def _secret_name(name: str) -> bool:
    return name.lower() in SECRET_KEYS


def _mask_keys(data: Any) -> Any:
    if isinstance(data, list):
        return [_mask_keys(item) for item in data]
    if isinstance(data, dict):
        return {k: MASK if _secret_name(k) and v not in (None, "") else _mask_keys(v) for k, v in data.items()}
    return data


def known_secrets(ctx: MockContext) -> set[str]:
    """Every secret value the mock holds right now (tokens issued and still stored, codes, keys)."""
    values = {ctx.client_secret, ctx.url_signing_secret, ctx.s3_access_key_id, ctx.webhook_secret or ""}
    store = ctx.store
    for table in (store.refresh_tokens, store.auth_codes):
        values.update(str(record.get(k) or "") for record in table for k in ("token", "code"))
    for record in store.device_codes:
        values.update(str(record.get(k) or "") for k in ("device_code", "user_code"))
    return {v for v in values if v}


def patient_pseudonyms(patients: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Real value -> pseudonym for every patient, numbered in store order (stable for one seed)."""
    mapping: dict[str, str] = {}
    for number, patient in enumerate(patients, start=1):
        fake = {
            "firstName": f"Given-{number}",
            "lastName": f"Family-{number}",
            "dateOfBirth": f"1900-01-{(number - 1) % 28 + 1:02d}",
            "externalId": f"EXT-{number}",
        }
        for name in PSEUDONYM_FIELDS:
            real = patient.get(name)
            if not isinstance(real, str) or len(real) < 2:
                continue
            # Titles and PDF file names spell names in capitals and without accents ("LECONTE-Aime").
            for spelled, pseudonym in ((real, fake[name]), (real.upper(), fake[name].upper())):
                for variant in {spelled, _ascii(spelled)}:
                    mapping.setdefault(variant, pseudonym)
    return mapping


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def redactor_for(ctx: MockContext, *, enabled: bool = True) -> Redactor:
    """The redactor of an export of this mock's records."""
    if not enabled:
        return Redactor(enabled=False)
    return Redactor(known_secrets(ctx), patient_pseudonyms(ctx.store.patients))
