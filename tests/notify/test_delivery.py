"""Who hears of what, and how: the handler's recipients for trading facts, preferences and quiet hours,
digests, languages, one-click unsubscribe, webhook disabling and re-sending (real SMTP and HTTP on
loopback)."""

import uuid
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db import transaction
from django.utils import timezone

from market.catalog import services as catalog
from market.events.catalogue import (
    DealAdvanced,
    OfferCountered,
    OfferMade,
    ProposalShortlisted,
    ProposalSubmitted,
)
from services.common.consumer import ReceivedEvent
from services.notify.consumer import notify_handle
from services.notify.models import Channel, DeliveryStatus, Notification, WebhookEndpoint
from services.notify.services import deliveries, digests, subscriptions
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _handle(event) -> str:
    """Run the consumer's handler on a catalogue event, in one transaction as the consumer kit does."""
    received = ReceivedEvent(
        id=str(uuid.uuid4()),
        type=event.type,
        source="/test",
        time=None,
        key=event.key,
        data=event.data(),
        event=event,
        topic=event.topic,
        partition=0,
        offset=0,
    )
    with transaction.atomic():
        notify_handle(received)
    return received.id


def _listing_event(listing, fact_class, **extra):
    from market.catalog.services import _fact

    return _fact(fact_class, listing, **extra)


def _recipients(kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=kind, channel="in_app").values_list("user__username", flat=True)
    )


def _offer(cast, event_class, actor):
    return event_class(
        aggregate_id=5,
        version=1,
        offer_id=5,
        listing_kind="patent",
        listing_id=9,
        listing_title="一种锂离子电池正极材料",
        buyer_org_id=cast.enterprise.pk,
        buyer_user_id=cast.ent_member.pk,
        owner_org_id=cast.university.pk,
        amount="300000.00",
        transaction_mode="transfer",
        actor_user_id=actor.pk,
    )


def test_offers_go_to_the_other_side_and_deals_to_parties_and_broker_but_not_the_actor(cast, celery_eager):
    _handle(_offer(cast, OfferMade, cast.ent_member))
    assert _recipients("offer") == ["uni_admin", "uni_member"]
    Notification.objects.all().delete()
    _handle(_offer(cast, OfferCountered, cast.uni_member))
    assert _recipients("offer") == ["ent_member"]

    _handle(
        DealAdvanced(
            aggregate_id=3,
            version=2,
            deal_id=3,
            stage="contract",
            from_stage="negotiation",
            amount="300000.00",
            party_org_ids=[cast.university.pk, cast.enterprise.pk],
            broker_user_id=cast.broker.pk,
            actor_user_id=cast.ent_admin.pk,
            title="锂电池专利转让",
            seller_org_id=cast.university.pk,
            buyer_org_id=cast.enterprise.pk,
            transaction_mode="transfer",
            profile=factories.deal_profile(),
        )
    )
    assert _recipients("deal") == ["broker", "ent_member", "uni_admin", "uni_member"]

    proposal = {
        "aggregate_id": 4,
        "version": 1,
        "proposal_id": 4,
        "demand_id": 8,
        "demand_title": "储能电池热失控预警",
        "proposer_org_id": cast.institute.pk,
        "proposer_user_id": cast.inst_member.pk,
        "enterprise_org_id": cast.enterprise.pk,
        "amount": "200000.00",
    }
    _handle(ProposalSubmitted(**proposal))
    _handle(ProposalShortlisted(**proposal))
    assert _recipients("proposal") == ["ent_admin", "ent_member", "inst_member"]
    shortlisted = Notification.objects.get(kind="proposal", user=cast.inst_member)
    assert shortlisted.subject == "方案入围：储能电池热失控预警"


def test_review_and_owner_notices_in_each_users_language(cast, celery_eager):
    subscriptions.preference_update(user=cast.uni_member, language="en")
    patent = factories.patent(cast.university, status="draft", title="一种储能电池管理系统")
    catalog.listing_submit(listing=patent, user=cast.uni_member)
    rejected = catalog.listing_reject(listing=patent, reviewer=cast.platform_admin, reason="摘要不完整")
    from market.events.catalogue import ListingRejected, ListingSubmitted

    _handle(_listing_event(rejected, ListingSubmitted))
    _handle(_listing_event(rejected, ListingRejected))

    review = Notification.objects.get(kind="review_pending", user=cast.platform_admin)
    assert review.subject == "待审核：专利「一种储能电池管理系统」"
    english = Notification.objects.get(kind="listing_reviewed", user=cast.uni_member)
    assert english.subject == 'Not approved: patent "一种储能电池管理系统"'
    assert "Reason: 摘要不完整" in english.body
    chinese = Notification.objects.get(kind="listing_reviewed", user=cast.uni_admin)
    assert (
        chinese.subject == "审核未通过：专利「一种储能电池管理系统」" and "原因：摘要不完整" in chinese.body
    )


def _match_event(cast, title: str):
    from market.events.catalogue import ListingPublished

    return _listing_event(factories.patent(cast.university, title=title), ListingPublished)


def test_quiet_hours_hold_e_mail_but_not_the_inbox(cast, smtp, celery_eager):
    user = cast.ent_member
    user.email = "quiet@example.org"
    user.save()
    now = timezone.localtime()
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=2)).time()
    subscriptions.preference_update(
        user=user, quiet_start=start.replace(microsecond=0), quiet_end=end.replace(microsecond=0)
    )
    subscriptions.subscription_create(
        user=user, kind="search", params={"q": "储能"}, channels=["in_app", "email"]
    )
    _handle(_match_event(cast, "一种储能电池管理系统"))

    mail = Notification.objects.get(user=user, channel=Channel.EMAIL)
    assert mail.status == DeliveryStatus.PENDING and mail.attempts == 0
    assert mail.next_attempt_at > timezone.now() + timedelta(minutes=100)
    assert smtp.messages == []
    assert Notification.objects.filter(user=user, channel=Channel.IN_APP).count() == 1
    # once the quiet hours are over, the held mail goes out
    Notification.objects.filter(pk=mail.pk).update(next_attempt_at=timezone.now())
    assert deliveries.notification_deliver(notification_id=mail.pk) is None
    assert [message["To"] for message in smtp.messages] == ["quiet@example.org"]


