"""Run a mock under uvicorn, in the foreground (CLI) or in a background thread (tests, harness).

One uvicorn server listens on two sockets: the API (``port``) and the files origin
(``files_port``), so both share one app, one lifespan and one :class:`MockContext`; the app
tells them apart by the local port of each connection (:mod:`mock_server.web.origins`).
Both sockets get the same connection limits (:mod:`mock_server.web.connections`) and, with
``settings.tls``, the same certificate (:func:`tls_files`).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.core.settings import WILDCARD_HOSTS, Settings
from mock_server.core.tls import TlsFiles, issue
from mock_server.files.answers import quiet_purposeful_cuts
from mock_server.web.connections import GuardedHttpProtocol, HeadLimits

GC_THRESHOLDS = (1_000, 10, 100)
"""(young, middle, old) for :func:`tune_gc`; chosen by measuring pauses while paging 100 000 documents."""


def tune_gc() -> None:
    """Garbage collection for a long-running mock (called by ``askara-mock serve``, not by tests).

    The mock keeps many long-lived records (store, seed, delivery log, journal). Freezing what
    exists once seeded takes them out of every collection. The generations left are kept small:
    a young collection costs more per object the larger it is (each reference into the frozen heap
    is a cache miss), so 20 000 young objects paused the server 44-96 ms (median, loaded machine)
    where 1 000 pause it ~1 ms; the middle generation then holds ~10 000 objects (~9 ms); and a
    full collection of what is not frozen (110-180 ms once the memos fill) waits for 100 middle
    ones. Measured by bench/bench_gc.py (bench/README.md "Big state"); memory stays bounded by
    the store's limits. No ``gc.collect()`` before freezing: after ``create_app`` it finds next to
    nothing (0-5 objects, with the default seed and with 100 000 documents) and cost 7-78 ms of start-up;
    garbage there were would only stay in memory, never pause anything.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket (port 0: a free one, read back with ``getsockname``); uvicorn listens on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: accepted sockets inherit it, and asyncio sets TCP_NODELAY only on sockets that
    # name it. Without it, a response written as head then body waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind_sockets(settings: Settings) -> tuple[Settings, list[socket.socket]]:
    """The API and files sockets; a port of 0 is picked by the system and written back into the settings."""
    api = bind_socket(settings.host, settings.port)
    try:
        files = bind_socket(settings.host, int(settings.files_port or 0))
    except OSError:
        api.close()
        raise
    ports = {"port": int(api.getsockname()[1]), "files_port": int(files.getsockname()[1])}
    return settings.replace(**ports), [api, files]


def tls_files(settings: Settings, stack: ExitStack) -> TlsFiles | None:
    """The certificate both origins serve: the user's (``tls_cert``), or one the mock issues for every
    name it is reached by, under ``tls_dir`` (its CA reused) or a temporary directory ``stack`` removes."""
    if not settings.tls:
        return None
    if settings.tls_cert and settings.tls_key:
        return TlsFiles(settings.tls_cert, settings.tls_key, None)
    directory = settings.tls_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="askara-mock-tls-"))
    hosts = ["localhost", "127.0.0.1", "::1", settings.advertised_host]
    if settings.host not in WILDCARD_HOSTS:
        hosts.append(settings.host)
    hosts += [urlsplit(url).hostname or "" for url in (settings.public_url, settings.files_public_url) if url]
    return issue(Path(directory), hosts)


def uvicorn_config(
    app: Starlette, settings: Settings, tls: TlsFiles | None = None, **overrides: object
) -> uvicorn.Config:
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": settings.access_log,
        "log_level": "info" if settings.access_log else "warning",
        "lifespan": "on",
        "timeout_graceful_shutdown": 2,
        "http": GuardedHttpProtocol.with_limits(HeadLimits.of(settings)),
        "timeout_keep_alive": settings.keep_alive_timeout,
        # uvicorn counts the asking connection among the open ones: +1 lets max_connections be served.
        "limit_concurrency": settings.max_connections + 1,
    }
    if tls is not None:
        options.update(ssl_certfile=tls.cert, ssl_keyfile=tls.key)
    options.update(overrides)
    config = uvicorn.Config(app, **options)  # type: ignore[arg-type]
    quiet_purposeful_cuts()  # after Config: it (re)configures uvicorn's loggers
    return config


@dataclass
class RunningMock:
    """A mock served on loopback by a thread of this process."""

    app: Starlette
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread
    tls: TlsFiles | None = None

    @property
    def url(self) -> str:
        return f"{self.settings.scheme}://{self.settings.advertised_host}:{self.settings.port}"

    @property
    def files_url(self) -> str:
        """Where the files origin listens (pre-signed PDF links point to ``settings.files_base_url``)."""
        return f"{self.settings.scheme}://{self.settings.advertised_host}:{self.settings.files_port}"

    @property
    def ca_file(self) -> str | None:
        """The CA a client must trust to reach a ``tls`` mock serving the certificate it issued."""
        return self.tls.ca if self.tls else None

    @property
    def context(self):
        return self.app.state.mock

    def call(self, coro_factory):
        """Run a coroutine on the server's event loop (e.g. ``timers.settle``) and wait for it."""
        loop = self.server_loop
        return asyncio.run_coroutine_threadsafe(coro_factory(), loop).result(timeout=30)

    server_loop: asyncio.AbstractEventLoop | None = None


@contextmanager
def serve_in_thread(settings: Settings | None = None, **config: object) -> Iterator[RunningMock]:
    """Start ``create_app(settings)`` under uvicorn, API and files origin on free ports; stop it on exit.

    ``pick_port=False`` keeps the settings' ports (a port of 0 is still picked). The sockets are
    bound before the app is built, so the links it signs name the port really listened on.
    """
    settings = settings or Settings()
    pick_port = bool(config.pop("pick_port", True))
    if pick_port:
        settings = settings.replace(port=0, files_port=0)
    with ExitStack() as stack:
        yield from _serve(settings, stack, config)


def _serve(settings: Settings, stack: ExitStack, config: dict[str, object]) -> Iterator[RunningMock]:
    settings, sockets = bind_sockets(settings)
    try:
        tls = tls_files(settings, stack)
        app = create_app(settings)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    server = uvicorn.Server(uvicorn_config(app, settings, tls, **config))
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
    running = RunningMock(app, settings, server, threading.Thread(), tls)
    started = threading.Event()

    def run() -> None:
        factory = server.config.get_loop_factory()  # the loop `serve` runs on (uvloop where installed)
        loop = factory() if factory is not None else asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        running.server_loop = loop

        async def main() -> None:
            serve_task = asyncio.ensure_future(server.serve(sockets=sockets))
            while not server.started and not serve_task.done():
                await asyncio.sleep(0.005)
            started.set()
            await serve_task

        try:
            loop.run_until_complete(main())
        finally:
            started.set()
            loop.close()

    running.thread = threading.Thread(target=run, name=f"askara-mock-{settings.port}", daemon=True)
    running.thread.start()
    started.wait(timeout=30)
    if not server.started:
        for sock in sockets:
            sock.close()
        raise RuntimeError(
            f"askara-mock did not start on {settings.host}:{settings.port} (files {settings.files_port})"
        )
    try:
        yield running
    finally:
        server.should_exit = True
        running.thread.join(timeout=10)
        for sock in sockets:
            sock.close()
