"""The subscription index: anchor keys, exact verification of every saved-search parameter, and candidate
fetching that stays small however many subscriptions there are."""

import pytest

from services.notify.matching import candidates, listing_facts, matching_subscriptions, subscription_keys
from services.notify.services import subscriptions

PATENT = {
    "id": 11,
    "title": "一种锂离子电池正极材料及其制备方法",
    "abstract": "提高循环寿命。",
    "ipc_codes": ["H01M 4/525", "H01M 10/0525"],
    "field": "电化学",
    "price": "450000.00",
    "legal_status": "granted",
    "owner": {
        "id": 3,
        "org_type": "university",
        "province_code": "330000",
        "city_code": "330100",
        "county_code": "330106",
    },
}
ACHIEVEMENT = {
    "id": 12,
    "name": "高镍正极包覆技术",
    "keywords": ["正极", "包覆"],
    "teaser": "循环寿命提升30%",
    "field": "材料科学与工程",
    "trl": 6,
    "price": "800000.00",
    "transfer_modes": ["licence"],
    "owner": {
        "id": 4,
        "org_type": "institute",
        "province_code": "320000",
        "city_code": "320100",
        "county_code": "320102",
    },
}


@pytest.mark.parametrize(
    ("params", "kind", "snapshot", "expected"),
    [
        ({"q": "锂离子电池"}, "patent", PATENT, True),
        ({"q": "离子 正极"}, "patent", PATENT, True),  # search-mode segmentation finds sub-words
        ({"q": "钠离子电池"}, "patent", PATENT, False),
        ({"ipc": "H01M 4/"}, "patent", PATENT, True),
        ({"ipc": "H01M 4/52"}, "patent", PATENT, True),
        ({"ipc": "H01M 4/58"}, "patent", PATENT, False),
        ({"ipc": "H01G"}, "patent", PATENT, False),
        ({"field": "电化学", "region": "330100"}, "patent", PATENT, True),
        ({"field": "电化学", "region": "320000"}, "patent", PATENT, False),
        ({"type": "achievement,demand"}, "patent", PATENT, False),
        ({"type": "patent", "legal_status": "granted", "price_max": "500000"}, "patent", PATENT, True),
        ({"price_max": "400000"}, "patent", PATENT, False),
        ({"trl_min": 5, "transfer_mode": "licence"}, "achievement", ACHIEVEMENT, True),
        ({"trl_min": 7}, "achievement", ACHIEVEMENT, False),
        ({"trl_min": 1}, "patent", PATENT, False),  # a patent has no TRL
        ({"owner_type": "institute", "q": "包覆"}, "achievement", ACHIEVEMENT, True),
        ({"ipc": "H01M"}, "achievement", ACHIEVEMENT, False),
        ({}, "achievement", ACHIEVEMENT, True),
    ],
)
def test_a_saved_search_matches_exactly_when_every_parameter_holds(cast, params, kind, snapshot, expected):
    subscription = subscriptions.subscription_create(
        user=cast.ent_member, kind="search", params=params, channels=["in_app"]
    )
    facts = listing_facts(kind, snapshot)
    assert (subscription in matching_subscriptions(facts)) is expected
    if expected:  # the anchor key is one the listing carries, so the index finds it
        assert (
            set(subscription_keys(kind="search", params=params, target_kind="", target_id=None)) & facts.keys
        )


def test_achievements_are_classified_through_their_linked_patents(cast):
    subscriptions.subscription_create(
        user=cast.ent_member, kind="ipc", params={"ipc": "H01M"}, channels=["in_app"]
    )
    assert matching_subscriptions(listing_facts("achievement", ACHIEVEMENT)) == []
    linked = listing_facts("achievement", ACHIEVEMENT, linked_ipc_codes=["H01M 4/36"])
    assert [sub.kind for sub in matching_subscriptions(linked)] == ["ipc"]


def test_follows_of_a_listing_and_an_organization(cast):
    from tests import factories

    patent = factories.patent(cast.university)
    snapshot = {**PATENT, "id": patent.pk, "owner": {**PATENT["owner"], "id": cast.university.pk}}
    listing = subscriptions.subscription_create(
        user=cast.ent_member,
        kind="listing",
        target_kind="patent",
        target_id=patent.pk,
        channels=["in_app"],
    )
    org = subscriptions.subscription_create(
        user=cast.ent2_member,
        kind="organization",
        target_id=cast.university.pk,
        channels=["in_app"],
    )
    assert set(matching_subscriptions(listing_facts("patent", snapshot))) == {listing, org}
    assert matching_subscriptions(listing_facts("achievement", ACHIEVEMENT)) == []


def test_candidates_come_from_the_index_not_from_every_subscription(cast, django_assert_num_queries):
    from services.notify.models import Subscription, SubscriptionKey

    words = ["光伏", "土壤", "芯片", "疫苗", "轴承", "涂料", "钢材", "无人机", "水泥", "纺织"]
    subs = Subscription.objects.bulk_create(
        Subscription(user=cast.ent_member, kind="search", params={"q": f"{word}{n}"}, channels=["in_app"])
        for n in range(50)
        for word in words
    )
    SubscriptionKey.objects.bulk_create(
        SubscriptionKey(subscription=sub, key=key)
        for sub in subs
        for key in subscription_keys(kind="search", params=sub.params, target_kind="", target_id=None)
    )
    wanted = subscriptions.subscription_create(
        user=cast.ent_member, kind="search", params={"q": "正极"}, channels=["in_app"]
    )
    facts = listing_facts("patent", PATENT)
    with django_assert_num_queries(1):
        found = candidates(facts.keys)
    assert found == [wanted]
