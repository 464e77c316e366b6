"""The notify consumer against the real broker, a real SMTP server and a real webhook receiver on loopback:
saved searches, review and owner notices, trading, redelivery and signed webhooks."""

import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition

from market.catalog import services as catalog
from market.events.catalogue import BidOutbid, BidPlaced
from market.events.publishing import publish
from services.common.models import HandledMessage
from services.notify.consumer import SPEC
from services.notify.models import Channel, DeliveryStatus, Notification
from services.notify.services import fanout, subscriptions
from tests import factories
from tests.events.kit import handle_everything
from tests.notify.conftest import webhook_verify
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _search(user, **params):
    return subscriptions.subscription_create(
        user=user,
        kind="search",
        name=params.pop("name", ""),
        params=params,
        channels=["in_app", "email"],
    )


def _publish(cast, **fields):
    """A patent through the real workflow: draft, submitted by its owner, approved by the reviewer."""
    patent = factories.patent(cast.university, status="draft", **fields)
    catalog.listing_submit(listing=patent, user=cast.uni_member)
    return catalog.listing_approve(listing=patent, reviewer=cast.platform_admin)


def _consume_everything(broker) -> None:
    handle_everything(broker, SPEC)


def _matched(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind="listing_matched").order_by("channel", "pk"))


def test_saved_searches_get_one_message_per_matching_listing_and_redelivery_sends_nothing_twice(
    cast, broker, smtp, celery_eager
):
    buyer, other = cast.ent_member, cast.ent2_member
    buyer.email, other.email = "buyer@example.org", "other@example.org"
    buyer.save(), other.save()
    battery = _search(buyer, name="电池", q="锂离子电池", ipc="H01M", type="patent")
    _search(buyer, name="电池-重复", q="正极材料")  # a second matching search must not double the message
    _search(other, name="光伏", q="光伏组件", region="330000")

    first = _publish(cast, title="一种锂离子电池正极材料及其制备方法", ipc_codes=["H01M 4/525"])
    second = _publish(cast, title="锂离子电池电解液添加剂", ipc_codes=["H01M 10/0567"])
    _publish(cast, title="一种光伏组件清洗机器人", ipc_codes=["H02S 40/10"])
    _publish(cast, title="一种土壤重金属修复方法", ipc_codes=["B09C 1/08"])
    _publish(cast, title="锂离子电池回收方法", ipc_codes=["C22B 7/00"])  # right words, wrong IPC class

    _consume_everything(broker)

    matched = _matched(buyer)
    assert [(n.channel, n.data["listing_id"]) for n in matched] == sorted(
        [
            (Channel.EMAIL, first.pk),
            (Channel.EMAIL, second.pk),
            (Channel.IN_APP, first.pk),
            (Channel.IN_APP, second.pk),
        ]
    )
    assert {n.subscription_id for n in matched if n.data["listing_id"] == second.pk} == {battery.pk}
    assert [n.data["title"] for n in _matched(other)] == ["一种光伏组件清洗机器人"] * 2
    mails = smtp.to("buyer@example.org")
    assert sorted(message["Subject"].strip() for message in mails) == sorted(
        [
            "您的订阅「电池」有新的专利：一种锂离子电池正极材料及其制备方法",
            "您的订阅「电池」有新的专利：锂离子电池电解液添加剂",
        ]
    )
    assert all(message["List-Unsubscribe"].strip().startswith("<http") for message in mails)
    # reviewers heard of each submission, the owner's members of each publication
    assert (
        Notification.objects.filter(user=cast.platform_admin, kind="review_pending", channel="in_app").count()
        == 5
    )
    assert (
        Notification.objects.filter(user=cast.uni_admin, kind="listing_reviewed", channel="in_app").count()
        == 5
    )
    before = (Notification.objects.count(), len(smtp.messages))

    # the whole topic again, even with the consumer's inbox emptied: nothing is sent twice
    HandledMessage.objects.filter(consumer="notify").delete()
    _rewind(broker, "market.notify", "market.patents")
    _consume_everything(broker)
    assert (Notification.objects.count(), len(smtp.messages)) == before


def _rewind(broker, group: str, topic: str) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=broker.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    partitions = [TopicPartition(topic, number) for number in consumer.partitions_for_topic(topic)]
    consumer.assign(partitions)
    consumer.commit({partition: OffsetAndMetadata(0, "", -1) for partition in partitions})
    consumer.close()


def _bid_events(cast, *, outbid_user) -> None:
    common = {
        "auction_id": 7,
        "listing_title": "高镍正极材料包覆技术",
        "ends_at": "2030-01-01T10:00:00+08:00",
    }
    with transaction.atomic():
        publish(
            BidPlaced(
                aggregate_id=71,
                version=1,
                bid_id=71,
                sequence=2,
                amount="520000.00",
                bidder_user_id=cast.ent2_member.pk,
                bidder_org_id=cast.enterprise2.pk,
                owner_org_id=cast.university.pk,
                listing_kind="achievement",
                listing_id=3,
                extended_seconds=0,
                **common,
            )
        )
        publish(
            BidOutbid(
                aggregate_id=71,
                version=1,
                bid_id=71,
                amount="520000.00",
                outbid_user_id=outbid_user.pk,
                outbid_org_id=outbid_user.organization_id,
                outbid_amount="500000.00",
                **common,
            )
        )


