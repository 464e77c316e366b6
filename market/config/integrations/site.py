"""The market's own public address: the base of every link it sends (notifications in the inbox, e-mail and
webhooks; the one-click unsubscribe). A deployment sets its public URL; `make run` sets it from its port."""

from market.config.env import env

MARKET_PUBLIC_URL = env.str("MARKET_PUBLIC_URL", default="http://127.0.0.1:8000")
