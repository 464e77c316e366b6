.PHONY: run test lint

run:  ## run the whole market locally with the real sample data
	scripts/run.sh

test:  ## install, lint and run the test suite
	scripts/test.sh

lint:
	scripts/bootstrap.sh && .venv/bin/ruff check market services tests bench && DJANGO_DEBUG=true .venv/bin/mypy