def test_an_outbid_bidder_gets_one_message_per_chosen_channel_and_the_owner_hears_of_the_bid(
    cast, broker, smtp, webhook_receiver, celery_eager
):
    bidder = cast.ent_member
    bidder.email = "bidder@example.org"
    bidder.save()
    subscriptions.preference_update(user=bidder, channels=["in_app", "email", "webhook"])
    endpoint = subscriptions.webhook_endpoint_set(user=bidder, url=webhook_receiver.url)
    _bid_events(cast, outbid_user=bidder)

    _consume_everything(broker)

    outbid = Notification.objects.filter(user=bidder, kind="outbid")
    assert sorted(outbid.values_list("channel", "status")) == [
        ("email", "sent"),
        ("in_app", "sent"),
        ("webhook", "sent"),
    ]
    [mail] = smtp.to("bidder@example.org")
    assert mail["Subject"].strip() == "您的出价已被超越：高镍正极材料包覆技术"
    [request] = webhook_receiver.requests
    payload = json.loads(request.body)
    assert payload["kind"] == "outbid" and payload["data"]["amount"] == "520000.00"
    assert webhook_verify()(endpoint.secret, request.body, request.headers)
    # the owner organization's members hear of the bid (in-app and e-mail by default; no address, no mail)
    owners = Notification.objects.filter(kind="bid_placed").values_list("user__username", "channel")
    assert sorted(owners) == [("uni_admin", "in_app"), ("uni_member", "in_app")]


def test_a_failing_webhook_receiver_gets_retries_with_backoff_by_celery_and_later_succeeds(
    cast, settings, webhook_receiver, celery_worker
):
    settings.NOTIFY_RETRY_BASE_SECONDS = 0.4
    webhook_receiver.failures = 2
    bidder = cast.ent_member
    subscriptions.preference_update(user=bidder, channels=["webhook"])
    subscriptions.webhook_endpoint_set(user=bidder, url=webhook_receiver.url)
    with transaction.atomic():
        fanout.notifications_create(
            event_id="evt-retry-1",
            event_type="market.bid.outbid.v1",
            kind="outbid",
            recipients=[fanout.Recipient(user=bidder)],
            context={"title": "高镍正极材料包覆技术", "amount": "1.00", "link": ""},
        )
    delivery = Notification.objects.get(user=bidder, channel=Channel.WEBHOOK)
    assert wait_until(
        lambda: Notification.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT, timeout=30
    )

    delivery.refresh_from_db()
    assert delivery.attempts == 3
    log = list(delivery.attempt_log.values_list("succeeded", "status_code"))
    assert log == [(False, 500), (False, 500), (True, 200)]
    times = [request.at for request in webhook_receiver.requests]
    assert len(times) == 3
    assert {request.headers["X-Market-Delivery"] for request in webhook_receiver.requests} == {
        str(delivery.pk)
    }
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert first_gap >= 0.35 and second_gap >= 0.75, (first_gap, second_gap)  # 0.4 s, then 0.8 s


def test_forged_and_stale_signatures_fail_the_documented_verification(cast, webhook_receiver, celery_eager):
    import time

    from services.notify.webhooks import signature

    subscriptions.preference_update(user=cast.ent_member, channels=["webhook"])
    endpoint = subscriptions.webhook_endpoint_set(user=cast.ent_member, url=webhook_receiver.url)
    with transaction.atomic():
        fanout.notifications_create(
            event_id="evt-sign-1",
            event_type="market.offer.made.v1",
            kind="offer",
            recipients=[fanout.Recipient(user=cast.ent_member)],
            context={"fact": "made", "title": "专利许可", "amount": "10.00", "link": ""},
        )
    [request] = webhook_receiver.requests
    verify = webhook_verify()
    assert verify(endpoint.secret, request.body, request.headers)
    forged_body = request.body.replace(b"10.00", b"99.00")
    assert forged_body != request.body
    assert not verify(endpoint.secret, forged_body, request.headers)
    assert not verify("another-secret", request.body, request.headers)
    stale = int(time.time()) - 3600
    replayed = {
        **request.headers,
        "X-Market-Timestamp": str(stale),
        "X-Market-Signature": signature(endpoint.secret, stale, request.body),
    }
    assert not verify(endpoint.secret, request.body, replayed), "an hour-old request must not be accepted"
    assert not verify(endpoint.secret, request.body, {"X-Market-Timestamp": "soon"})


