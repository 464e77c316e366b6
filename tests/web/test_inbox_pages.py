"""The signed-in user's notification pages in a real browser: the inbox with the header's unread count, the
subscriptions and saved searches, the delivery settings with the webhook URL rules; another user's
notifications and subscriptions are never shown nor changed."""

import re

import pytest
from django.db import transaction
from django.test import Client

from services.notify.links import listing_link
from services.notify.models import Notification, Subscription, WebhookEndpoint
from services.notify.services import fanout, subscriptions
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _notify(user, number: int, **context) -> None:
    """An in-app notification for `user`, made as the consumer makes them (the fan-out, in a transaction)."""
    with transaction.atomic():
        fanout.notifications_create(
            event_id=f"evt-{user.pk}-{number}",
            event_type="market.deal.advanced.v1",
            kind="deal",
            recipients=[fanout.Recipient(user=user)],
            context={
                "fact": "advanced",
                "title": f"交易{number}",
                "stage": "contract",
                "amount": "1",
                **context,
            },
        )


@pytest.fixture
def inboxes(cast, settings):
    settings.NOTIFY_DEFAULT_CHANNELS = ["in_app"]
    patent = factories.patent(cast.university, title="一种锂电池极片涂布装置")
    _notify(cast.ent_member, 0)
    _notify(cast.ent_member, 1, link=listing_link("patent", patent.pk))
    _notify(cast.ent2_member, 2)
    return patent


def test_the_inbox_shows_the_unread_count_in_the_header_and_marking_read_lowers_it(visit, cast, inboxes):
    patent = inboxes
    visitor = visit(cast.ent_member)
    page = visitor.open("/notifications/")
    assert page.locator("h1").inner_text() == "通知"
    assert page.get_by_role("link", name="通知（2 条未读）", exact=True).is_visible()
    subjects = [item.inner_text() for item in page.locator(".notification h2").all()]
    assert [re.sub(r"^未读\s*", "", subject) for subject in subjects] == [
        "交易进入新阶段：交易1",
        "交易进入新阶段：交易0",
    ]
    assert "交易2" not in page.content()
    assert (
        page.get_by_role("link", name="交易进入新阶段：交易1").get_attribute("href")
        == f"/patents/{patent.pk}/"
    )
    visitor.check("notifications-inbox")

    page.locator("#notification-" + str(_pk(cast.ent_member, "交易1"))).get_by_role(
        "button", name="标记为已读"
    ).click()
    page.wait_for_url("**/notifications/")
    assert page.get_by_role("link", name="通知（1 条未读）", exact=True).is_visible()
    page.get_by_role("link", name="未读（1）").click()
    assert page.locator(".notification").count() == 1

    page.get_by_role("button", name="全部标记为已读").click()
    page.wait_for_url("**/notifications/?unread=1")
    assert page.get_by_role("link", name="通知", exact=True).is_visible()
    assert page.locator("#inbox-link .badge").count() == 0
    assert "没有未读通知" in page.locator(".notifications").inner_text()
    assert Notification.objects.get(user=cast.ent2_member).read_at is None


def _pk(user, title: str) -> int:
    return Notification.objects.get(user=user, subject__endswith=title).pk


def test_the_unread_count_is_polled_and_stops_for_someone_signed_out(cast, inboxes):
    client = Client()
    client.force_login(cast.ent_member)
    response = client.get("/notifications/unread/")
    assert response.status_code == 200 and 'hx-trigger="every 30s"' in response.text
    assert '<span class="badge" aria-hidden="true">2</span>' in response.text
    anonymous = Client().get("/notifications/unread/")
    assert anonymous.status_code == 286 and anonymous.content == b""


def test_another_users_notification_is_never_shown_nor_marked(cast, inboxes):
    foreign = Notification.objects.get(user=cast.ent2_member)
    client = Client()
    client.force_login(cast.ent_member)
    assert client.post(f"/notifications/{foreign.pk}/read/").status_code == 404
    assert client.post("/notifications/read-all/").status_code == 302
    foreign.refresh_from_db()
    assert foreign.read_at is None
    assert Client().get("/notifications/").url.startswith("/sign-in/?next=")


