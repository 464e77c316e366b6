"""Webhooks reach public internet addresses only (SSRF): refused at registration and again at delivery, the
connection pinned to the checked address, no redirects, coarse outcomes for the user.

Every connection these tests make goes to 127.0.0.1. Other addresses are only ever resolved, through the stub
resolver of conftest.py, and checked: public ones are asserted accepted (and which address would be used),
never connected to."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from services.notify.models import Channel, DeliveryStatus, Notification
from services.notify.services import fanout, subscriptions
from services.notify.webhooks import WebhookUrlRefused, address_is_public, webhook_target

DB = pytest.mark.django_db(transaction=True)  # deliveries run after commit

NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.10",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.251",  # multicast
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",  # reserved
    "198.18.0.1",  # benchmarking
    "192.0.2.1",  # documentation
    "192.0.0.8",
    "192.88.99.1",  # 6to4 relay anycast
    "::1",
    "::",
    "fe80::1",  # link-local
    "fe80::1%2",
    "fc00::1",  # unique-local
    "fd12:3456::1",
    "fec0::1",  # site-local
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC = [
    "93.184.215.14",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80e::200e",
    "::ffff:8.8.8.8",  # judged by the IPv4 address it reaches
    "64:ff9b::808:808",  # DNS64/NAT64 for 8.8.8.8
    "2002:808:808::1",  # 6to4 for 8.8.8.8
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_every_non_public_address_is_refused(resolver, address):
    resolver.names["hooks.example.net"] = [address]
    assert not address_is_public(address)
    with pytest.raises(WebhookUrlRefused):
        webhook_target("https://hooks.example.net/m")
    assert resolver.lookups == ["hooks.example.net"]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_accepted_and_are_what_would_be_connected_to(resolver, address):
    """Checked without connecting: the accepted target names the address a delivery would connect to."""
    resolver.names["hooks.example.net"] = [address]
    assert address_is_public(address)
    target = webhook_target("https://hooks.example.net:8443/in?x=1")
    assert (target.address, target.host, target.port, target.path) == (
        address,
        "hooks.example.net",
        8443,
        "/in?x=1",
    )


@pytest.mark.django_db
def test_registration_refuses_a_private_host_and_accepts_a_public_one(cast, api, resolver):
    client = api(cast.ent_member)
    resolver.names["hooks.example.net"] = ["169.254.169.254"]
    response = client.put("/api/v1/notifications/webhook/", {"url": "https://hooks.example.net/m"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "webhook_url_refused"
    assert response.json()["error"]["fields"] == {
        "url": ["Webhook 只能发往公网地址：该主机未解析到公网地址。"]
    }
    resolver.names["hooks.example.net"] = ["93.184.215.14", "2606:4700:4700::1111"]
    response = client.put("/api/v1/notifications/webhook/", {"url": "https://hooks.example.net/m"})
    assert response.status_code == 200, response.content


def test_a_name_with_one_private_address_among_public_ones_is_refused(resolver):
    resolver.names["mixed.example.net"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(WebhookUrlRefused):
        webhook_target("https://mixed.example.net/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "https://user:secret@hooks.example.org/hook",  # credentials
        "https://hooks.example.org:22/hook",  # an odd port
        "https://unknown-name.example.org/hook",  # does not resolve
        "ftp://hooks.example.org/hook",
    ],
)
def test_loopback_literals_credentials_odd_ports_and_unresolvable_names_are_refused(cast, api, resolver, url):
    resolver.names["localhost"] = ["127.0.0.1", "::1"]
    response = api(cast.ent_member).put("/api/v1/notifications/webhook/", {"url": url})
    assert response.status_code == 400, response.content
    assert "url" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_hidden_and_missing_hosts_answer_the_same(cast, api, resolver):
    resolver.names["intranet.example.net"] = ["10.0.0.5"]
    client = api(cast.ent_member)
    private = client.put("/api/v1/notifications/webhook/", {"url": "https://intranet.example.net/"})
    missing = client.put("/api/v1/notifications/webhook/", {"url": "https://nothing.example.net/"})
    assert private.status_code == missing.status_code == 400
    assert private.json() == missing.json()


def _webhook_delivery(user, event_id: str = "evt-ssrf-1") -> Notification:
    subscriptions.preference_update(user=user, channels=["webhook"])
    with transaction.atomic():
        fanout.notifications_create(
            event_id=event_id,
            event_type="market.offer.made.v1",
            kind="offer",
            recipients=[fanout.Recipient(user=user)],
            context={"fact": "made", "title": "专利许可", "amount": "10.00", "link": ""},
        )
    return Notification.objects.get(user=user, channel=Channel.WEBHOOK, event_id=event_id)


def _attempts(api, user, delivery) -> list[dict]:
    return api(user).get(f"/api/v1/notifications/deliveries/{delivery.pk}/").json()["attempt_log"]


@DB
def test_a_name_that_resolves_to_loopback_after_registration_is_refused_at_delivery(
    cast, api, settings, resolver, webhook_receiver, celery_eager
):
    """DNS rebinding: public when registered, loopback when delivered. Nothing is sent to the receiver."""
    user = cast.ent_member
    assert (
        api(user).put("/api/v1/notifications/webhook/", {"url": "https://hooks.example.org/m"}).status_code
        == 200
    )
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = []  # the loopback receiver is not allowlisted here
    resolver.names["hooks.example.org"] = ["127.0.0.1"]
    delivery = _webhook_delivery(user)
    assert [(a["outcome"], a["status_class"]) for a in _attempts(api, user, delivery)] == [
        ("refused_address", None)
    ]
    assert webhook_receiver.requests == []


@DB
def test_127_0_0_1_is_refused_unless_the_operator_allows_it(
    cast, api, settings, webhook_receiver, celery_eager
):
    user = cast.ent_member
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = []
    assert api(user).put("/api/v1/notifications/webhook/", {"url": webhook_receiver.url}).status_code == 400
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    assert api(user).put("/api/v1/notifications/webhook/", {"url": webhook_receiver.url}).status_code == 200
    # the allowlist is read again at delivery: taken away, the registered receiver is refused
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = []
    refused = _webhook_delivery(user, "evt-ssrf-2")
    assert [a["outcome"] for a in _attempts(api, user, refused)] == ["refused_address"]
    assert webhook_receiver.requests == []
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    sent = _webhook_delivery(user, "evt-ssrf-3")
    assert [a["outcome"] for a in _attempts(api, user, sent)] == ["delivered"]
    assert len(webhook_receiver.requests) == 1


@DB
def test_an_allowlisted_name_is_connected_at_the_checked_address_with_its_own_host_header(
    cast, settings, resolver, webhook_receiver, celery_eager
):
    """The name is resolved once, by the check; the socket goes to that address and the request still says
    which host it is for."""
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["receiver.intranet.example"]
    resolver.names["receiver.intranet.example"] = ["127.0.0.1"]
    port = webhook_receiver.url.split(":")[2].split("/")[0]
    subscriptions.webhook_endpoint_set(
        user=cast.ent_member, url=f"http://receiver.intranet.example:{port}/in"
    )
    resolver.lookups.clear()
    delivery = _webhook_delivery(cast.ent_member)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    [request] = webhook_receiver.requests
    assert request.headers["Host"] == f"receiver.intranet.example:{port}"
    assert resolver.lookups == ["receiver.intranet.example"]  # one lookup per delivery, the checked one


class _Redirecting(BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_POST(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(307)
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@DB
def test_a_redirect_is_not_followed_and_counts_as_a_failure(cast, api, settings, celery_eager):
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    _Redirecting.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        subscriptions.webhook_endpoint_set(
            user=cast.ent_member, url=f"http://127.0.0.1:{server.server_port}/in"
        )
        delivery = _webhook_delivery(cast.ent_member)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert _Redirecting.paths == ["/in"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error == "http_error"
    assert [(a["outcome"], a["status_class"]) for a in _attempts(api, cast.ent_member, delivery)] == [
        ("http_error", "3xx")
    ]


@DB
def test_the_user_sees_a_coarse_outcome_never_the_operating_systems_error(cast, api, settings, celery_eager):
    """A closed port on an allowlisted host: `connection_failed`, not "Connection refused"."""
    import socket

    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    subscriptions.webhook_endpoint_set(user=cast.ent_member, url=f"http://127.0.0.1:{closed_port}/in")
    delivery = _webhook_delivery(cast.ent_member)
    shown = api(cast.ent_member).get(f"/api/v1/notifications/deliveries/{delivery.pk}/")
    assert [a["outcome"] for a in shown.json()["attempt_log"]] == ["connection_failed"]
    assert shown.json()["last_error"] == "connection_failed"
    assert "refused" not in shown.content.decode().lower() and "errno" not in shown.content.decode().lower()


@pytest.fixture
def tls_receiver(monkeypatch, settings, resolver) -> Iterator[dict]:
    """An https receiver on 127.0.0.1 with a certificate for `hooks.tls.example` from a test CA, which the
    sender's TLS context trusts; records the SNI name and Host header of what it receives."""
    import ssl

    import trustme

    from services.notify import webhooks

    authority = trustme.CA()
    seen: dict = {"sni": [], "hosts": []}
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("hooks.tls.example").configure_cert(server_context)
    server_context.sni_callback = lambda _socket, name, _context: seen["sni"].append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen["hosts"].append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    def trusting_context() -> ssl.SSLContext:
        context = ssl.create_default_context()
        authority.configure_trust(context)
        return context

    monkeypatch.setattr(webhooks, "tls_context", trusting_context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    seen["port"] = server.server_port
    for name in ("hooks.tls.example", "other.tls.example"):
        resolver.names[name] = ["127.0.0.1"]
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["hooks.tls.example", "other.tls.example"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@DB
def test_https_to_the_checked_address_verifies_the_certificate_against_the_host_name(
    cast, api, tls_receiver, celery_eager
):
    port = tls_receiver["port"]
    subscriptions.webhook_endpoint_set(user=cast.ent_member, url=f"https://hooks.tls.example:{port}/in")
    delivery = _webhook_delivery(cast.ent_member, "evt-tls-1")
    assert [a["outcome"] for a in _attempts(api, cast.ent_member, delivery)] == ["delivered"]
    assert tls_receiver["sni"] == ["hooks.tls.example"]
    assert tls_receiver["hosts"] == [f"hooks.tls.example:{port}"]

    # the same address under a name the certificate is not for: the TLS check fails, nothing is sent
    subscriptions.webhook_endpoint_set(user=cast.ent_member, url=f"https://other.tls.example:{port}/in")
    mismatch = _webhook_delivery(cast.ent_member, "evt-tls-2")
    assert [a["outcome"] for a in _attempts(api, cast.ent_member, mismatch)] == ["connection_failed"]
    assert tls_receiver["hosts"] == [f"hooks.tls.example:{port}"]


def test_a_name_lookup_that_hangs_ends_at_the_delivery_deadline(monkeypatch):
    """The deadline covers the lookup too (a slow authoritative server is another way to hold a worker)."""
    import time

    from services.notify import webhooks

    released = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        released.wait(10)
        return ["93.184.215.14"]

    monkeypatch.setattr(webhooks, "resolve", hanging)
    started = time.monotonic()
    try:
        result = webhooks.webhook_post(
            url="https://slow-dns.example.net/in",
            secret="s",
            payload={},
            delivery_id="1",
            event_id="e",
            timeout=1.0,
        )
    finally:
        released.set()
    assert result.outcome == "timeout" and time.monotonic() - started < 1.5
