"""Elasticsearch: the search indexes. Same code against real Elasticsearch and the local stand-in."""

from market.config.env import env

ELASTICSEARCH_URL = env.str("ELASTICSEARCH_URL", default="http://127.0.0.1:19200")
#: prefix of every index and alias name, so several environments can share one cluster
SEARCH_INDEX_PREFIX = env.str("SEARCH_INDEX_PREFIX", default="market")
#: how long a search request (the API's reads) may take before the client gives up and the API answers 503:
#: a few seconds, so a stuck engine fails searches fast instead of holding every request for 30 s
SEARCH_REQUEST_TIMEOUT = env.float("SEARCH_REQUEST_TIMEOUT", default=5.0)
#: the engine's own time budget for a search (the `timeout` of the request body), well below the client's,
#: so a slow query comes back with what was found so far instead of timing out
SEARCH_ENGINE_TIMEOUT_MS = env.int("SEARCH_ENGINE_TIMEOUT_MS", default=2000)
