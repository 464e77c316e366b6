"""Signed webhook requests, sent only to public internet addresses.

Signing: the receiver checks requests with the snippet in WEBHOOKS.md (tested against this code):
`X-Market-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>` and `X-Market-Timestamp: <unix
seconds>`, so a forged body fails the HMAC and a replayed old request fails the timestamp window.

Reaching the receiver safely (any user chooses the URL, so the market must not become their way into the
internal network, or a port scanner of it):
- the host is resolved and EVERY address it resolves to must be public (`address_is_public`), at registration
  and again at each delivery (DNS can change between the two, or on purpose between two lookups);
- the connection goes to the address that was checked (pinned), with the original Host header and, for https,
  TLS with SNI and certificate verification against the host name, so a second lookup cannot swap it;
- no redirect is followed (a 3xx is a failure), and the whole exchange, name lookup included, has one
  deadline: a receiver trickling one byte at a time cannot hold a worker past it;
- the user sees only a coarse outcome (`Outcome`); the detail stays in the server's log.
An operator can allow named hosts on private addresses (on-premises receivers):
`NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS`."""

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from urllib.parse import quote, urlsplit

from services.notify.conf import setting
from services.notify.models import Outcome

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Market-Signature"
TIMESTAMP_HEADER = "X-Market-Timestamp"
EVENT_HEADER = "X-Market-Event"
DELIVERY_HEADER = "X-Market-Delivery"
DEFAULT_PORTS = {"http": 80, "https": 443}
#: characters a path or query keeps as they are (RFC 3986 reserved and unreserved ones, and existing escapes)
URL_SAFE = "/%:@!$&'()*+,;=~-._?"
#: below 1024 only the web ports: a webhook must not be aimed at a public host's SMTP, SSH or other service
LOWEST_OTHER_PORT = 1024


class UrlRefusal(StrEnum):
    """Why a webhook URL is refused (at registration, the message tells the user what to change)."""

    SCHEME = "scheme"
    CREDENTIALS = "credentials"
    PORT = "port"
    ADDRESS = "address"


