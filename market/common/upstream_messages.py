"""Messages Django and Simple JWT send to our clients that their shipped zh_Hans catalogs do not translate
(upstream changed or added the msgid after the translators' last pass). Marking them here lets
`makemessages` copy them into our catalog, which takes precedence over the packages' own;
tests/common/test_i18n.py checks they stay translated. Nothing imports this module at run time: only the
extractor reads it.

Drop an entry once the upstream catalog translates it."""

from django.utils.translation import gettext_noop, ngettext_lazy

UPSTREAM_MESSAGES = (
    # django.contrib.auth MinimumLengthValidator (Django 5.2 switched the msgid from %(min_length)d to %d)
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
    ),
    # rest_framework_simplejwt TokenRefreshSerializer, when the token's user was deactivated (added in 5.5)
    gettext_noop("No active account found for the given token."),
)