def test_price_and_region_filters_decide_for_demands(cast, broker, celery_eager):
    """A saved search for demands by budget and region: only the demand inside both matches."""
    seeker = cast.uni_member
    _search(seeker, type="demand", region="330000", price_max="200000")
    cheap = factories.demand(cast.enterprise, status="draft", budget_min=Decimal("50000"))
    dear = factories.demand(cast.enterprise, status="draft", budget_min=Decimal("300000"))
    elsewhere = factories.demand(cast.enterprise2, status="draft", budget_min=Decimal("50000"))
    for demand, member in ((cheap, cast.ent_member), (dear, cast.ent_member), (elsewhere, cast.ent2_member)):
        catalog.listing_submit(listing=demand, user=member)
        catalog.listing_approve(listing=demand, reviewer=cast.platform_admin)

    _consume_everything(broker)

    assert [n.data["listing_id"] for n in _matched(seeker)] == [cheap.pk]


def _follow(user, listing):
    return subscriptions.subscription_create(
        user=user,
        kind="listing",
        name="",
        params={},
        target_kind="patent",
        target_id=listing.pk,
        channels=["in_app"],
        frequency="instant",
    )


def test_followers_hear_of_a_withdrawal_but_never_of_what_the_owner_then_edits(cast, broker, celery_eager):
    """Published, followed, withdrawn, then edited, resubmitted and withdrawn from review: the outside
    follower is told of the withdrawal (with the title they saw) and of nothing after it; the owner's member
    who follows it, and may read the draft, hears of the later withdrawal with the new title."""
    follower, owner_follower = cast.ent_member, cast.uni_admin
    patent = _publish(cast, title="一种固态电池隔膜", ipc_codes=["H01M 50/40"])
    _follow(follower, patent)
    _follow(owner_follower, patent)
    catalog.listing_withdraw(listing=patent, user=cast.uni_member)
    patent = catalog.patent_update(patent=patent, user=cast.uni_member, title="尚未公开的新标题")
    catalog.listing_submit(listing=patent, user=cast.uni_member)
    catalog.listing_withdraw(listing=patent, user=cast.uni_member)

    _consume_everything(broker)

    told = Notification.objects.filter(user=follower, kind="listing_changed")
    # (the consumer runs after the follow, yet the publication happened before it: not told of that)
    assert list(told.values_list("data__fact", "data__title")) == [("withdrawn", "一种固态电池隔膜")]
    everything = [
        f"{n.subject} {n.body} {json.dumps(n.data, ensure_ascii=False)}" for n in follower.notifications.all()
    ]
    assert everything and not any("尚未公开的新标题" in text for text in everything)
    # the owner's member may read the draft: they hear of the last withdrawal (the edit's event was already
    # out of date when the consumer read it, so nobody is told of it)
    owners = Notification.objects.filter(user=owner_follower, kind="listing_changed")
    assert ("withdrawn", "尚未公开的新标题") in set(owners.values_list("data__fact", "data__title"))


def test_an_accepted_proposal_tells_the_others_they_were_not_selected_and_the_followers_it_is_solved(
    cast, broker, api, celery_eager
):
    """Through the API and the real consumer: the proposers not chosen hear it with the enterprise's reason
    and a link they can open (their proposal: the demand is closed), the chosen one gets the deal, and the
    demand's followers hear it was solved."""
    demand = factories.demand(cast.enterprise, title="储能电站热失控预警")
    follower = cast.ent2_member
    subscriptions.subscription_create(
        user=follower, kind="listing", target_kind="demand", target_id=demand.pk, channels=["in_app"]
    )
    body = {"summary": "方案", "approach": "……", "amount": "300000", "transaction_mode": "service"}
    ids = {
        user: api(user).post(f"/api/v1/demands/{demand.pk}/proposals/", body, format="json").json()["id"]
        for user in (cast.uni_member, cast.inst_member)
    }
    enterprise = api(cast.ent_member)
    assert enterprise.post(f"/api/v1/proposals/{ids[cast.uni_member]}/shortlist/").status_code == 200
    reason = "已选定周期更短的方案"
    accept = enterprise.post(
        f"/api/v1/proposals/{ids[cast.uni_member]}/accept/", {"reason": reason}, format="json"
    )
    assert accept.status_code == 200

    _consume_everything(broker)

    def inbox(user, kind):
        return [n for n in api(user).get("/api/v1/notifications/").json()["results"] if n["kind"] == kind]

    [not_selected] = [n for n in inbox(cast.inst_member, "proposal") if n["data"]["fact"] == "not_selected"]
    assert not_selected["subject"] == "方案未入选：储能电站热失控预警"
    assert f"发布方说明：{reason}" in not_selected["body"]
    assert not_selected["link"].endswith(f"/api/v1/proposals/{ids[cast.inst_member]}/")
    assert api(cast.inst_member).get(urlsplit(not_selected["link"]).path).status_code == 200
    [chosen] = [n for n in inbox(cast.uni_member, "proposal") if n["data"]["fact"] == "accepted"]
    deal_id = chosen["data"]["deal_id"]
    assert chosen["link"].endswith(f"/api/v1/deals/{deal_id}/")
    assert api(cast.uni_member).get(urlsplit(chosen["link"]).path).status_code == 200
    [solved] = inbox(follower, "listing_changed")
    assert solved["subject"] == "您关注的技术需求已揭榜解决：储能电站热失控预警"
    assert solved["data"]["fact"] == "solved"
