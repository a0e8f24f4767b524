"""API benchmark: ``GET /documents`` (20 documents, valid token) from the mock vs a bare Starlette app.

    .venv/bin/python bench/bench_api.py [--seconds 10] [--threads 2] [--connections 50] [--json]
    .venv/bin/python bench/bench_api.py --smoke      # 1 s, 5 connections, Python generator
    .venv/bin/python bench/bench_api.py --profile    # in-process breakdown of the mock's request path

Each server runs in its own process (one uvicorn worker, uvloop, httptools, no access log) so the
load generator never shares a GIL with it. The mock is seeded with ``--documents`` documents and a
rate limit too large to answer 429 during the run; the bench takes a token with the
``read:documents`` scope the way an integration does (``/_mock/credentials`` then the refresh
grant), fetches the body once, and hands the very same bytes to ``bare_app.py``. Load: ``wrk``
when installed (Debian package ``wrk``), else a Python asyncio generator in another process.
Everything stays on 127.0.0.1 and is bounded in time. Always exits 0: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
PATH = "/documents?itemsPerPage=20"
BIG_RATE_LIMIT = 1_000_000_000
WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "errors": %d, "non_2xx": %d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout,
    e.status))
end
"""


# -- servers -----------------------------------------------------------------------------------


def serve_mock(port: int, documents: int, access_log: bool) -> None:
    """Child process: the mock as ``askara-mock serve`` runs it, on uvloop + httptools."""
    import uvicorn

    from mock_server import Settings, create_app
    from mock_server.serving import uvicorn_config

    settings = Settings(port=port, seed_documents=documents, rate_limit_capacity=BIG_RATE_LIMIT, access_log=access_log)
    app = create_app(settings)
    uvicorn.Server(uvicorn_config(app, settings, loop="uvloop", http="httptools")).run()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start(argv: list[str], url: str, deadline: float = 60.0) -> subprocess.Popen[bytes]:
    """Start a server process and wait until ``url`` answers (any status).

    Its stderr goes to an unlinked temporary file, not a pipe: an access log must never block on
    a pipe nobody reads.
    """
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=log)
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{argv[0]} exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            httpx.get(url, timeout=1.0)
            return proc
        except httpx.TransportError:
            time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"{argv[0]} did not answer {url} within {deadline} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def take_token(base: str) -> str:
    """An access token with ``read:documents`` only, through the public refresh grant."""
    creds = httpx.get(f"{base}/_mock/credentials", params={"scope": "read:documents"}).raise_for_status().json()
    answer = httpx.post(
        f"{base}/oauth2/token",
        json={"grant_type": "refresh_token", "refresh_token": creds["refresh_token"],
              "client_id": creds["client_id"], "client_secret": creds["client_secret"]},  # fmt: skip
    ).raise_for_status()
    return str(answer.json()["access_token"])


# -- load generators ---------------------------------------------------------------------------


def run_wrk(url: str, headers: dict[str, str], seconds: float, threads: int, connections: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_LUA)
    try:
        argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                "-s", script.name]  # fmt: skip
        for name, value in headers.items():
            argv += ["-H", f"{name}: {value}"]
        out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    finally:
        os.unlink(script.name)
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": raw["errors"],
        "non_2xx": raw["non_2xx"],
    }


async def _python_load(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> dict:
    """Keep-alive HTTP/1.1 GETs on ``connections`` sockets for ``seconds``; Content-Length bodies only."""
    request = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()  # fmt: skip
    latencies: list[float] = []
    counts = {"errors": 0, "non_2xx": 0}
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                counts["errors"] += 1
                await asyncio.sleep(0.01)
                continue
            try:
                while time.perf_counter() < deadline:
                    sent = time.perf_counter()
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    await reader.readexactly(length)
                    latencies.append(time.perf_counter() - sent)
                    if not head[9:10] == b"2":
                        counts["non_2xx"] += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                counts["errors"] += 1
            finally:
                writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000 if latencies else 0.0

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pct(50), "p99_ms": pct(99),
            "max_ms": pct(100), **counts}  # fmt: skip


def run_python(port: int, headers: dict[str, str], seconds: float, connections: int) -> dict[str, Any]:
    """The Python generator, in its own process (uvloop when installed)."""
    spec = json.dumps({"port": port, "headers": headers, "seconds": seconds, "connections": connections})
    out = subprocess.run([sys.executable, __file__, "--load-python", spec], capture_output=True, text=True,
                         timeout=seconds + 30)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"the Python load generator failed:\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def python_load_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_python_load(spec["port"], PATH, spec["headers"], spec["seconds"],
                                              spec["connections"]))))  # fmt: skip


