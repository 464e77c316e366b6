"""/api/v1/subscriptions/ and /api/v1/notifications/: validation naming the field, ownership, inbox reads."""

import pytest
from django.db import transaction

from services.notify.models import Notification, NotificationKind, SubscriptionKey
from services.notify.rendering import LANGUAGES, render_message
from services.notify.services import fanout

pytestmark = pytest.mark.django_db


def test_a_saved_search_is_created_indexed_updated_and_deleted(cast, api):
    client = api(cast.ent_member)
    response = client.post(
        "/api/v1/subscriptions/",
        {
            "kind": "search",
            "name": "电池",
            "params": {"q": "锂离子电池", "ipc": "h01m4"},
            "channels": ["email"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["params"] == {"q": "锂离子电池", "ipc": "H01M 4"} and body["frequency"] == "instant"
    keys = set(SubscriptionKey.objects.filter(subscription_id=body["id"]).values_list("key", flat=True))
    assert keys == {"t:锂离子电池"}

    response = client.patch(
        f"/api/v1/subscriptions/{body['id']}/", {"params": {"field": "电学"}}, format="json"
    )
    assert response.status_code == 200, response.content
    keys = set(SubscriptionKey.objects.filter(subscription_id=body["id"]).values_list("key", flat=True))
    assert keys == {"field:电学"}
    assert [s["id"] for s in client.get("/api/v1/subscriptions/").json()["results"]] == [body["id"]]
    assert api(cast.ent2_member).get(f"/api/v1/subscriptions/{body['id']}/").status_code == 404
    assert client.delete(f"/api/v1/subscriptions/{body['id']}/").status_code == 204
    assert not SubscriptionKey.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "search", "params": {"colour": "red"}, "channels": ["in_app"]}, "params"),
        ({"kind": "search", "params": {"ipc": "not an ipc"}, "channels": ["in_app"]}, "params"),
        ({"kind": "search", "params": {"type": "car"}, "channels": ["in_app"]}, "params"),
        ({"kind": "search", "params": {"trl_min": 7, "trl_max": 3}, "channels": ["in_app"]}, "params"),
        ({"kind": "search", "params": {}, "channels": []}, "channels"),
        ({"kind": "search", "params": {}, "channels": ["sms"]}, "channels"),
        (
            {"kind": "listing", "target_kind": "patent", "target_id": 999999, "channels": ["in_app"]},
            "target_id",
        ),
        ({"kind": "organization", "target_id": 999999, "channels": ["in_app"]}, "target_id"),
        ({"kind": "ipc", "channels": ["in_app"]}, "ipc"),
        ({"kind": "everything", "channels": ["in_app"]}, "kind"),
    ],
)
def test_bad_subscriptions_get_a_400_naming_the_field(cast, api, payload, field):
    response = api(cast.ent_member).post("/api/v1/subscriptions/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_anonymous_users_cannot_subscribe_or_read_an_inbox(api):
    assert api(None).get("/api/v1/subscriptions/").status_code == 401
    assert api(None).get("/api/v1/notifications/unread_count/").status_code == 401


def _inbox(user, count: int) -> None:
    with transaction.atomic():
        for number in range(count):
            fanout.notifications_create(
                event_id=f"evt-{number}",
                event_type="market.deal.advanced.v1",
                kind="deal",
                recipients=[fanout.Recipient(user=user)],
                context={"fact": "advanced", "title": f"交易{number}", "stage": "contract", "amount": "1"},
            )


def test_inbox_lists_counts_and_marks_read(cast, api, settings):
    settings.NOTIFY_DEFAULT_CHANNELS = ["in_app"]
    _inbox(cast.ent_member, 3)
    _inbox(cast.ent2_member, 1)
    client = api(cast.ent_member)
    listed = client.get("/api/v1/notifications/").json()["results"]
    assert [item["subject"] for item in listed] == [
        "交易进入新阶段：交易2",
        "交易进入新阶段：交易1",
        "交易进入新阶段：交易0",
    ]
    assert client.get("/api/v1/notifications/unread_count/").json() == {"unread": 3}

    response = client.post(f"/api/v1/notifications/{listed[0]['id']}/read/")
    assert response.status_code == 200 and response.json()["is_read"] is True
    assert client.get("/api/v1/notifications/unread_count/").json() == {"unread": 2}
    assert len(client.get("/api/v1/notifications/?unread=true").json()["results"]) == 2

    foreign = Notification.objects.get(user=cast.ent2_member).pk
    assert client.post(f"/api/v1/notifications/{foreign}/read/").status_code == 404
    assert client.post("/api/v1/notifications/read_all/", {"ids": ["x"]}, format="json").status_code == 400
    assert client.post("/api/v1/notifications/read_all/", {}, format="json").json() == {"marked": 2}
    assert client.get("/api/v1/notifications/unread_count/").json() == {"unread": 0}
    assert api(cast.ent2_member).get("/api/v1/notifications/unread_count/").json() == {"unread": 1}


def test_preferences_and_webhook_endpoint(cast, api):
    client = api(cast.ent_member)
    assert client.get("/api/v1/notifications/preferences/").json()["channels"] == ["in_app", "email"]
    response = client.patch("/api/v1/notifications/preferences/", {"quiet_start": "22:00"}, format="json")
    assert response.status_code == 400 and "quiet_end" in response.json()["error"]["fields"]
    response = client.patch(
        "/api/v1/notifications/preferences/",
        {"quiet_start": "22:00", "quiet_end": "07:00", "language": "en"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["language"] == "en"

    assert client.get("/api/v1/notifications/webhook/").status_code == 404
    assert client.put("/api/v1/notifications/webhook/", {"url": "ftp://x.example"}).status_code == 400
    first = client.put("/api/v1/notifications/webhook/", {"url": "https://hooks.example.org/m"}).json()
    assert len(first["secret"]) == 64 and first["is_active"]
    again = client.put("/api/v1/notifications/webhook/", {"url": "https://hooks.example.org/n"}).json()
    assert again["secret"] == first["secret"]
    rotated = client.put(
        "/api/v1/notifications/webhook/", {"url": "https://hooks.example.org/n", "rotate_secret": True}
    ).json()
    assert rotated["secret"] != first["secret"]
    assert client.delete("/api/v1/notifications/webhook/").status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"muted_kinds": ["no_such_kind"]}, "muted_kinds"),
        ({"muted_kinds": ["outbid", "outbid"]}, "muted_kinds"),
        ({"muted_kinds": "outbid"}, "muted_kinds"),
        ({"channels": ["email", "email"]}, "channels"),
        ({"channels": ["in_app", "sms"]}, "channels"),
        ({"channels": ["email"], "muted_kinds": ["deal", "Deal"]}, "muted_kinds"),
    ],
)
def test_bad_preferences_get_a_400_naming_the_field_and_change_nothing(cast, api, payload, field):
    client = api(cast.ent_member)
    assert client.patch(
        "/api/v1/notifications/preferences/", {"muted_kinds": ["bid_placed"]}, format="json"
    ).json()["muted_kinds"] == ["bid_placed"]

    response = client.patch("/api/v1/notifications/preferences/", payload, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    after = client.get("/api/v1/notifications/preferences/").json()
    assert (after["channels"], after["muted_kinds"]) == (["in_app", "email"], ["bid_placed"])


def test_every_kind_a_user_can_mute_is_one_the_market_sends_in_both_languages(cast, api):
    every = [kind.value for kind in NotificationKind]
    response = api(cast.ent_member).patch(
        "/api/v1/notifications/preferences/", {"muted_kinds": every}, format="json"
    )
    assert response.status_code == 200 and response.json()["muted_kinds"] == every
    for kind in NotificationKind:
        for language in LANGUAGES:
            subject, body = render_message(kind, language, {"title": "标题", "link": "http://x/"})
            assert subject and body, (kind, language)


def test_an_in_app_notification_cannot_be_resent(cast, api, settings):
    settings.NOTIFY_DEFAULT_CHANNELS = ["in_app"]
    _inbox(cast.ent_member, 1)
    notification = Notification.objects.get()
    response = api(cast.ent_member).post(f"/api/v1/notifications/deliveries/{notification.pk}/resend/")
    assert response.status_code == 404  # deliveries are e-mail and webhook rows only


def test_a_hidden_listing_or_organization_cannot_be_followed_and_answers_like_a_missing_one(cast, api):
    """Following is allowed for exactly what the target's detail endpoint shows the user: a draft of another
    organization (or a pending organization) answers the same 400 as an id that does not exist."""
    from tests import factories

    client = api(cast.ent_member)
    draft = factories.patent(cast.university, status="draft", title="未公开的草稿")
    demand_draft = factories.demand(cast.enterprise2, status="draft")
    published = factories.patent(cast.university)

    def follow(**target):
        payload = {"kind": "listing", "channels": ["in_app"], **target}
        return client.post("/api/v1/subscriptions/", payload, format="json")

    assert client.get(f"/api/v1/patents/{draft.pk}/").status_code == 404  # what the detail endpoint says
    missing = follow(target_kind="patent", target_id=draft.pk + 100_000)
    hidden = follow(target_kind="patent", target_id=draft.pk)
    assert missing.status_code == hidden.status_code == 400, hidden.content
    assert hidden.json() == missing.json()
    assert hidden.json()["error"]["fields"] == {"target_id": ["该信息不存在。"]}
    hidden_demand = follow(target_kind="demand", target_id=demand_draft.pk)
    assert hidden_demand.json() == follow(target_kind="demand", target_id=demand_draft.pk + 100_000).json()
    assert follow(target_kind="patent", target_id=published.pk).status_code == 201
    # the owner's own members may follow their draft: they can read it
    own = api(cast.uni_member).post(
        "/api/v1/subscriptions/",
        {"kind": "listing", "target_kind": "patent", "target_id": draft.pk, "channels": ["in_app"]},
        format="json",
    )
    assert own.status_code == 201, own.content

    def follow_org(organization_id):
        payload = {"kind": "organization", "target_id": organization_id, "channels": ["in_app"]}
        return client.post("/api/v1/subscriptions/", payload, format="json")

    pending, absent = follow_org(cast.pending_university.pk), follow_org(cast.pending_university.pk + 100_000)
    assert pending.status_code == absent.status_code == 400 and pending.json() == absent.json()
    assert follow_org(cast.university.pk).status_code == 201
