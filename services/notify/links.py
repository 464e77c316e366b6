"""Every link the market sends (in-app, e-mail, webhooks), built in this one place: an absolute URL on the
site URL (`MARKET_PUBLIC_URL`, `market/config/integrations/site.py`) to what the notification is about.

There are no pages yet, so links lead to the API's resources (by their URL names, so they follow the URL
map). When pages exist, this is the module that points the links at them instead."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def site_link(path: str) -> str:
    """`path` (absolute, from the site's root) on the site's public address."""
    return settings.MARKET_PUBLIC_URL.rstrip("/") + path


def listing_link(kind: str, listing_id: int) -> str:
    """A patent, achievement, demand or expert profile."""
    return site_link(reverse(f"{kind}-detail", kwargs={"pk": listing_id}))


def review_link(kind: str) -> str:
    """The reviewers' queue of one kind of listing."""
    return site_link(reverse("review-queue", kwargs={"kind": f"{kind}s"}))


def deal_link(deal_id: int) -> str:
    return site_link(reverse("deal-detail", kwargs={"pk": deal_id}))


def registration_queue_link() -> str:
    """The registrar's queue of contracts awaiting a decision."""
    return site_link(reverse("registration-list"))


def objection_queue_link(deal_id: int) -> str:
    """The objections to one deal that await a ruling."""
    return site_link(f"{reverse('objection-list')}?{urlencode({'deal': deal_id, 'status': 'open'})}")


def proposal_link(proposal_id: int) -> str:
    return site_link(reverse("proposal-detail", kwargs={"pk": proposal_id}))


def search_link(params: Mapping[str, Any]) -> str:
    """A search with these query parameters (lists repeat their parameter)."""
    return site_link(f"{reverse('search')}?{urlencode(params, doseq=True)}")


def unsubscribe_link(token: str) -> str:
    """The one-click way out of an e-mail (a signed token, see `unsubscribe_url`)."""
    return site_link(reverse("notification-unsubscribe", kwargs={"token": token}))
