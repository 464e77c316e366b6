"""How a long-running process (relay, consumer, the local supervisor) learns it must stop."""

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (Kubernetes, the local supervisor) or SIGINT (Ctrl-C): the process finishes
    what it holds and exits cleanly instead of dying mid-write."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
