"""Content negotiation as API Platform does it: which media type an ``Accept`` header asks for, if any.

The API answers ``application/json`` (a plain body) or ``application/ld+json`` (JSON-LD / Hydra);
errors are ``application/problem+json``. ``*/*``, ``application/*`` and those three types are
acceptable; an ``Accept`` that admits none of them (``text/html``, ``application/xml``) is a 406
naming the supported types, as API Platform's format listener answers. ``q`` values count: a type
with ``q=0`` is refused, and the highest ``q`` wins; on a tie JSON wins unless ld+json was named.
"""

from __future__ import annotations

from functools import lru_cache

JSON = "application/json"
JSONLD = "application/ld+json"
PROBLEM = "application/problem+json"
SUPPORTED = (JSONLD, JSON, PROBLEM)
"""What an ``Accept`` header may ask for (problem+json: a client that only reads errors still gets JSON)."""


@lru_cache(maxsize=512)
def negotiate(accept: str) -> str | None:
    """``application/json`` or ``application/ld+json`` for this ``Accept`` value; None when it admits neither.

    A missing or blank header is JSON. Media types are compared case-insensitively, parameters other
    than ``q`` are ignored, an unparsable ``q`` counts as 1 (Symfony's ``AcceptHeaderItem`` does).
    """
    if not accept.strip():
        return JSON
    best: dict[str, tuple[float, int]] = {}
    """type -> (q, specificity of the range that gave it: 2 exact, 1 type/*, 0 */*)."""
    for item in accept.split(","):
        media, q = _item(item)
        if not media:
            continue
        kind, _, sub = media.partition("/")
        for supported in SUPPORTED:
            s_kind, _, s_sub = supported.partition("/")
            if media == supported:
                specificity = 2
            elif kind == s_kind and sub == "*":
                specificity = 1
            elif media == "*/*":
                specificity = 0
            else:
                continue
            if supported not in best or specificity > best[supported][1]:
                best[supported] = (q, specificity)
    acceptable = {media: q for media, (q, _) in best.items() if q > 0}
    if not acceptable:
        return None
    json_q = max(acceptable.get(JSON, 0.0), acceptable.get(PROBLEM, 0.0))
    ld_q = acceptable.get(JSONLD, 0.0)
    if ld_q > json_q or (ld_q == json_q and best.get(JSONLD, (0.0, 0))[1] == 2):
        return JSONLD
    return JSON


def _item(item: str) -> tuple[str, float]:
    media, *params = (part.strip() for part in item.split(";"))
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                q = 1.0
    return media.lower(), q


def not_acceptable_detail(accept: str) -> str:
    supported = '", "'.join(SUPPORTED)
    return f'Requested format "{accept[:200]}" is not supported. Supported MIME types are "{supported}".'
