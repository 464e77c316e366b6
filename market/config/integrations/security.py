"""Secret key, allowed hosts, HTTPS and the proxies in front of the web server.

Outside debug the process refuses to start without its own `DJANGO_SECRET_KEY` and `DJANGO_ALLOWED_HOSTS`:
a key that ships in the repository lets anyone sign a JWT for any user. In debug (`make run`, which keeps
a generated key in `.run/`) a missing key becomes a random one for this process only, never a fixed one."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from market.config.env import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _required(name: str, value: object) -> None:
    if not value and not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. Outside debug (DJANGO_DEBUG unset or false) the market starts only with "
            f"{name} in its environment; see the Environment table of the README."
        )


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
_required("DJANGO_SECRET_KEY", SECRET_KEY)
SECRET_KEY = SECRET_KEY or get_random_secret_key()

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
_required("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS)
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

#: How many reverse proxies in front of the web server append to `X-Forwarded-For`. Only their entries are
#: believed: with 0 (the default) the header is ignored and the client is the socket's peer, so a forged
#: header cannot give each login attempt a new address. Throttling and the login lockout both use it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
#: Set behind a proxy that terminates TLS, e.g. `HTTP_X_FORWARDED_PROTO` (the proxy must overwrite it).
_proxy_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
#: Paths (regular expressions without the leading slash) answered over plain HTTP too: the probes of the
#: orchestrator reach the pod directly, without TLS.
SECURE_REDIRECT_EXEMPT = env.list("DJANGO_SECURE_REDIRECT_EXEMPT", default=[])
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=False)
