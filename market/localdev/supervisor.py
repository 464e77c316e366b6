"""The local supervisor behind `make run`: starts the market's processes, restarts one that exits (or whose
health check keeps failing) with a growing delay, and stops them all only when asked to.

It behaves like Kubernetes' restart policy `Always`, so a local outage looks like a production one: the
delay doubles after each crash up to a cap (CrashLoopBackOff), and resets once the process has run fine for a
while. One crashing consumer no longer takes the web server and everything else down with it. Stopping is by
PID: each child leads its own process group, which gets SIGTERM, then SIGKILL after a timeout."""

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Say = Callable[[str], None]


@dataclass(frozen=True)
class Backoff:
    """Delay before restart number n (counted since the process last ran fine): initial · factor^(n-1),
    capped. Kubernetes uses 10 s doubling to 5 min, reset after 10 min; locally a crash should come back
    within seconds."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0
    #: a process that ran this long before it exited starts its count afresh
    reset_after: float = 60.0

    def delay(self, restarts: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(0, restarts - 1))


def http_answers(url: str, timeout: float) -> bool:
    """True when `url` answers (any HTTP status) within `timeout` seconds: the engine is serving requests,
    not merely holding its port open, which a hung engine still does."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read(1)
        return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class HealthCheck:
    """A cheap probe run every `interval` seconds; `failures` misses in a row (each bounded by `timeout`)
    mean the process is hung and gets restarted, like a Kubernetes liveness probe. A single slow answer
    under load is not enough to restart the broker every consumer depends on."""

    probe: Callable[[], bool]
    interval: float = 5.0
    failures: int = 3
    #: how long a (re)started process may take to pass its first probe before its misses count
    startup: float = 30.0


@dataclass(frozen=True)
class ProcessSpec:
    """One line of the process table: a name, a command line, extra environment, an optional health
    check, and the commands to run (to completion, in order) after each restart, e.g. to catch up on what
    the process lost."""

    name: str
    command: Sequence[str]
    environment: dict[str, str] = field(default_factory=dict)
    health: HealthCheck | None = None
    after_restart: Sequence[Sequence[str]] = ()


@dataclass
class _Running:
    spec: ProcessSpec
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    restart_at: float | None = None
    healthy_since_start: bool = False
    misses: int = 0
    next_probe: float = 0.0


