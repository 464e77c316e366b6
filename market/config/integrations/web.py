"""The web site's static files (WhiteNoise, compressed and fingerprinted) and its Content-Security-Policy.

Scripts and styles come only from the site itself: no inline script, no inline style, no CDN. The
Swagger UI of /api/docs/ loads from a CDN with an inline script, and the Django admin uses inline
scripts, so both keep Django's own headers without this policy."""

from csp.constants import NONE, SELF

from market.config.env import env

#: File names with a content hash (cached for a year by browsers) need `collectstatic` first, as the image
#: build does; `make run` and the tests serve the source files under their own names.
STATIC_MANIFEST = env.bool("DJANGO_STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/", "/admin/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
#: without collected files, WhiteNoise serves each app's static folder itself
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