class WebhookUrlRefused(Exception):
    def __init__(self, reason: UrlRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class ResolutionTimeout(Exception):
    """The name lookup did not finish before the delivery's deadline."""


#: addresses `ipaddress` still calls global that are not reachable public hosts
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in (
        "192.0.0.0/24",  # IETF protocol assignments (newer Pythons call parts of it global)
        "192.88.99.0/24",  # the deprecated 6to4 relay anycast
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "fec0::/10",  # the deprecated IPv6 site-local range
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form reaches: IPv4-mapped, 6to4, or well-known-prefix NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(text: str) -> bool:
    """True for a globally routable unicast address. Refused: loopback, private, link-local, CGNAT
    (100.64/10), multicast, reserved, unspecified, documentation and benchmarking ranges, IPv6 unique-local,
    link-local and site-local; an IPv6 form embedding IPv4 (mapped, 6to4, NAT64) is judged by the IPv4 address
    it reaches."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:  # only link-local and multicast addresses have a zone
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_is_public(str(embedded))
    flagged = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
    return address.is_global and not flagged and not any(address in network for network in _NOT_PUBLIC)


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (TCP), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: the name lookup; tests put a stub here that answers the address under test
resolve: Callable[[str, int], list[str]] = system_resolve
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's parts, and the checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _parts(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").rstrip(".").encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as error:
        raise WebhookUrlRefused(UrlRefusal.ADDRESS) from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise WebhookUrlRefused(UrlRefusal.SCHEME)
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused(UrlRefusal.CREDENTIALS)
    if port is not None and port < LOWEST_OTHER_PORT and port not in DEFAULT_PORTS.values():
        raise WebhookUrlRefused(UrlRefusal.PORT)
    if not host:
        raise WebhookUrlRefused(UrlRefusal.ADDRESS)
    # percent-encoded as sent (an IRI's non-ASCII path reaches the receiver as UTF-8 escapes)
    path = quote(parts.path or "/", safe=URL_SAFE) + (
        f"?{quote(parts.query, safe=URL_SAFE)}" if parts.query else ""
    )
    return scheme, host, port or DEFAULT_PORTS[scheme], path


def _allowed_private(host: str) -> bool:
    allowed = {name.lower().rstrip(".") for name in setting("NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS")}
    return host.lower() in allowed


def webhook_target(url: str, *, timeout: float | None = None) -> Target:
    """Check a webhook URL and resolve it to the address to connect to. Raises `WebhookUrlRefused` when the
    URL or any address it resolves to may not be used, `ResolutionTimeout` past `timeout` seconds, and
    `OSError` when the name does not resolve."""
    scheme, host, port, path = _parts(url)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        lookup = _lookups.submit(resolve, host, port)
        try:
            addresses = lookup.result(timeout=timeout)
        except FutureTimeout as error:
            raise ResolutionTimeout(host) from error
    if not addresses:
        raise OSError(f"{host} has no address")
    if not _allowed_private(host) and not all(address_is_public(address) for address in addresses):
        raise WebhookUrlRefused(UrlRefusal.ADDRESS)
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def secret_generate() -> str:
    return secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt (a webhook request, or an e-mail) came to."""

    outcome: Outcome
    status_code: int | None = None
    #: for the server's log and the admin only, never shown to the user
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.DELIVERED


class Deadline:
    """One time limit for a whole exchange. Socket timeouts bound each read, not their sum, so when the time
    is up a timer thread shuts the watched socket down, which ends any read or handshake in progress."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        return max(0.001, self.ends - time.monotonic())

    def watch(self, connection: socket.socket) -> None:
        with self._lock:
            self._socket = connection
            if self.expired:
                self._shut()

    def _shut(self) -> None:
        # the socket object, never a bare descriptor: once closed, its fileno() is -1 and this does nothing,
        # so a descriptor number reused by another connection can never be hit
        if self._socket is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut()

    def __enter__(self) -> "Deadline":
        self._timer = threading.Timer(self.remaining(), self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ):
        if self._timer is not None:
            self._timer.cancel()


def tls_context() -> ssl.SSLContext:
    """Certificate and host name verification with the system's trust store."""
    return ssl.create_default_context()


def _connection(target: Target, deadline: Deadline) -> http.client.HTTPConnection:
    """An HTTP connection to `target.host` whose socket goes to the checked address: the Host header, SNI and
    the certificate check use the name, the TCP connection uses the address (no second lookup). TLS is set up
    here rather than by HTTPSConnection so that the deadline watches the socket during the handshake too."""
    connection = http.client.HTTPConnection(target.host, target.port, timeout=deadline.remaining())
    connection.default_port = DEFAULT_PORTS[target.scheme]  # the Host header names a port only when unusual

    def connect_pinned(_address, timeout, source_address=None) -> socket.socket:
        plain = socket.create_connection((target.address, target.port), timeout, source_address)
        deadline.watch(plain)
        if target.scheme != "https":
            return plain
        secure = tls_context().wrap_socket(plain, server_hostname=target.host, do_handshake_on_connect=False)
        deadline.watch(secure)
        secure.do_handshake()
        return secure

    connection._create_connection = connect_pinned  # type: ignore[attr-defined]
    return connection


def webhook_post(
    *, url: str, secret: str, payload: dict, delivery_id: str, event_id: str, timeout: float
) -> DeliveryResult:
    """POST the payload as JSON with its signature, within `timeout` seconds in all; a 2xx answer is success,
    anything else (a redirect included) a failure."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "tech-market-webhooks/1",
        "Connection": "close",
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_HEADER: event_id,
        DELIVERY_HEADER: delivery_id,
    }
    deadline = Deadline(timeout)
    try:
        target = webhook_target(url, timeout=deadline.remaining())
    except WebhookUrlRefused as refusal:
        return DeliveryResult(Outcome.REFUSED_ADDRESS, detail=f"refused: {refusal.reason}")
    except ResolutionTimeout:
        return DeliveryResult(Outcome.TIMEOUT, detail="name lookup timed out")
    except OSError as error:
        return DeliveryResult(Outcome.CONNECTION_FAILED, detail=f"name lookup failed: {error}")
    connection = _connection(target, deadline)
    try:
        with deadline:
            connection.request("POST", target.path, body=body, headers=headers)
            status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        timed_out = deadline.expired or isinstance(error, TimeoutError)
        outcome = Outcome.TIMEOUT if timed_out else Outcome.CONNECTION_FAILED
        return DeliveryResult(outcome, detail=f"{target.address}: {error!r}"[:500])
    finally:
        connection.close()
    if 200 <= status < 300:
        return DeliveryResult(Outcome.DELIVERED, status)
    return DeliveryResult(Outcome.HTTP_ERROR, status, detail=f"HTTP {status}")
