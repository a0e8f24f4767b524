"""How a delivery attempt reaches a receiver: the interface and one module per implementation."""

from __future__ import annotations

from mock_server.sender._transports.base import (
    FAILURES,
    DeliveryFailure,
    DestinationLimiter,
    Outcome,
    Transport,
    attempt,
    url_problem,
)
from mock_server.sender._transports.function import FunctionTransport
from mock_server.sender._transports.http1 import Http1Client

__all__ = [
    "FAILURES",
    "DeliveryFailure",
    "DestinationLimiter",
    "FunctionTransport",
    "Http1Client",
    "Outcome",
    "Transport",
    "attempt",
    "url_problem",
]
