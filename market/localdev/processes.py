"""The process table of the local market (`make run`): one line per process, so adding one is one entry."""

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from market.config.env import REPO_ROOT
from market.localdev.embedded import EmbeddedBroker
from market.localdev.supervisor import HealthCheck, ProcessSpec, http_answers
from services.common.registry import CONSUMERS

#: manage.py commands run after each broker restart, so what the restarted broker lost is sent again and
#: search catches up by itself (`;`-separated command lines). No grace period: what the stand-in lost is what
#: it acknowledged just before it stopped; an event merely not yet consumed is sent twice, which the
#: consumers de-duplicate (the periodic reconcile task keeps its longer grace)
AFTER_BROKER_RESTART = "outbox_reconcile --grace-seconds 0"
#: the longest wait of a consumer after empty polls (read by the consumer kit): an idle consumer went from
#: ~0.6 to <0.01 of a core, and bench/search.py's freshness p99 stayed within its 1.5 s goal (bench/idle.py)
CONSUMER_IDLE_BACKOFF_MS = "250"
#: the web server's search timeout here: the stand-in takes 2–4 s for a common word over the whole sample on a
#: busy 2-core machine (real Elasticsearch: milliseconds, hence the 5 s default of the settings)
LOCAL_SEARCH_REQUEST_TIMEOUT = "10"
#: the probe's own bound: what a search gets from the API (SEARCH_REQUEST_TIMEOUT). The stand-in serves one
#: request at a time, so a trivial one waited up to 4.6 s behind long queries yet the engine was fine; an
#: engine that misses this three times in a row (~25 s) is down for every search anyway
ENGINE_PROBE_TIMEOUT = 5.0


def engine_answers(elasticsearch_url: str, timeout: float = ENGINE_PROBE_TIMEOUT) -> bool:
    """A search of nothing: cheap, yet it goes through the engine's search path, which is what hangs
    (the port stays open and the root endpoint may still answer)."""
    return http_answers(f"{elasticsearch_url}/_search?size=0&track_total_hits=false", timeout)


def market_environment(
    *, broker: EmbeddedBroker, port: int, data_dir: Path, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """What every process of the local market runs with: where the broker and the engine are, where health
    files go, and the market's public address, which is where the web server listens unless one was given
    (a tunnel, a proxy in front): notification links must lead to the running market."""
    return {
        **environ,
        "DJANGO_SETTINGS_MODULE": "market.config.settings",
        "KAFKA_BOOTSTRAP_SERVERS": broker.kafka_bootstrap,
        "ELASTICSEARCH_URL": broker.elasticsearch_url,
        "CONSUMER_HEALTH_DIR": str(data_dir),
        "LOG_LEVEL": environ.get("LOG_LEVEL", "WARNING"),
        "MARKET_PUBLIC_URL": environ.get("MARKET_PUBLIC_URL") or f"http://127.0.0.1:{port}",
    }


def market_processes(
    *, broker: EmbeddedBroker, port: int, data_dir: Path, environ: Mapping[str, str] = os.environ
) -> list[ProcessSpec]:
    """The broker first (the others need it), then the relay, one process per consumer, Celery (timers with
    beat; webhook deliveries on their own queue) and the web server."""
    manage = [sys.executable, str(REPO_ROOT / "manage.py")]
    celery = [sys.executable, "-m", "celery", "-A", "market.config.celery", "worker", "--loglevel", "WARNING"]
    after_restart = [
        [*manage, *shlex.split(line)]
        for line in environ.get("RUN_MARKET_AFTER_BROKER_RESTART", AFTER_BROKER_RESTART).split(";")
        if line.strip()
    ]
    consumer_environment = {
        "CONSUMER_IDLE_BACKOFF_MS": environ.get("CONSUMER_IDLE_BACKOFF_MS", CONSUMER_IDLE_BACKOFF_MS)
    }
    webhook_queue = environ.get("NOTIFY_WEBHOOK_QUEUE", "webhooks")
    return [
        ProcessSpec(
            "broker",
            broker.command(),
            health=HealthCheck(probe=lambda: engine_answers(broker.elasticsearch_url)),
            after_restart=after_restart,
        ),
        ProcessSpec("relay", [*manage, "relay_outbox"]),
        *(
            ProcessSpec(
                f"consumer {name}",
                [*manage, "run_consumer", name],
                # a static group member, as a pod name makes it in the cluster: restarted after a crash, the
                # consumer takes its partitions back at once instead of waiting for the group to give up on
                # its dead predecessor (the stand-in kept a restarted search consumer waiting for minutes)
                {**consumer_environment, "CONSUMER_INSTANCE_ID": f"{name}-local"},
            )
            for name in sorted(CONSUMERS)
        ),
        ProcessSpec(
            "celery",
            [
                *celery,
                "--beat",
                "--concurrency",
                "1",
                "--hostname",
                "timers@%h",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
            ],
        ),
        # slow receivers wait here, on threads, never in front of auction closing and e-mail
        ProcessSpec(
            "celery webhooks",
            [
                *celery,
                "--queues",
                webhook_queue,
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "-n",
                "webhooks@%h",
            ],
        ),
        ProcessSpec(
            "web",
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            {"SEARCH_REQUEST_TIMEOUT": environ.get("SEARCH_REQUEST_TIMEOUT", LOCAL_SEARCH_REQUEST_TIMEOUT)},
        ),
    ]
