"""Elasticsearch: the search indexes. Same code against real Elasticsearch and the local stand-in."""

from market.config.env import env

ELASTICSEARCH_URL = env.str("ELASTICSEARCH_URL", default="http://127.0.0.1:19200")
#: prefix of every index and alias name, so several environments can share one cluster
SEARCH_INDEX_PREFIX = env.str("SEARCH_INDEX_PREFIX", default="market")
