"""The workers `manage.py run_consumer NAME` can start: name -> "module:attribute" of a ConsumerSpec."""

from importlib import import_module

from services.common.consumer import ConsumerSpec

CONSUMERS: dict[str, str] = {
    "audit": "services.audit.consumer:SPEC",
    "notify": "services.notify.consumer:SPEC",
    "search": "services.search.indexer:SPEC",
    "stats": "services.stats.consumer:SPEC",
}


def consumer_spec(name: str) -> ConsumerSpec:
    module, attribute = CONSUMERS[name].split(":")
    return getattr(import_module(module), attribute)
