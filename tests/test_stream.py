"""The change feed and GET /_mock/stream: the web page's live updates, and a stop they never hold."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx

from mock_server.core.changes import Changes
from mock_server.serving import serve_in_thread
from tests.conftest import make_settings


def test_a_wait_returns_on_a_bump_on_close_and_at_its_timeout() -> None:
    async def scenario() -> None:
        changes = Changes()
        waiting = asyncio.ensure_future(changes.wait(changes.version))
        await asyncio.sleep(0)
        assert not waiting.done()
        changes.bump("documents")
        assert await waiting == 1
        changes.bump("meta")  # the mock's bookkeeping is no change to a reader
        assert changes.version == 1
        assert await changes.wait(1, timeout=0.01) == 1
        closing = asyncio.ensure_future(changes.wait(1))
        await asyncio.sleep(0)
        changes.close()
        assert await closing == 1 and await changes.wait(1) == 1
        changes.reopen()  # the app served again
        assert await changes.wait(1, timeout=0.01) == 1 and not changes.closed

    asyncio.run(scenario())


def _lines(lines: Iterator[str], until: str, deadline: float) -> list[str]:
    seen: list[str] = []
    for line in lines:
        seen.append(line)
        if until in line or time.monotonic() > deadline:
            break
    return seen


def test_the_stream_says_hello_then_each_change() -> None:
    with serve_in_thread(make_settings()) as mock, httpx.Client(base_url=mock.url, timeout=10) as client:
        with client.stream("GET", "/_mock/stream") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            hello = _lines(lines, "data:", time.monotonic() + 10)
            assert "event: hello" in hello and hello[0].startswith("retry:")
            threading.Thread(target=lambda: httpx.post(mock.url + "/_mock/notes", timeout=10)).start()
            change = _lines(lines, "data:", time.monotonic() + 10)
            assert "event: change" in change


def test_an_open_stream_does_not_hold_the_stop() -> None:
    """uvicorn waits for responses still streaming (2 s here, then it cancels them): the stream ends first."""
    opened = threading.Event()
    ended: list[float] = []
    with serve_in_thread(make_settings()) as mock:

        def follow() -> None:
            with httpx.stream("GET", mock.url + "/_mock/stream", timeout=30) as response:
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        opened.set()
            ended.append(time.monotonic())

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        assert opened.wait(10)
        stopping = time.monotonic()
    took = time.monotonic() - stopping
    reader.join(5)
    assert took < 1.5, f"the stop took {took:.2f} s with a stream open"
    assert ended and ended[0] - stopping < 1.5


def test_the_stream_asks_for_the_control_token_when_one_is_set() -> None:
    token = "a-control-token-for-the-stream"
    with serve_in_thread(make_settings(control_token=token)) as mock, httpx.Client(base_url=mock.url) as client:
        refused = client.get("/_mock/stream")
        assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
        with client.stream("GET", "/_mock/stream", headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status_code == 200
            assert "event: hello" in _lines(response.iter_lines(), "data:", time.monotonic() + 10)