class Supervisor:
    """Runs a process table until `stop` is set; see the module docstring."""

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        environment: dict[str, str],
        cwd: Path,
        log_dir: Path,
        say: Say,
        backoff: Backoff = Backoff(),
        stop_timeout: float = 15.0,
        hook_timeout: float = 600.0,
    ) -> None:
        self.table = [_Running(spec) for spec in specs]
        self.environment = environment
        self.cwd = cwd
        self.log_dir = log_dir
        self.say = say
        self.backoff = backoff
        self.stop_timeout = stop_timeout
        self.hook_timeout = hook_timeout

    def pids(self) -> dict[str, int]:
        return {entry.spec.name: entry.process.pid for entry in self.table if entry.process is not None}

    def start(self, *, ready_timeout: float = 30.0) -> None:
        """Start the table in order; a process with a health check must pass it before the next one starts
        (the consumers need the broker)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for entry in self.table:
            process = self._spawn(entry)
            if entry.spec.health is not None:
                deadline = time.monotonic() + ready_timeout
                while not entry.spec.health.probe():
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{entry.spec.name} did not start; see {self._log(entry.spec)}")
                    time.sleep(0.05)
                entry.healthy_since_start = True

    def run(self, stop: threading.Event, *, tick: float = 0.2) -> None:
        """Watch until `stop` is set (by Ctrl-C or SIGTERM), then stop everything."""
        try:
            while not stop.wait(tick):
                self.check(time.monotonic())
        finally:
            self.stop()

    def check(self, now: float) -> None:
        """One round: notice exits, start what is due, probe what has a health check."""
        for entry in self.table:
            process = entry.process
            if process is not None and process.poll() is not None:
                ran = now - entry.started_at
                entry.restarts = 1 if ran >= self.backoff.reset_after else entry.restarts + 1
                delay = self.backoff.delay(entry.restarts)
                self.say(
                    f"{entry.spec.name} (pid {process.pid}) exited with code {process.returncode} after "
                    f"{ran:.1f} s; restarting in {delay:.1f} s (restart {entry.restarts}); "
                    f"see {self._log(entry.spec)}"
                )
                entry.process, entry.restart_at = None, now + delay
            if entry.process is None and entry.restart_at is not None and now >= entry.restart_at:
                process = self._spawn(entry)
                self.say(f"{entry.spec.name} restarted (pid {process.pid})")
                self._after_restart(entry.spec)
            elif entry.process is not None and entry.spec.health is not None and now >= entry.next_probe:
                self._probe(entry, now)

    def _probe(self, entry: _Running, now: float) -> None:
        health = entry.spec.health
        assert health is not None and entry.process is not None
        entry.next_probe = now + health.interval
        if health.probe():
            entry.healthy_since_start, entry.misses = True, 0
            return
        if not entry.healthy_since_start and now - entry.started_at < health.startup:
            return
        entry.misses += 1
        if entry.misses < health.failures:
            return
        self.say(
            f"{entry.spec.name} (pid {entry.process.pid}) failed its health check {entry.misses} times in a "
            "row; restarting it"
        )
        # the exit is then handled like a crash: reported, restarted after the back-off delay
        self._terminate([entry.process])

    def _spawn(self, entry: _Running) -> subprocess.Popen:
        log = self._log(entry.spec).open("ab")
        try:
            process = entry.process = subprocess.Popen(
                list(entry.spec.command),
                cwd=self.cwd,
                env={**self.environment, **entry.spec.environment},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        entry.started_at, entry.restart_at = time.monotonic(), None
        entry.healthy_since_start, entry.misses, entry.next_probe = False, 0, 0.0
        return process

    def _after_restart(self, spec: ProcessSpec) -> None:
        """Run the spec's catch-up commands in the background, in order; a missing or failing command is
        reported, never fatal (the supervisor must outlive every tool it calls)."""
        if not spec.after_restart:
            return

        def run_all() -> None:
            if spec.health is not None:
                deadline = time.monotonic() + spec.health.startup
                while not spec.health.probe() and time.monotonic() < deadline:
                    time.sleep(0.2)
            for command in spec.after_restart:
                shown = " ".join(command)
                try:
                    done = subprocess.run(
                        list(command),
                        cwd=self.cwd,
                        env=self.environment,
                        capture_output=True,
                        text=True,
                        timeout=self.hook_timeout,
                        stdin=subprocess.DEVNULL,
                    )
                except (OSError, subprocess.TimeoutExpired) as error:
                    self.say(f"after restarting {spec.name}: `{shown}` could not run: {error}")
                    continue
                output = done.stdout if done.returncode == 0 else done.stderr or done.stdout
                last = " / ".join(line.strip() for line in output.strip().splitlines()[-2:])
                outcome = "done" if done.returncode == 0 else f"failed with code {done.returncode}"
                self.say(f"after restarting {spec.name}: `{shown}` {outcome}: {last}")

        threading.Thread(target=run_all, name=f"after-restart-{spec.name}", daemon=True).start()

    def _terminate(self, processes: list[subprocess.Popen]) -> None:
        """SIGTERM each process group, wait up to `stop_timeout`, then SIGKILL what is left."""
        alive = [process for process in processes if process.poll() is None]
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in alive:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self) -> None:
        """Stop every child: first the ones without a health check, then those (the broker), which the
        others may still need while they shut down (a consumer commits its offsets)."""
        for services in (False, True):
            self._terminate(
                [
                    entry.process
                    for entry in self.table
                    if entry.process is not None and (entry.spec.health is not None) == services
                ]
            )
        for entry in self.table:
            entry.process, entry.restart_at = None, None

    def _log(self, spec: ProcessSpec) -> Path:
        return self.log_dir / f"{spec.name.replace(' ', '-')}.log"
