"""The ``askara-mock`` command: ``serve`` (:mod:`.main`) and the control-API clients (:mod:`.client`)."""

from __future__ import annotations

from mock_server.cli.main import main

__all__ = ["main"]
