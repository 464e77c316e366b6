"""Local-development tooling: `manage.py run_market` (the whole market on one machine), its process table and
supervisor, and the embedded Kafka/Elasticsearch stand-in that tests and benchmarks start too.

Production never imports it (tests/test_layers.py checks): the app is installed everywhere only so that its
command exists, and Django then loads nothing of it but `apps.py`; the supervisor, the stand-in and the
command itself are imported when `run_market` runs."""
