"""The mock a run talks to: one the harness starts in a thread (HTTP, or HTTPS with ``--mock-tls``), or one
already running (``--mock-url``, with ``--mock-ca`` when it serves HTTPS with its own CA).

Askara is HTTPS only and many integrations refuse a plain-HTTP base URL, so a run can serve its mock
the way ``askara-mock serve --tls`` does. The integration must then trust the mock's CA: the harness
hands it over in the environment under the names the usual stacks read (``SSL_CERT_FILE`` for
Python's ssl/httpx/OpenSSL, ``REQUESTS_CA_BUNDLE`` for requests, ``CURL_CA_BUNDLE`` for curl,
``NODE_EXTRA_CA_CERTS`` for Node), and as ``ASKARA_CA_FILE`` for code that wires it by hand. The
variables that *replace* a trust store get a bundle of the system's CAs plus the mock's, so the
integration's other HTTPS calls keep working.
"""

from __future__ import annotations

import contextlib
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mock_server.core.settings import Settings
from mock_server.serving import serve_in_thread

REPLACING_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
"""Environment variables whose file replaces the system store: they get the system's CAs plus the mock's."""


@dataclass(frozen=True)
class MockEndpoint:
    url: str
    ca_file: str | None = None
    """The CA the mock's certificate chains to (None: plain HTTP, or a certificate the system trusts)."""
    bundle_file: str | None = None
    """The system's CAs plus ``ca_file``, for the variables that replace a trust store."""

    def trust_env(self) -> dict[str, str]:
        """What the integration's environment needs to trust the mock (nothing over plain HTTP)."""
        if not self.ca_file:
            return {}
        bundle = self.bundle_file or self.ca_file
        return {"ASKARA_CA_FILE": self.ca_file, "NODE_EXTRA_CA_CERTS": self.ca_file,
                **dict.fromkeys(REPLACING_VARIABLES, bundle)}  # fmt: skip


def system_bundle_with(ca_file: str, directory: Path) -> str:
    """A PEM bundle of the system's default CAs (when the platform has a file of them) and ``ca_file``."""
    paths = ssl.get_default_verify_paths()
    system = next((Path(p) for p in (paths.cafile, paths.openssl_cafile) if p and Path(p).is_file()), None)
    target = directory / "ca-bundle.pem"
    parts = [system.read_text(encoding="utf-8")] if system else []
    target.write_text("\n".join([*parts, Path(ca_file).read_text(encoding="utf-8")]), encoding="utf-8")
    return str(target)


@contextlib.contextmanager
def started_mock(
    settings: Settings, *, url: str | None, ca_file: str | None, pick_port: bool
) -> Iterator[MockEndpoint]:
    """``url``'s mock when given (trusting ``ca_file``), else ``settings`` served in a thread until the block ends."""
    with contextlib.ExitStack() as stack:
        if url:
            running_url, ca = url, ca_file
        else:
            running = stack.enter_context(serve_in_thread(settings, pick_port=pick_port))
            running_url, ca = running.url, running.ca_file
        if not ca:
            yield MockEndpoint(running_url)
            return
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="askara-harness-ca-")))
        yield MockEndpoint(running_url, ca, system_bundle_with(ca, directory))
