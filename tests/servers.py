"""Local servers for the tests and the CI eval: start one, wait until it answers, always stop it.

Used by the `chroma_url` fixtures (tests/conftest.py, tests/test_chroma_server.py), the
browser test's Streamlit app and `tests/chroma_server_eval.py`. Everything listens on
127.0.0.1 only; health checks go straight to the socket (no proxy settings apply).

>>> with chroma_server(Path("/tmp/chroma-data")) as url:  # doctest: +SKIP
...     print(url)
http://127.0.0.1:40123
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

CHROMA = Path(sys.executable).with_name("chroma")
CHROMA_HEARTBEAT = "/api/v2/heartbeat"


class ServerError(RuntimeError):
    """A server did not start: it exited, or never answered its health check in time."""


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str, path: str, timeout_s: float = 2.0) -> bool:
    """True when `GET url+path` returns 200 (plain HTTP on loopback, proxies ignored)."""
    host, _, port = url.removeprefix("http://").rstrip("/").rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


@contextmanager
def serve(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    health: str,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 60.0,
) -> Iterator[str]:
    """Run `command` (which must listen on 127.0.0.1:`port`), yield its URL once `health` answers 200.

    On the way out the process gets SIGTERM, then SIGKILL after 10 s. The output goes to `log`.
    """
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env) if env is not None else None, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + timeout_s
        while not answers(url, health):
            if proc.poll() is not None:
                raise ServerError(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise ServerError(f"{name} did not answer {url}{health} within {timeout_s:.0f} s:\n{_tail(log)}")
            time.sleep(0.2)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL when the process is still there 10 s later."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def chroma_server(root: Path, *, timeout_s: float = 60.0) -> Iterator[str]:
    """`chroma run` (from the installed chromadb) with its data in `root/data` and its log in `root/server.log`."""
    if not CHROMA.exists():
        raise ServerError(f"{CHROMA} is missing: reinstall chromadb (make install)")
    port = free_port()
    command = [str(CHROMA), "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with serve("chroma run", command, port=port, health=CHROMA_HEARTBEAT, log=root / "server.log", env=env,
               timeout_s=timeout_s) as url:  # fmt: skip
        yield url
