"""Account lockout after repeated failed sign-ins (django-axes), for the JWT endpoint and the admin alike.

The lock is per account (username), not per address: an attacker who rotates addresses, or forges
`X-Forwarded-For`, still counts against the account. Addresses are limited separately by the `auth`
throttle. An administrator unlocks an account early (admin "Access attempts", `manage.py axes_reset_username`,
or `POST /api/v1/users/unlock/`)."""

from datetime import timedelta

from market.config.env import env

AXES_FAILURE_LIMIT = env.int("AUTH_LOCKOUT_FAILURES", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AUTH_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
# the cool-off runs from the failure that locked the account: attempts during the lock neither extend it
# nor (with the right password) let anyone in
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_HTTP_RESPONSE_CODE = 403
AXES_CLIENT_IP_CALLABLE = "market.accounts.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "market.accounts.lockout.lockout_response"
AXES_VERBOSE = False  # no banner from every process at start; lockouts are still logged as warnings
# axes.W006 asks to lock addresses as well. Addresses are limited by the `auth` throttle instead, which counts
# every attempt by the real client address: a lock by address would let a few typos behind one campus NAT
# lock everyone behind it out of their accounts.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