def test_subscriptions_are_listed_changed_paused_and_deleted(visit, cast, settings):
    patent = factories.patent(cast.university, title="一种锂电池极片涂布装置")
    saved = subscriptions.subscription_create(
        user=cast.ent_member,
        kind="search",
        name="电池",
        params={"q": "锂电池", "type": "patent"},
        channels=["in_app"],
    )
    follow = subscriptions.subscription_create(
        user=cast.ent_member, kind="listing", target_kind="patent", target_id=patent.pk, channels=["email"]
    )
    foreign = subscriptions.subscription_create(
        user=cast.ent2_member, kind="search", name="别人的", params={"q": "传感器"}, channels=["in_app"]
    )
    visitor = visit(cast.ent_member)
    page = visitor.open("/notifications/subscriptions/")
    assert page.locator("h1").inner_text() == "订阅与保存的搜索"
    assert "别人的" not in page.content()
    card = page.locator(f"section[aria-labelledby=subscription-{saved.pk}]")
    assert (
        card.get_by_role("link", name="查看结果").get_attribute("href")
        == "/search/?q=%E9%94%82%E7%94%B5%E6%B1%A0&type=patent"
    )
    followed = page.locator(f"section[aria-labelledby=subscription-{follow.pk}]")
    assert (
        followed.get_by_role("link", name="一种锂电池极片涂布装置").get_attribute("href")
        == f"/patents/{patent.pk}/"
    )
    visitor.check("notifications-subscriptions")

    card.get_by_label("电子邮件").check()
    card.get_by_label("频率").select_option("digest")
    card.get_by_role("button", name="保存修改").click()
    page.wait_for_url("**/notifications/subscriptions/")
    assert "订阅已更改" in page.locator(".messages").inner_text()
    saved.refresh_from_db()
    assert (saved.channels, saved.frequency) == (["email", "in_app"], "digest")

    card = page.locator(f"section[aria-labelledby=subscription-{saved.pk}]")
    card.get_by_label("站内信").uncheck()
    card.get_by_label("电子邮件").uncheck()
    card.get_by_role("button", name="保存修改").click()
    error = page.locator(f"section[aria-labelledby=subscription-{saved.pk}] .errorlist")
    assert "该字段是必填项" in error.inner_text()
    visitor.check("notifications-subscriptions-error", status=400)
    saved.refresh_from_db()
    assert saved.channels == ["email", "in_app"]

    page.goto(visitor.base_url + "/notifications/subscriptions/")
    page.locator(f"section[aria-labelledby=subscription-{follow.pk}]").get_by_role(
        "button", name="暂停"
    ).click()
    page.wait_for_url("**/notifications/subscriptions/")
    follow.refresh_from_db()
    assert follow.is_active is False
    assert "已暂停" in page.locator(f"section[aria-labelledby=subscription-{follow.pk}] h2").inner_text()
    page.locator(f"section[aria-labelledby=subscription-{follow.pk}]").get_by_role(
        "button", name="恢复"
    ).click()
    page.wait_for_url("**/notifications/subscriptions/")
    follow.refresh_from_db()
    assert follow.is_active is True
    page.locator(f"section[aria-labelledby=subscription-{follow.pk}]").get_by_role(
        "button", name="删除"
    ).click()
    page.wait_for_url("**/notifications/subscriptions/")
    assert not Subscription.objects.filter(pk=follow.pk).exists()

    client = Client()
    client.force_login(cast.ent_member)
    for path in (f"{foreign.pk}/", f"{foreign.pk}/active/", f"{foreign.pk}/delete/"):
        assert client.post(f"/notifications/subscriptions/{path}", {"active": "0"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active


def test_a_bad_webhook_url_is_refused_beside_the_field_and_a_good_one_is_set(visit, cast, settings):
    visitor = visit(cast.ent_member)
    page = visitor.open("/notifications/settings/")
    assert page.locator("h1").inner_text() == "推送设置"
    visitor.check("notifications-settings")

    page.get_by_label("Webhook 地址").fill("http://127.0.0.1/")
    page.get_by_role("button", name="保存 Webhook").click()
    field = page.get_by_label("Webhook 地址")
    described = field.get_attribute("aria-describedby") or ""
    errors = " ".join(page.locator(f"#{name}").inner_text() for name in described.split())
    assert "Webhook 只能发往公网地址" in errors
    assert field.get_attribute("aria-invalid") == "true"
    visitor.check("notifications-settings-webhook-refused", status=400)
    assert not WebhookEndpoint.objects.exists()

    # the operator's allowlist for on-premises receivers (as tests/notify's receiver uses)
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    page.get_by_label("Webhook 地址").fill("http://127.0.0.1:8089/hooks")
    page.get_by_role("button", name="保存 Webhook").click()
    page.wait_for_url("**/notifications/settings/")
    page.wait_for_url("**/notifications/settings/")
    endpoint = WebhookEndpoint.objects.get(user=cast.ent_member)
    assert endpoint.url == "http://127.0.0.1:8089/hooks" and endpoint.is_active
    page.get_by_text("显示", exact=True).click()
    assert page.locator("code.secret").inner_text() == endpoint.secret

    page.get_by_role("button", name="删除 Webhook").click()
    page.wait_for_url("**/notifications/settings/")
    assert not WebhookEndpoint.objects.exists()


def test_quiet_hours_need_both_ends_and_the_service_says_so_beside_the_field(visit, cast):
    visitor = visit(cast.ent_member)
    page = visitor.open("/notifications/settings/")
    page.get_by_label("免打扰开始").fill("22:00")
    page.get_by_role("button", name="保存设置").click()
    described = page.get_by_label("免打扰结束").get_attribute("aria-describedby") or ""
    errors = " ".join(page.locator(f"#{name}").inner_text() for name in described.split())
    assert "请同时填写或同时留空" in errors

    page.get_by_label("免打扰结束").fill("07:00")
    page.get_by_label("新出价", exact=True).check()
    page.get_by_role("button", name="保存设置").click()
    page.wait_for_url("**/notifications/settings/")
    assert "通知设置已保存" in page.locator(".messages").inner_text()
    preference = subscriptions.preference_of(cast.ent_member)
    assert (str(preference.quiet_start), preference.muted_kinds) == ("22:00:00", ["bid_placed"])