def test_daily_digest_gathers_matches_into_one_mail_and_its_link_unsubscribes(cast, smtp, api, celery_eager):
    user = cast.ent_member
    user.email = "digest@example.org"
    user.save()
    subscription = subscriptions.subscription_create(
        user=user,
        kind="search",
        params={"q": "电池"},
        channels=["in_app", "email"],
        frequency="digest",
    )
    _handle(_match_event(cast, "一种储能电池管理系统"))
    _handle(_match_event(cast, "锂离子电池电解液"))
    _handle(_match_event(cast, "一种土壤修复方法"))
    assert smtp.messages == [], "digest subscriptions send nothing instantly"

    assert digests.digests_send() == 1
    [digest] = smtp.messages
    assert digest["Subject"].strip() == "网上技术市场每日摘要：2 条新消息"
    text = digest.get_content()
    assert "一种储能电池管理系统" in text and "锂离子电池电解液" in text and "土壤" not in text
    assert digests.digests_send() == 0, "each match is in one digest only"

    link = digest["List-Unsubscribe"].strip().strip("<>")
    response = api(None).get(urlparse(link).path)
    assert response.status_code == 200, response.content
    assert "已退订" in response.json()["detail"]
    subscription.refresh_from_db()
    assert subscription.channels == ["in_app"]
    _handle(_match_event(cast, "动力电池回收"))
    assert not Notification.objects.filter(user=user, channel=Channel.EMAIL, status="digest").exists()
    assert api(None).get("/api/v1/notifications/unsubscribe/forged-token/").status_code == 400


def test_one_click_unsubscribe_from_an_instant_mail_stops_that_subscriptions_mail(
    cast, smtp, api, celery_eager
):
    user = cast.ent_member
    user.email = "instant@example.org"
    user.save()
    subscriptions.subscription_create(user=user, kind="search", params={"q": "电池"}, channels=["email"])
    _handle(_match_event(cast, "一种储能电池管理系统"))
    [mail] = smtp.messages
    assert mail["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
    link = mail["List-Unsubscribe"].strip().strip("<>")
    assert link in mail.get_content().replace("\n", "")
    assert api(None).post(urlparse(link).path).status_code == 200
    _handle(_match_event(cast, "锂离子电池电解液"))
    assert len(smtp.messages) == 1


def test_a_webhook_failing_again_and_again_is_disabled_then_re_enabled_and_re_sent(
    cast, settings, webhook_receiver, api, celery_eager
):
    settings.NOTIFY_WEBHOOK_DISABLE_AFTER = 2
    webhook_receiver.failures = 2
    user = cast.ent_member
    subscriptions.preference_update(user=user, channels=["webhook"])
    subscriptions.webhook_endpoint_set(user=user, url=webhook_receiver.url)
    _handle(_offer(cast, OfferCountered, cast.uni_member))
    delivery = Notification.objects.get(user=user, channel=Channel.WEBHOOK)
    assert delivery.attempts == 1 and delivery.status == DeliveryStatus.PENDING  # the eager first try failed
    Notification.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    deliveries.notification_deliver(notification_id=delivery.pk)

    delivery.refresh_from_db()
    endpoint = WebhookEndpoint.objects.get(user=user)
    assert delivery.status == DeliveryStatus.FAILED and not endpoint.is_active and endpoint.disabled_at
    listed = api(user).get(f"/api/v1/notifications/deliveries/{delivery.pk}/").json()
    assert [(attempt["outcome"], attempt["status_class"]) for attempt in listed["attempt_log"]] == [
        ("http_error", "5xx"),
        ("http_error", "5xx"),
    ]

    assert api(user).put("/api/v1/notifications/webhook/", {"url": webhook_receiver.url}).status_code == 200
    response = api(user).post(f"/api/v1/notifications/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 202, response.content
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and len(webhook_receiver.requests) == 3
    assert api(user).post(f"/api/v1/notifications/deliveries/{delivery.pk}/resend/").status_code == 202
    assert len(webhook_receiver.requests) == 4, "a re-send goes out again on request"


def test_muted_kinds_and_users_without_an_address_get_no_mail(cast, smtp, celery_eager):
    subscriptions.preference_update(user=cast.uni_admin, muted_kinds=["offer"])
    cast.uni_member.email = "member@example.org"
    cast.uni_member.save()
    _handle(_offer(cast, OfferMade, cast.ent_member))
    assert _recipients("offer") == ["uni_member"]
    assert [message["To"] for message in smtp.messages] == ["member@example.org"]


def test_the_same_event_handled_twice_creates_nothing_new(cast, smtp, celery_eager):
    cast.uni_member.email = "member@example.org"
    cast.uni_member.save()
    event = _offer(cast, OfferMade, cast.ent_member)
    received = ReceivedEvent(
        id="fixed-id",
        type=event.type,
        source="/t",
        time=None,
        key=event.key,
        data=event.data(),
        event=event,
        topic=event.topic,
        partition=0,
        offset=0,
    )
    for _ in range(2):
        with transaction.atomic():
            notify_handle(received)
    assert Notification.objects.count() == 3  # two members in-app, one of them by e-mail
    assert len(smtp.messages) == 1
