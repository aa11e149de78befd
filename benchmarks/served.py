"""An HTTP app started as a real subprocess on a free loopback port, and stopped with SIGTERM."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_S = 60
SHUTDOWN_S = 60


@dataclass(frozen=True, slots=True)
class Served:
    pid: int
    base_url: str

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(argv: Sequence[str], env: Mapping[str, str], log: Path) -> Iterator[Served]:
    """Run `argv` ("{port}" in it is replaced) with PORT set; yield once it answers HTTP."""
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in argv]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command, env={**env, "PORT": str(port)}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(f"{base_url}/healthz", process, log)
            yield Served(process.pid, base_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=SHUTDOWN_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{_tail(log)}")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - loopback only
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer, even 404, means it is serving
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {STARTUP_S} s:\n{_tail(log)}")


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:]
