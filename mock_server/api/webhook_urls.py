"""What a registered webhook URL deserves a warning for (accepted, but Askara may not take it).

Askara's guides ask for an HTTPS endpoint. The mock also takes plain ``http://`` so that a receiver
on the developer's machine can be registered; a plain-http URL on any other host is accepted too
(the mock cannot tell a test host from a production one) but flagged: in the ``X-Askara-Mock-Warning``
header of the answer that stored it, on the webhook record of ``GET /_mock/webhooks``, on the web
page and in the conformance report.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

WARNING_HEADER = "X-Askara-Mock-Warning"
NOT_HTTPS = (
    "plain-http: the URL is http:// on a host that is not loopback; Askara's guides ask for an HTTPS endpoint "
    "and the real platform may refuse it or deliver nothing"
)


def is_loopback(host: str) -> bool:
    """``localhost`` (and ``*.localhost``, RFC 6761) or a loopback address, IPv4-mapped included."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def url_warnings(url: str) -> list[str]:
    """The warnings a webhook URL deserves; empty for https and for loopback http."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    if parts.scheme.lower() == "https" or is_loopback(parts.hostname or ""):
        return []
    return [NOT_HTTPS]


def warning_headers(url: str) -> dict[str, str]:
    """The ``X-Askara-Mock-Warning`` header for an answer that stored ``url`` (none when it is fine)."""
    warnings = url_warnings(url)
    return {WARNING_HEADER: "; ".join(warnings)} if warnings else {}
