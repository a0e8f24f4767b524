"""askara-mock: a faithful local mock of the Askara API and its webhook sender.

Importing the package imports nothing else: the ``askara-mock`` client commands start in a
fraction of the server's import time. ``mock_server.create_app`` and ``mock_server.Settings``
are still importable from here, loaded on first access (module ``__getattr__``, PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.app import create_app
    from mock_server.core.settings import Settings

__all__ = ["Settings", "create_app"]

_LAZY = {"create_app": "mock_server.app", "Settings": "mock_server.core.settings"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
