"""The real processes of a verify run: Prometheus, Alertmanager, node_exporter.

Each listens on 127.0.0.1 on a port picked free at start, keeps its data in the run's
temporary folder, and is stopped (TERM, then KILL) when the Stack closes - also on
Ctrl-C, SIGTERM or an exception - so a run leaves no process or folder behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Debian names first, upstream names second.
BINARIES = {
    "prometheus": ("prometheus",),
    "alertmanager": ("prometheus-alertmanager", "alertmanager"),
    "node_exporter": ("prometheus-node-exporter", "node_exporter"),
    "amtool": ("amtool",),
}
INSTALL = {
    "prometheus": "apt-get install prometheus (Debian/Ubuntu) or https://prometheus.io/download/#prometheus",
    "alertmanager": "apt-get install prometheus-alertmanager (Debian/Ubuntu) or "
                    "https://prometheus.io/download/#alertmanager",
    "node_exporter": "apt-get install prometheus-node-exporter (Debian/Ubuntu) or "
                     "https://prometheus.io/download/#node_exporter",
    "amtool": "apt-get install prometheus-alertmanager (Debian/Ubuntu)",
}


class StackError(Exception):
    """A process of the stack would not start or a wait ran out; the message says which."""


class MissingBinary(Exception):
    def __init__(self, name: str, tried: tuple[str, ...], given: bool = False):
        flag = f"--{name.replace('_', '-')}"
        if given:
            # A path the user typed: say what is wrong with it, not where we searched.
            what = tried[0]
            why = "is not an executable file" if os.path.exists(what) else "does not exist"
            super().__init__(f"{flag} {what}: {why}; give the path of the {name} binary (to install it: "
                             f"{INSTALL[name]}), or leave {flag} out to use the one on PATH")
        else:
            super().__init__(f"{name} not found (looked for {', '.join(tried)} on PATH): install it with "
                             f"{INSTALL[name]}, or pass {flag} PATH")
        self.name = name


def find_binary(name: str, given: str | None = None) -> str:
    if given:
        path = shutil.which(given)
        if not path:
            raise MissingBinary(name, (given,), given=True)
        return path
    for candidate in BINARIES[name]:
        path = shutil.which(candidate)
        if path:
            return path
    raise MissingBinary(name, BINARIES[name])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return resp.read()


def wait_for(check, timeout: float, interval: float = 0.25, what: str = "condition", fatal=()):
    """Poll check() until it returns a truthy value; raise TimeoutError after timeout seconds.
    Exceptions of the `fatal` types stop the wait at once."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = check()
            if value:
                return value
        except fatal:
            raise
        except Exception as exc:  # noqa: BLE001 - a not-yet-ready server raises; keep polling
            last_exc = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}"
                               + (f" (last error: {last_exc})" if last_exc else ""))
        time.sleep(interval)


@dataclass
class Process:
    name: str
    url: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    """Context manager owning the run folder and every process started in it."""
    root: Path = field(init=False)
    processes: list[Process] = field(default_factory=list)
    _cleanups: list = field(default_factory=list)

    def __enter__(self) -> Stack:
        self.root = Path(tempfile.mkdtemp(prefix="aimon-gen-verify-"))
        self._old_term = signal.getsignal(signal.SIGTERM)
        try:
            signal.signal(signal.SIGTERM, _term_to_interrupt)
        except ValueError:  # not the main thread: the caller handles signals
            self._old_term = None
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def on_close(self, fn) -> None:
        """Run fn() when the stack closes (before processes stop), e.g. to stop simulators."""
        self._cleanups.append(fn)

    def close(self) -> None:
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception:  # noqa: BLE001 - keep closing the rest
                pass
        self._cleanups.clear()
        for proc in reversed(self.processes):
            _stop(proc.popen)
        self.processes.clear()
        if self._old_term is not None:
            signal.signal(signal.SIGTERM, self._old_term)
            self._old_term = None
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, name: str, argv: list[str], url: str, ready_path: str, timeout: float = 60) -> Process:
        """Start argv (its output to a log in the run folder) and wait until url+ready_path answers."""
        log = self.root / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.root, start_new_session=True)  # no Ctrl-C to children: we stop them
        proc = Process(name, url, popen, log)
        self.processes.append(proc)

        def ready():
            if not proc.alive():
                raise StackError(f"{name} exited with code {popen.returncode}:\n{proc.tail()}")
            http_get(url + ready_path, timeout=2)
            return True
        try:
            wait_for(ready, timeout, what=f"{name} at {url}", fatal=StackError)
        except TimeoutError as exc:
            raise StackError(f"{exc}\n{proc.tail()}") from None
        return proc

    def prometheus(self, binary: str, config: Path) -> Process:
        port = free_port()
        data = self.root / "prometheus-data"
        argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
                "--rules.alert.resend-delay=1s", "--log.level=warn"]
        return self.start("prometheus", argv, f"http://127.0.0.1:{port}", "/-/ready")

    def alertmanager(self, binary: str, config: Path) -> Process:
        port = free_port()
        data = self.root / "alertmanager-data"
        argv = [binary, f"--config.file={config}", f"--storage.path={data}",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                "--log.level=warn"]
        return self.start("alertmanager", argv, f"http://127.0.0.1:{port}", "/-/ready")

    def node_exporter(self, binary: str) -> Process:
        port = free_port()
        argv = [binary, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
        return self.start("node_exporter", argv, f"http://127.0.0.1:{port}", "/metrics")


def _stop(popen: subprocess.Popen, grace: float = 10) -> None:
    if popen.poll() is not None:
        return
    try:
        os.killpg(popen.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        popen.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        popen.wait(5)


def _term_to_interrupt(signum, frame):
    # SIGTERM takes the same clean-up path as Ctrl-C.
    raise KeyboardInterrupt
