"""The demo market that `make run` loads: the real sample data of ../shared/data (patents, research
achievements) with clearly marked synthetic fields, plus demo organizations, users, demands and experts
(`seed_market`, `demo_credentials`), whose tables are the data files in `data/`.

Production never imports it (tests/test_layers.py checks): the app is installed everywhere only so that its
commands exist, and Django then loads nothing of it but `apps.py`."""