# -- the benchmark -----------------------------------------------------------------------------


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk") is not None)
    generator = "wrk" if use_wrk else "python"
    mock_port, bare_port = free_port(), free_port()
    mock_url, bare_url = f"http://{HOST}:{mock_port}", f"http://{HOST}:{bare_port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        mock_argv = [__file__, "--serve-mock", str(mock_port), "--documents", str(args.documents)]
        procs.append(start(mock_argv + ["--access-log"] * args.access_log, f"{mock_url}/_mock/clock"))
        token = take_token(mock_url)
        auth = {"Authorization": f"Bearer {token}"}
        first = httpx.get(mock_url + PATH, headers=auth).raise_for_status()
        served = len(first.json())
        with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as body_file:
            body_file.write(first.content)
        try:
            procs.append(start([str(HERE / "bare_app.py"), "--port", str(bare_port), "--body", body_file.name],
                               f"{bare_url}/documents"))  # fmt: skip
            same = httpx.get(bare_url + PATH).content == first.content
        finally:
            os.unlink(body_file.name)

        def load(server: str, seconds: float) -> dict[str, Any]:
            port, headers = (mock_port, auth) if server == "mock" else (bare_port, {})
            if use_wrk:
                url = (mock_url if server == "mock" else bare_url) + PATH
                return run_wrk(url, headers, seconds, args.threads, args.connections)
            return run_python(port, headers, seconds, args.connections)

        results: dict[str, Any] = {}
        for server in ("bare", "mock"):
            if args.warmup > 0:
                load(server, args.warmup)
            results[server] = load(server, args.seconds)
    finally:
        for proc in procs:
            stop(proc)
    bare, mock = results["bare"], results["mock"]
    return {
        "generator": generator,
        "threads": args.threads if use_wrk else 1,
        "connections": args.connections,
        "seconds": args.seconds,
        "documents": served,
        "mock_access_log": args.access_log,
        "body_bytes": len(first.content),
        "bare_body_identical": same,
        "results": results,
        "ratio_rps": mock["rps"] / bare["rps"] if bare["rps"] else 0.0,
        "goal_met": bool(bare["rps"]) and mock["rps"] / bare["rps"] >= 0.5 and mock["p99_ms"] <= 8.0,
    }


def print_table(report: dict[str, Any]) -> None:
    gen = report["generator"]
    print(f"load generator: {gen}" + (f" ({report['threads']} threads)" if gen == "wrk" else " (asyncio, 1 process)")
          + f", {report['connections']} connections, {report['seconds']:g} s per server; "
          f"GET {PATH}: {report['documents']} documents, {report['body_bytes']} bytes"
          + (", mock with uvicorn's access log" if report["mock_access_log"] else ""))  # fmt: skip
    print(f"{'server':<8}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'non-2xx':>9}{'errors':>8}")
    for name in ("bare", "mock"):
        r = report["results"][name]
        print(f"{name:<8}{r['rps']:>12.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['max_ms']:>9.1f}"
              f"{r['non_2xx']:>9}{r['errors']:>8}")  # fmt: skip
    print(f"ratio mock/bare: {report['ratio_rps']:.2f}  (goal: >= 0.50 with mock p99 <= 8 ms: "
          f"{'met' if report['goal_met'] else 'not met'})")  # fmt: skip
    if not report["bare_body_identical"]:
        print("note: the bare app's body differs from the mock's (see bare_app.py's warning)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Measured seconds per server.")
    parser.add_argument("--warmup", type=float, default=2.0, help="Unmeasured seconds per server first.")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--documents", type=int, default=20, help="Documents seeded in the mock (and served).")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    parser.add_argument("--access-log", action="store_true", help="Run the mock with uvicorn's access log on.")
    parser.add_argument("--smoke", action="store_true", help="1 s, 5 connections, Python generator, no warm-up.")
    parser.add_argument("--profile", action="store_true", help="In-process breakdown of the mock's request path.")
    parser.add_argument("--serve-mock", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--load-python", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_mock:
        serve_mock(args.serve_mock, args.documents, args.access_log)
        return 0
    if args.load_python:
        python_load_main(args.load_python)
        return 0
    if args.profile:
        sys.path.insert(0, str(HERE))
        from profile_api import profile  # type: ignore[import-not-found]

        profile(args.documents)
        return 0
    if args.smoke:
        args.seconds, args.warmup, args.connections, args.generator = 1.0, 0.0, 5, "python"
    try:
        report = benchmark(args)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports its failure and still exits 0
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 0
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
