"""A snapshot file written all or nothing, and read back: shared by ``snapshot save|load`` and ``serve``.

:func:`write_atomically` is also what ``serve --save-on-exit`` writes with: a temporary file in
the same folder, then renamed over the target, so a failed save leaves the previous file whole.
Apart from :mod:`.snapshot` (the commands) so that ``serve`` does not import the control-API
client, and httpx with it (~35 ms at start).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click


def write_atomically(path: str | Path, data: bytes) -> None:
    """``data`` in ``path``, all or nothing: written beside it, flushed to disk, then renamed over it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_snapshot_file(path: str | Path) -> Any:
    """The JSON in ``path``, or a usage error saying why it is not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.UsageError(f"{path}: not a snapshot file ({exc})") from None
