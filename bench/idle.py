"""Idle cost of the consumers: `manage.py run_consumer` for audit, notify and search as their own processes
against an idle stand-in (as `make run` leaves them when nobody uses the market), CPU time read from
/proc/<pid>/stat over a window, first with the idle back-off off, then on (`CONSUMER_IDLE_BACKOFF_MS`).
The stand-in answers empty fetches at once, so without the back-off each consumer busy-polls; the broker's
own CPU over the same window is reported too (it serves those fetches).

    .venv/bin/python bench/idle.py [--quick] [--backoff-ms 250]"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import REPO, broker, report, scratch_database

CONSUMERS = ("audit", "notify", "search")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(running: Any, backoff_ms: int, *, warmup: float, window: float) -> dict[str, float]:
    """CPU cores used by each idle consumer (and the broker) over `window` seconds, after `warmup`."""
    health = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": running.kafka_bootstrap,
        "ELASTICSEARCH_URL": running.elasticsearch_url,
        "CONSUMER_HEALTH_DIR": str(health),
        "CONSUMER_IDLE_BACKOFF_MS": str(backoff_ms),
        "LOG_LEVEL": "WARNING",
    }
    processes = {
        name: subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "run_consumer", name],
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        for name in CONSUMERS
    }
    try:
        deadline = time.monotonic() + 60
        while not all((health / f"consumer-{name}.alive").exists() for name in CONSUMERS):
            if time.monotonic() > deadline:
                raise TimeoutError("the consumers did not start within 60 s")
            time.sleep(0.1)
        time.sleep(warmup)  # joined their group, nothing to read
        pids = {name: process.pid for name, process in processes.items()} | {"broker": running.process.pid}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - started
        return {name: round((cpu_seconds(pid) - before[name]) / elapsed, 3) for name, pid in pids.items()}
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows (about 30 s in all)")
    parser.add_argument(
        "--backoff-ms", type=int, default=250, help="CONSUMER_IDLE_BACKOFF_MS of the second run"
    )
    args = parser.parse_args()
    warmup, window = (3.0, 5.0) if args.quick else (5.0, 10.0)
    with scratch_database(f"bench_idle_{os.getpid()}"), broker() as running:
        off = idle_cpu(running, 0, warmup=warmup, window=window)
        on = idle_cpu(running, args.backoff_ms, warmup=warmup, window=window)
    figures: dict[str, Any] = {"window_s": window, "backoff_ms": args.backoff_ms}
    for name in (*CONSUMERS, "broker"):
        figures[f"{name}_cores_off"] = off[name]
        figures[f"{name}_cores_on"] = on[name]
    figures["consumers_cores_off"] = round(sum(off[name] for name in CONSUMERS), 3)
    figures["consumers_cores_on"] = round(sum(on[name] for name in CONSUMERS), 3)
    figures["goal_idle_consumer_le_0_05_core"] = all(on[name] <= 0.05 for name in CONSUMERS)
    report("idle", figures)


if __name__ == "__main__":
    main()
