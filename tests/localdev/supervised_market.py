"""A supervisor as `run_market` runs one (signals, start, run), over a table given as JSON in argv[1]:
prints its children's pids as one JSON line once they run, then its reports, one per line."""

import json
import sys
from pathlib import Path

from market.common.shutdown import stop_on_signals
from market.localdev.supervisor import Backoff, ProcessSpec, Supervisor

table, log_dir = json.loads(sys.argv[1]), Path(sys.argv[2])
stop = stop_on_signals()
supervisor = Supervisor(
    [ProcessSpec(name, command) for name, command in table.items()],
    environment={"PATH": "/usr/bin:/bin"},
    cwd=log_dir,
    log_dir=log_dir,
    say=lambda line: print(line, flush=True),
    backoff=Backoff(initial=0.2),
    stop_timeout=2.0,
)
supervisor.start()
print(json.dumps(supervisor.pids()), flush=True)
supervisor.run(stop)
print("stopped", flush=True)
