"""Shared fixtures: one approved organization of every type, a user for every role, and API clients."""

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from market.accounts.models import Organization, OrganizationStatus, OrganizationType, OrgRole, User
from tests import factories


@dataclass
class Cast:
    """The people of a small market: every organization type and every role."""

    university: Organization
    institute: Organization
    enterprise: Organization
    enterprise2: Organization
    intermediary: Organization
    government: Organization
    pending_university: Organization
    platform_admin: User
    uni_admin: User
    uni_member: User
    inst_member: User
    ent_admin: User
    ent_member: User
    ent2_member: User
    broker: User
    gov_member: User
    registrar: User
    pending_member: User
    orgless: User


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hashing with the production work factor costs ~0.2 s per user; tests need many users, not strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings, worker_id: str) -> None:
    """Throttle counters live in Redis: each xdist worker gets its own Redis database, emptied before each
    test (clearing a shared one would reset another worker's counters mid-test). `TEST_REDIS_DB_BASE` moves
    the range, so two checkouts can run their suites side by side on one Redis."""
    base_index = int(os.environ.get("TEST_REDIS_DB_BASE", "1"))
    index = base_index + int(worker_id[2:]) if worker_id.startswith("gw") else 15
    base = settings.CACHES["default"]["LOCATION"].rsplit("/", 1)[0]
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"{base}/{index}"}}
    cache.clear()


class StubResolver:
    """Name lookups of webhook URLs in every test: answers only the names a test gave addresses, so no test
    (the API fuzzing included) ever sends a DNS query off this machine, and a name can be made to resolve to
    any address without connecting to it."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {"hooks.example.org": ["93.184.215.14"]}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.names[host])


@pytest.fixture(autouse=True)
def resolver(monkeypatch) -> StubResolver:
    from services.notify import webhooks

    stub = StubResolver()
    monkeypatch.setattr(webhooks, "resolve", stub)
    return stub


@pytest.fixture
def cast(db) -> Cast:
    university = factories.organization(OrganizationType.UNIVERSITY, county_code="330106")
    institute = factories.organization(OrganizationType.INSTITUTE, county_code="320102")
    enterprise = factories.organization(OrganizationType.ENTERPRISE, county_code="330127")
    enterprise2 = factories.organization(OrganizationType.ENTERPRISE, county_code="440305")
    intermediary = factories.organization(OrganizationType.INTERMEDIARY)
    government = factories.organization(
        OrganizationType.GOVERNMENT, county_code="330106"
    )  # the county bureau
    pending = factories.organization(OrganizationType.UNIVERSITY, status=OrganizationStatus.PENDING)
    return Cast(
        university=university,
        institute=institute,
        enterprise=enterprise,
        enterprise2=enterprise2,
        intermediary=intermediary,
        government=government,
        pending_university=pending,
        platform_admin=factories.user(None, platform_admin=True, username="reviewer"),
        uni_admin=factories.user(university, role=OrgRole.ORG_ADMIN, username="uni_admin"),
        uni_member=factories.user(university, username="uni_member"),
        inst_member=factories.user(institute, username="inst_member"),
        ent_admin=factories.user(enterprise, role=OrgRole.ORG_ADMIN, username="ent_admin"),
        ent_member=factories.user(enterprise, username="ent_member"),
        ent2_member=factories.user(enterprise2, username="ent2_member"),
        broker=factories.user(intermediary, username="broker"),
        gov_member=factories.user(government, username="gov_member"),
        registrar=factories.user(government, role=OrgRole.REGISTRAR, username="registrar"),
        pending_member=factories.user(pending, role=OrgRole.ORG_ADMIN, username="pending_member"),
        orgless=factories.user(None, username="orgless"),
    )


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """`api(user)` is a client signed in as that user; `api(None)` is anonymous."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def broker(tmp_path, settings):
    """A fresh noida-db (Kafka + Elasticsearch stand-in) on free ports, stopped by PID after the test; the
    settings point the relay and consumers at it."""
    from market.localdev.embedded import EmbeddedBroker

    embedded = EmbeddedBroker(data_dir=tmp_path / "noida").start()
    settings.KAFKA_BOOTSTRAP_SERVERS = [embedded.kafka_bootstrap]
    settings.CONSUMER_HEALTH_DIR = str(tmp_path)
    try:
        yield embedded
    finally:
        embedded.stop()
