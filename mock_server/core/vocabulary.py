"""Every closed list of names the mock, its CLI and the harness share, defined once.

Event names, fault kinds, clock modes and forgery modes are spelled here and imported
everywhere else, so a kind added in one place cannot be missing from a CLI choice or a check.
"""

from __future__ import annotations

from typing import Final

EVENT_NAMES: Final = ("new_document", "document_synchronize", "new_note")
"""The webhook events Askara documents, in the order its guides introduce them."""
DOCUMENT_EVENTS: Final = ("new_document", "document_synchronize")

CLOCK_MODES: Final = ("real", "scaled", "manual")

API_FAULT_KINDS: Final = ("route", "expire_tokens", "drain_bucket", "download", "expired_link", "release_delays")
"""Faults applied by the API side (:mod:`mock_server.faults.api`)."""
DELIVERY_FAULT_KINDS: Final = ("duplicate", "out_of_order", "concurrent", "forged_signature", "lost_ack", "batch")
"""Faults applied by the webhook sender (:mod:`mock_server.faults.delivery`)."""
PER_EVENT_FAULT_KINDS: Final = ("duplicate", "concurrent", "forged_signature", "lost_ack", "batch")
"""Delivery kinds spent once per event (``out_of_order`` is spent on the event after)."""
FAULT_KINDS: Final = API_FAULT_KINDS + DELIVERY_FAULT_KINDS
IMMEDIATE_FAULT_KINDS: Final = ("expire_tokens", "drain_bucket")
"""Kinds applied when armed and never kept armed (so a snapshot never holds one)."""

FORGE_MODES: Final = ("wrong_secret", "tampered_body", "stale_timestamp", "rotated")
"""How a ``forged_signature`` fault signs wrongly (:mod:`mock_server.sender.signing`)."""

REFRESH_REUSE_MODES: Final = ("revoke-family", "invalid-grant")
"""A spent refresh token presented again: revoke its family (Askara's theft signal) or only refuse it (league)."""

JOURNAL_KINDS: Final = ("api", "download", "oauth", "page")

RETRY_READINGS: Final = ("gaps", "offsets")
"""How "retries after 5 s, 10 s, 20 s" is read: gaps between attempts (+5, +15, +35) or offsets from the first."""
RETRY_COUNTS: Final = ("retries", "attempts")
"""How "(3 retries)" is read: three retries after the first attempt, or three attempts in all."""
