"""Every link the notifications store (to the API's resources, `services/notify/links.py`) leads to the page
that shows the same thing, when the site has one; the rest stay the API's."""

import pytest
from django.urls import NoReverseMatch, reverse

from market.web.links import PAGE_OF, page_link
from services.notify import links


@pytest.mark.parametrize(
    ("link", "page"),
    [
        (links.listing_link("patent", 7), "/patents/7/"),
        (links.listing_link("achievement", 8), "/achievements/8/"),
        (links.listing_link("demand", 9), "/demands/9/"),
        (links.listing_link("expert", 10), "/experts/10/"),
        (links.search_link({"q": "电池", "type": "patent"}), "/search/?q=%E7%94%B5%E6%B1%A0&type=patent"),
        (links.review_link("patent"), "/review/#queue-patents"),
        (links.review_link("achievement"), "/review/#queue-achievements"),
        (links.review_link("demand"), "/review/#queue-demands"),
        (links.deal_link(11), "/deals/11/"),
        (links.registration_queue_link(), "/deals/registrations/"),
        (links.objection_queue_link(12), "/deals/12/#deal-notice"),
        (links.proposal_link(13), "/my/listings/#proposals-heading"),
        ("/api/v1/auctions/14/", "/auctions/14/"),
        ("/api/v1/auctions/", "/auctions/"),
        ("/api/v1/offers/15/", "/my/offers/15/"),
        ("/api/v1/offers/", "/my/offers/"),
        ("/api/v1/deals/?stage=signed", "/deals/?stage=signed"),
        ("/api/v1/demands/16/proposals/", "/my/demands/16/#proposals-heading"),
        ("/api/v1/notices/", "/notices/"),
        ("/api/v1/notifications/", "/notifications/"),
        ("/api/v1/subscriptions/", "/notifications/subscriptions/"),
        ("/api/v1/notifications/preferences/", "/notifications/settings/"),
    ],
)
def test_a_stored_link_leads_to_its_page(link: str, page: str) -> None:
    assert page_link(link) == page


def test_links_without_a_page_stay_the_apis() -> None:
    assert page_link(links.unsubscribe_link("abc")) == "/api/v1/notifications/unsubscribe/abc/"
    assert page_link("/api/v1/objections/?status=open") == "/api/v1/objections/?status=open"  # no deal named
    assert page_link("/api/v1/purchases/3/") == "/api/v1/purchases/3/"


def test_links_that_are_not_the_markets_lead_nowhere() -> None:
    assert page_link("") is None
    assert page_link("https://example.com/elsewhere/") is None


def _reversible(name: str) -> bool:
    for kwargs in ({}, {"pk": 1}):
        try:
            reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        return True
    return False


def test_every_page_named_exists() -> None:
    """A page renamed in `market/web/urls.py` breaks here, not in someone's inbox."""
    assert [page for page in PAGE_OF.values() if isinstance(page, str) and not _reversible(page)] == []
