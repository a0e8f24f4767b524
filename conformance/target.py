"""The integration under test as a process: start it with the contract's environment, wait until
it listens, stop it for good (its whole process group), keep the tail of what it printed."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TAIL_BYTES = 8192


class TargetError(Exception):
    """The integration could not be started or never listened."""


def target_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"--target-url must be an http(s) URL, got {url!r}")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def is_listening(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def refuse_if_taken(url: str, wait: float = 0.0) -> None:
    """Before starting the integration: something already answering on its port (an earlier run or a
    dev server left running) would be judged in its place, every verdict about the wrong program.
    ``wait``: seconds to let a stopped one's port close first (a restart: children of the command
    may still be finishing their SIGTERM)."""
    host, port = target_address(url)
    deadline = time.monotonic() + wait
    while is_listening(host, port):
        if time.monotonic() >= deadline:
            raise TargetError(
                f"something already listens on {host}:{port} before the integration was started: the harness "
                "would judge that program instead of --start's. Stop it (an earlier run or a dev server left "
                "running?), or leave out --start to test what is running there."
            )
        time.sleep(0.05)


@dataclass
class TargetProcess:
    """A started integration; ``stop()`` is safe to call more than once."""

    command: str
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = None
    log_file: tempfile._TemporaryFileWrapper[bytes] | None = None
    exit_code: int | None = None
    events: list[str] = field(default_factory=list)

    def start(self) -> None:
        """Start the command; a restarted one appends to the same log, so the tail spans both lives."""
        if self.log_file is None:
            self.log_file = tempfile.NamedTemporaryFile(prefix="askara-target-", suffix=".log", delete=False)  # noqa: SIM115
        environment = {**os.environ, **self.env}
        with open(self.log_file.name, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the user's own command, by design
                shlex.split(self.command),
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_listening(self, url: str, timeout: float) -> None:
        host, port = target_address(url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise TargetError(
                    f"the integration exited with code {self.process.returncode} before listening on "
                    f"{host}:{port}. Its output ends with:\n{self.output_tail()}"
                )
            if is_listening(host, port):
                return
            time.sleep(0.05)
        raise TargetError(f"the integration did not listen on {host}:{port} within {timeout:g} s")

    def stop(self, grace: float = 3.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=5)
        else:
            self._signal(signal.SIGKILL)  # children it left behind in its group
        self.exit_code = self.process.returncode

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def output_tail(self) -> str:
        if self.log_file is None:
            return ""
        try:
            with open(self.log_file.name, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - TAIL_BYTES))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def cleanup(self) -> None:
        if self.log_file is not None:
            try:
                os.unlink(self.log_file.name)
            except OSError:
                pass
