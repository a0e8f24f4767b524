"""The ``askara-mock`` command: ``serve`` (:mod:`.main`) and the control-API clients (:mod:`.client`).

``httpx`` imports its own command-line client (``httpx._main``: rich, pygments, click) whenever
those are installed, as they are here: ~50 ms of every client command for code we never run.
Marking that module absent before anything imports httpx makes httpx fall back to the stub it
defines for a missing ``httpx[cli]``; only ``httpx.main`` (the ``httpx`` command) is affected.
"""

from __future__ import annotations

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from mock_server.cli.main import main  # noqa: E402

__all__ = ["main"]
