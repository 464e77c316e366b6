# One image for every process of the market: the web server (gunicorn), the outbox relay, the event consumers,
# the Celery worker and beat, and the migration job. deploy/k8s chooses the command per Deployment.
#
#   docker build -t registry.example.org/market/app:$(git rev-parse --short HEAD) .

FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md manage.py ./
COPY market ./market
COPY services ./services
# A regular (not editable) install: the image runs from site-packages, the source tree stays behind.
RUN pip install --no-cache-dir . \
    && DJANGO_STATIC_ROOT=/opt/static DJANGO_STATIC_MANIFEST=true python manage.py collectstatic --noinput --verbosity 0


FROM python:3.11-slim AS runtime

# The root filesystem is read-only in the cluster: no bytecode writes at run time (pip compiled it already).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=market.config.settings \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_STATIC_MANIFEST=true

RUN groupadd --system --gid 10001 market \
    && useradd --system --uid 10001 --gid market --home-dir /app --no-create-home --shell /usr/sbin/nologin market

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/static /app/staticfiles
COPY manage.py /app/manage.py

WORKDIR /app
USER 10001:10001
EXPOSE 8000 9100

CMD ["gunicorn", "market.config.wsgi", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/tmp", "--no-control-socket", \
     "--access-logfile", "-"]
