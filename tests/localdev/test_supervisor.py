"""The local supervisor (`make run`) with real processes: a crashed process comes back with a growing delay,
a hung one (its health check failing) is restarted and caught up, and only a signal stops everything."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from market.config.env import REPO_ROOT
from market.localdev.embedded import EmbeddedBroker, free_port
from market.localdev.processes import market_processes
from market.localdev.supervisor import Backoff, HealthCheck, ProcessSpec, Supervisor, http_answers
from tests.processes import STUB_ENGINE, until

HERE = Path(__file__).parent
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a child that exited but was not reaped yet is dead too
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


class Running:
    """A supervisor watching its table in a thread; `lines` is what it said."""

    def __init__(self, supervisor: Supervisor, lines: list[str]):
        self.supervisor, self.lines, self.stop = supervisor, lines, threading.Event()
        self.thread = threading.Thread(target=supervisor.run, args=(self.stop,), kwargs={"tick": 0.02})

    def said(self, pattern: str) -> list[re.Match]:
        return [match for line in list(self.lines) if (match := re.search(pattern, line))]


@pytest.fixture
def supervise(tmp_path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def make(specs: list[ProcessSpec], backoff: Backoff | None = None) -> Running:
        lines: list[str] = []
        supervisor = Supervisor(
            specs,
            environment=dict(os.environ),
            cwd=REPO_ROOT,
            log_dir=tmp_path,
            say=lines.append,
            backoff=backoff or Backoff(initial=0.2),
            stop_timeout=3.0,
            hook_timeout=20.0,
        )
        running = Running(supervisor, lines)
        supervisor.start(ready_timeout=10)
        running.thread.start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop.set()
        running.thread.join(10)
        running.supervisor.stop()


def test_a_killed_process_comes_back_with_a_new_pid_and_the_output_says_so(supervise):
    running = supervise([ProcessSpec("worker", SLEEPER), ProcessSpec("web", SLEEPER)])
    first, web = running.supervisor.pids()["worker"], running.supervisor.pids()["web"]
    os.kill(first, signal.SIGKILL)
    until(lambda: running.supervisor.pids().get("worker") not in (None, first), 10, "worker restarted")
    second = running.supervisor.pids()["worker"]
    assert _alive(second) and not _alive(first)
    assert running.supervisor.pids()["web"] == web and _alive(web)  # the others were left alone
    exited = running.said(rf"^worker \(pid {first}\) exited with code (-?\d+) .*restarting in ([\d.]+) s")
    assert exited and exited[0][1] == str(-signal.SIGKILL)
    assert running.said(rf"^worker restarted \(pid {second}\)")


def test_a_process_that_keeps_crashing_is_restarted_with_growing_delays(supervise):
    crash = [sys.executable, "-c", "import sys; sys.exit(3)"]
    running = supervise([ProcessSpec("crasher", crash)], Backoff(initial=0.1, factor=2, maximum=0.8))
    until(lambda: len(running.said("^crasher .*exited")) >= 6, 15, "six crashes")
    reports = running.said(r"exited with code 3 .*restarting in ([\d.]+) s \(restart (\d+)\)")
    delays = [float(match[1]) for match in reports[:6]]
    assert delays == [0.1, 0.2, 0.4, 0.8, 0.8, 0.8]  # doubling, then capped
    assert [int(match[2]) for match in reports[:6]] == [1, 2, 3, 4, 5, 6]


def test_the_delay_resets_once_a_process_ran_fine_for_a_while(supervise):
    # dies after 0.3 s, which counts as "ran fine" with reset_after=0.25: every restart is a first one
    short_lived = [sys.executable, "-c", "import time, sys; time.sleep(0.3); sys.exit(1)"]
    running = supervise(
        [ProcessSpec("flaky", short_lived)], Backoff(initial=0.1, maximum=5, reset_after=0.25)
    )
    until(lambda: len(running.said("^flaky .*exited")) >= 3, 10, "three exits")
    assert {match[1] for match in running.said(r"restarting in ([\d.]+) s")} == {"0.1"}


def _market(tmp_path: Path, table: dict[str, list[str]]) -> tuple[subprocess.Popen, dict[str, int]]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "supervised_market.py"), json.dumps(table), str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def test_sigterm_to_the_supervisor_stops_every_child_and_their_children(tmp_path):
    grandchild_file = tmp_path / "grandchild"
    table = {
        "plain": SLEEPER,
        # ignores SIGTERM: needs the SIGKILL after the stop timeout
        "stubborn": [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)",
        ],
        # a shell with a child of its own, in the same process group
        "parent": ["/bin/sh", "-c", f"sleep 120 & echo $! > {grandchild_file}; wait"],
    }
    supervisor, pids = _market(tmp_path, table)
    try:
        until(grandchild_file.exists, 5, "the grandchild started")
        until(lambda: grandchild_file.read_text().strip(), 5, "the grandchild's pid")
        everyone = [*pids.values(), int(grandchild_file.read_text())]
        assert all(_alive(pid) for pid in everyone)
        started = time.monotonic()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(15) == 0
        assert time.monotonic() - started < 2.0 + 5  # the stop timeout, then SIGKILL
        until(lambda: not any(_alive(pid) for pid in everyone), 5, "no process of the market left")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


def test_a_child_that_exits_does_not_stop_the_others(tmp_path):
    supervisor, pids = _market(tmp_path, {"short": [sys.executable, "-c", "pass"], "long": SLEEPER})
    try:
        assert supervisor.stdout is not None
        line = supervisor.stdout.readline()
        assert re.match(rf"short \(pid {pids['short']}\) exited with code 0", line), line
        assert supervisor.poll() is None and _alive(pids["long"])
    finally:
        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(15) == 0
    assert not _alive(pids["long"])


# --- the engine's health check ----------------------------------------------------------------------------


def test_the_health_check_reports_an_engine_that_stops_answering_within_its_timeout(tmp_path):
    port = free_port()
    stub = subprocess.Popen(STUB_ENGINE, env={**os.environ, "PORT": str(port), "ANSWERS": "2"})
    try:
        url = f"http://127.0.0.1:{port}/_search"
        until(lambda: http_answers(url, 0.5), 5, "the stub answers")  # one of its two answers
        assert http_answers(url, 0.5)
        started = time.monotonic()
        assert not http_answers(url, 0.5)  # accepted, never answered
        assert time.monotonic() - started < 0.5 + 0.3
        assert not http_answers(f"http://127.0.0.1:{free_port()}/", 0.5)  # nothing listening
    finally:
        stub.kill()
        stub.wait()


def test_a_hung_engine_is_restarted_and_the_catch_up_commands_run_even_if_one_is_missing(supervise, tmp_path):
    port = free_port()
    marker = tmp_path / "caught-up"
    engine = ProcessSpec(
        "broker",
        STUB_ENGINE,
        {"PORT": str(port), "ANSWERS": "6", "HUNG_ONCE": str(tmp_path / "hung"), "SLOW_START": "1"},
        health=HealthCheck(
            probe=lambda: http_answers(f"http://127.0.0.1:{port}/", 0.3), interval=0.1, failures=3, startup=5
        ),
        after_restart=[
            [sys.executable, str(REPO_ROOT / "manage.py"), "no_such_command_here"],
            ["/nonexistent/reconcile"],
            [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('ok'); print('healed 2')"],
        ],
    )
    running = supervise([engine])
    first = running.supervisor.pids()["broker"]
    until(lambda: running.said(r"^broker restarted"), 15, "the hung engine restarted")
    assert running.said(rf"^broker \(pid {first}\) failed its health check 3 times in a row")
    assert not _alive(first)
    until(marker.exists, 30, "the catch-up commands ran")
    until(lambda: len(running.said("^after restarting broker")) == 3, 5, "three reports")
    missing, absent, healed = running.said("^after restarting broker: (.*)")
    assert "failed with code 1: Unknown command: 'no_such_command_here'" in missing[1]
    assert "could not run" in absent[1]
    assert healed[1].endswith("done: healed 2")
    # the restarted engine, slow to open its port, gets its start-up grace: its predecessor's misses are gone
    assert len(running.said(r"^broker restarted")) == 1
    assert len(running.said(r"failed its health check")) == 1


def test_the_market_table_runs_a_webhook_worker_and_tells_consumers_to_back_off_when_idle(tmp_path):
    broker = EmbeddedBroker(data_dir=tmp_path)
    environ = {"NOTIFY_WEBHOOK_QUEUE": "hooks", "RUN_MARKET_AFTER_BROKER_RESTART": "outbox_reconcile; x --y"}
    table = {
        spec.name: spec
        for spec in market_processes(broker=broker, port=8000, data_dir=tmp_path, environ=environ)
    }
    assert next(iter(table)) == "broker" and table["broker"].health is not None
    assert [command[2:] for command in table["broker"].after_restart] == [["outbox_reconcile"], ["x", "--y"]]
    webhooks = table["celery webhooks"].command
    assert webhooks[webhooks.index("--queues") + 1] == "hooks" and "threads" in webhooks
    consumers = [spec for name, spec in table.items() if name.startswith("consumer ")]
    assert {spec.name for spec in consumers} >= {"consumer search", "consumer notify", "consumer audit"}
    assert all(spec.environment["CONSUMER_IDLE_BACKOFF_MS"] == "250" for spec in consumers)
    instance_ids = [spec.environment["CONSUMER_INSTANCE_ID"] for spec in consumers]
    assert len(set(instance_ids)) == len(consumers), "each consumer a static member of its own"
    tuned = market_processes(
        broker=broker, port=8000, data_dir=tmp_path, environ={"CONSUMER_IDLE_BACKOFF_MS": "50"}
    )
    assert tuned[2].environment["CONSUMER_IDLE_BACKOFF_MS"] == "50"
    # the stand-in is slower than Elasticsearch: the local web server waits longer, unless told otherwise
    assert table["web"].environment == {"SEARCH_REQUEST_TIMEOUT": "10"}
