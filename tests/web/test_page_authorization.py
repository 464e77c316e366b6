"""Who may open which page, for every role, over every page of the site: the API's rules hold on the pages
(anonymous visitors are sent to sign in, other roles get 403, what a role may not see is 404). Every URL of
the site is listed here, as a page or as an action, so a new one cannot be added without its rule."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from market.trading.services.offers import offer_make
from market.web import urls as web_urls
from tests import factories
from tests.trading.helpers import deal_between, open_auction

ROLES = (
    "anonymous",
    "platform_admin",
    "uni_member",
    "ent_member",
    "broker",
    "gov_member",
    "registrar",
    "orgless",
    "pending_member",
)
#: what each role gets, in the order of ROLES: a status, or "in" for a redirect to the sign-in page
EVERYONE = (200,) * 9
SIGNED_IN = ("in",) + (200,) * 8
SUPPLIERS = ("in", 403, 200, 403, 403, 403, 403, 403, 403)
ENTERPRISES = ("in", 403, 403, 200, 403, 403, 403, 403, 403)
REVIEWERS = ("in", 200, 403, 403, 403, 403, 403, 403, 403)

#: URL name → (arguments, query, answers by role)
PAGES: dict[str, tuple[Callable[[Any], dict[str, Any]], str, tuple[Any, ...]]] = {
    "home": (lambda o: {}, "", EVERYONE),
    "counts": (lambda o: {}, "", EVERYONE),
    "patent": (lambda o: {"pk": o.patent.pk}, "", EVERYONE),
    "achievement": (lambda o: {"pk": o.achievement.pk}, "", EVERYONE),
    "demand": (lambda o: {"pk": o.demand.pk}, "", EVERYONE),
    "expert": (lambda o: {"pk": o.expert.pk}, "", EVERYONE),
    "notices": (lambda o: {}, "", EVERYONE),
    "auctions": (lambda o: {}, "", EVERYONE),
    "auction": (lambda o: {"pk": o.auction.pk}, "", EVERYONE),
    "auction-live": (lambda o: {"pk": o.auction.pk}, "", EVERYONE),
    "sign-in": (lambda o: {}, "", (200,) + (302,) * 8),
    "my-listings": (lambda o: {}, "", SUPPLIERS),
    "my-patent-new": (lambda o: {}, "", SUPPLIERS),
    "my-achievement-new": (lambda o: {}, "", SUPPLIERS),
    "my-listing": (lambda o: {"kind": "patents", "pk": o.patent.pk}, "", SUPPLIERS),
    "my-listing-edit": (lambda o: {"kind": "patents", "pk": o.patent.pk}, "", SUPPLIERS),
    "my-listing-auction": (lambda o: {"kind": "patents", "pk": o.patent.pk}, "", SUPPLIERS),
    "review": (lambda o: {}, "", REVIEWERS),
    "review-item": (lambda o: {"kind": "patents", "pk": o.pending.pk}, "", REVIEWERS),
    "deals": (lambda o: {}, "", SIGNED_IN),
    # the parties and the oversight of the seller's county read a deal; a broker without a mandate does not
    "deal": (lambda o: {"pk": o.deal.pk}, "", ("in", 200, 200, 200, 404, 200, 200, 404, 404)),
    "registrations": (lambda o: {}, "", ("in", 200, 403, 403, 403, 403, 200, 403, 403)),
    "dashboard": (lambda o: {}, "", ("in", 200, 403, 403, 403, 200, 200, 403, 403)),
    "my-demands": (lambda o: {}, "", ENTERPRISES),
    "demand-create": (lambda o: {}, "", ENTERPRISES),
    "my-demand": (lambda o: {"pk": o.demand.pk}, "", ENTERPRISES),
    "demand-edit": (lambda o: {"pk": o.demand.pk}, "", ENTERPRISES),
    "offer-make": (lambda o: {}, "?listing_kind=patent&listing_id={patent}", ENTERPRISES),
    "my-offers": (lambda o: {}, "", SIGNED_IN),
    # an offer is its two sides' business (the enterprise made it on the university's patent)
    "offer": (lambda o: {"pk": o.offer.pk}, "", ("in", 404, 200, 200, 404, 404, 404, 404, 404)),
    "inbox": (lambda o: {}, "", SIGNED_IN),
    # polled by the header: once signed out, 286 tells htmx to stop polling and drop the link
    "inbox-unread": (lambda o: {}, "", (286,) + (200,) * 8),
    "subscriptions": (lambda o: {}, "", SIGNED_IN),
    "notification-settings": (lambda o: {}, "", SIGNED_IN),
}
#: pages that need a running search engine (tested with it in test_public_pages and test_listing_pages)
SEARCH_PAGES = {"search", "suggest", "similar"}


@dataclass
class Objects:
    patent: Any
    pending: Any
    achievement: Any
    demand: Any
    expert: Any
    deal: Any
    auction: Any
    offer: Any


@pytest.fixture
def objects(cast) -> Objects:
    """One of everything a page shows, owned by the university and the first enterprise of the cast."""
    return Objects(
        patent=factories.patent(cast.university),
        pending=factories.patent(cast.university, status="pending"),
        achievement=factories.achievement(cast.university),
        demand=factories.demand(cast.enterprise),
        expert=factories.expert(cast.university),
        deal=deal_between(cast.uni_member, cast.ent_member),
        auction=open_auction(cast.uni_member, factories.patent(cast.university)),
        offer=offer_make(
            user=cast.ent_member,
            listing_kind="patent",
            listing_id=factories.patent(cast.university).pk,
            amount=Decimal("200000"),
            transaction_mode="transfer",
        ),
    )


def _client(cast: Any, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(getattr(cast, role))
    return client


def _answer(response: Any) -> Any:
    if response.status_code == 302 and response["Location"].startswith(reverse("web:sign-in")):
        return "in"
    return response.status_code


def _patterns() -> list[URLPattern]:
    return [pattern for pattern in web_urls.urlpatterns if isinstance(pattern, URLPattern)]


def test_every_page_answers_each_role_as_the_api_would(cast, objects) -> None:
    mismatches = []
    for name, (arguments, query, expected) in PAGES.items():
        path = reverse(f"web:{name}", kwargs=arguments(objects)) + query.format(patent=objects.patent.pk)
        for role, wanted in zip(ROLES, expected, strict=True):
            got = _answer(_client(cast, role).get(path))
            if got != wanted:
                mismatches.append(f"{path} as {role}: {got}, expected {wanted}")
    assert mismatches == []


def test_every_action_takes_only_a_signed_in_post(cast, objects) -> None:
    """The URLs that change something: a GET is refused (405), an anonymous POST is sent to sign in and
    changes nothing, and no URL of the site is missing from this file."""
    actions = [
        pattern
        for pattern in _patterns()
        if pattern.name not in PAGES and pattern.name not in SEARCH_PAGES | {"sign-out", "save-search"}
    ]
    assert len(actions) > 30
    identifiers = {"pk": objects.deal.pk, "kind": "patents", "milestone_id": 1, "registration_id": 1}
    identifiers |= {"objection_id": 1}
    identifiers |= {"action": "submit"}
    anonymous = Client()
    for pattern in actions:
        path = reverse(
            f"web:{pattern.name}", kwargs={key: identifiers[key] for key in pattern.pattern.converters}
        )
        assert anonymous.get(path).status_code in {405, 302}, path
        assert _answer(anonymous.post(path, {})) == "in", path
    assert objects.deal.audit.count() == 1  # only the opening


def test_sign_out_and_save_search_are_posts_only(cast) -> None:
    client = _client(cast, "ent_member")
    assert client.get(reverse("web:sign-out")).status_code == 405
    assert client.get(reverse("web:save-search")).status_code == 405
    assert _answer(Client().post(reverse("web:save-search"), {"q": "锂电池"})) == "in"


def test_a_post_without_the_csrf_token_is_refused(cast, objects) -> None:
    """Every form carries Django's CSRF token; a forged cross-site POST with the victim's session is refused
    before any view runs."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.ent_member)
    response = client.post(reverse("web:deal-sign", kwargs={"pk": objects.deal.pk}))
    assert response.status_code == 403
    assert objects.deal.audit.count() == 1
    page = client.get(reverse("web:deal", kwargs={"pk": objects.deal.pk})).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= page.count('method="post"') > 0


def test_the_server_error_page_stands_alone(rf) -> None:
    """The 500 page renders without the request's context (no user, no navigation), in Chinese and English."""
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "出错了" in body and "Something went wrong on our side" in body
