"""The signed-in user's notification pages: the inbox with its read marks, the subscriptions and saved
searches, and the delivery settings (channels, language, quiet hours, the webhook endpoint). Every read goes
through the notification service's selectors (a user's own rows only, so another user's id is a 404) and
every change through its services, as the API's `/api/v1/notifications/` and `/api/v1/subscriptions/` do."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from market.accounts.models import User
from market.accounts.selectors import organization_list
from market.web.access import login_required, signed_in_user, viewer
from market.web.forms import form_attempt
from market.web.links import page_link
from market.web.paging import page_of
from market.web.templatetags.web import facet_label, facet_value
from services.notify import selectors
from services.notify.links import listing_link, search_link
from services.notify.models import Channel, Frequency, NotificationKind, Subscription, SubscriptionKind
from services.notify.services import inbox as inbox_services
from services.notify.services import subscriptions as subscription_services

#: notifications per inbox page
INBOX_PAGE_SIZE = 20
#: labels of a saved search's parameters beyond the facets the results page shows
PARAM_LABELS = {
    "q": _("Words"),
    "ipc": _("IPC class"),
    "trl_min": _("Readiness from"),
    "trl_max": _("Readiness up to"),
    "price_min": _("Price from"),
    "price_max": _("Price up to"),
}
#: what a followed listing is called, per kind (achievements have a name, the others a title)
LISTING_LABEL_FIELD = {"patent": "title", "achievement": "name", "demand": "title"}


# ---- the inbox ------------------------------------------------------------------------------------------


def _unread_filter(request: HttpRequest) -> bool:
    source = request.POST if request.method == "POST" else request.GET
    return source.get("unread") == "1"


def _back_to_inbox(request: HttpRequest) -> HttpResponseRedirect:
    """The inbox as the user was looking at it (the unread filter kept)."""
    query = "?unread=1" if _unread_filter(request) else ""
    return redirect(reverse("web:inbox") + query)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    unread_only = _unread_filter(request)
    notifications = selectors.inbox_of(user, unread_only=unread_only).order_by("-created_at", "-id")
    page = page_of(request, notifications, size=INBOX_PAGE_SIZE)
    return render(
        request,
        "web/inbox/inbox.html",
        {
            "section": "inbox",
            "unread_only": unread_only,
            "page": page,
            "items": [(notification, page_link(notification.link)) for notification in page],
        },
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    notification = get_object_or_404(selectors.inbox_of(user), pk=pk)
    inbox_services.notifications_mark_read(user=user, ids=[notification.pk])
    return _back_to_inbox(request)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = inbox_services.notifications_mark_read(user=signed_in_user(request), ids=None)
    messages.success(
        request,
        ngettext("%(count)d notification marked read.", "%(count)d notifications marked read.", marked)
        % {"count": marked},
    )
    return _back_to_inbox(request)


@require_GET
def unread_link(request: HttpRequest) -> HttpResponse:
    """The header's "Notifications" link with the unread count, polled by htmx. Someone no longer signed in
    (signed out in another tab) gets status 286 and no content: htmx removes the link and stops polling,
    where a redirect to the sign-in page would have put that page into the header."""
    user = viewer(request)
    if user is None:
        return HttpResponse(status=286)
    return render(request, "web/inbox/partials/unread_link.html", {"unread": selectors.unread_count(user)})


# ---- subscriptions and saved searches -------------------------------------------------------------------


class SubscriptionForm(forms.Form):
    """How a subscription reaches its user; the shapes of `SubscriptionUpdateSerializer`."""

    channels = forms.MultipleChoiceField(
        label=_("Channels"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    frequency = forms.ChoiceField(
        label=_("Frequency"),
        choices=Frequency.choices,
        help_text=_("The daily digest gathers e-mail; the inbox and webhooks are told at once."),
    )


class ActiveForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1")


def _subscription_form(subscription: Subscription, data: Any = None) -> SubscriptionForm:
    return SubscriptionForm(
        data,
        prefix=f"subscription-{subscription.pk}",
        initial={"channels": subscription.channels, "frequency": subscription.frequency},
    )


def _subject(user: User, subscription: Subscription) -> dict[str, Any]:
    """What the subscription is about, as the user may see it: the saved search's parameters and its results
    page, the followed listing or organization by name (through their own visibility selectors: one hidden
    since is shown as unavailable), or the IPC class."""
    if subscription.kind == SubscriptionKind.SEARCH:
        return {
            "params": [
                (PARAM_LABELS.get(name) or facet_label(name), facet_value(value, name))
                for name, value in sorted(subscription.params.items())
            ],
            "url": page_link(search_link(subscription.params)),
        }
    if subscription.kind == SubscriptionKind.LISTING:
        listing = selectors.listing_as_seen_by(
            user=user, kind=subscription.target_kind, listing_id=subscription.target_id
        )
        if listing is None:
            return {"label": None}
        label = getattr(listing, LISTING_LABEL_FIELD.get(subscription.target_kind, "title"), str(listing))
        return {"label": label, "url": page_link(listing_link(subscription.target_kind, listing.pk))}
    if subscription.kind == SubscriptionKind.ORGANIZATION:
        visible = organization_list(user=user)
        organization = visible.filter(pk=subscription.target_id).first() if subscription.target_id else None
        return {"label": organization.name if organization else None}
    return {"label": subscription.params.get("ipc", "")}


def _subscriptions_page(
    request: HttpRequest, *, bound: tuple[int, SubscriptionForm] | None = None, status: int = 200
) -> HttpResponse:
    user = signed_in_user(request)
    rows = []
    for subscription in selectors.subscriptions_of(user).order_by("-created_at", "-id"):
        form = bound[1] if bound and bound[0] == subscription.pk else _subscription_form(subscription)
        rows.append({"subscription": subscription, "form": form, "subject": _subject(user, subscription)})
    return render(
        request,
        "web/inbox/subscriptions.html",
        {"section": "subscriptions", "rows": rows},
        status=status,
    )


@login_required
@require_GET
def subscriptions(request: HttpRequest) -> HttpResponse:
    return _subscriptions_page(request)


def _own_subscription(request: HttpRequest, pk: int) -> Subscription:
    return get_object_or_404(selectors.subscriptions_of(signed_in_user(request)), pk=pk)


@login_required
@require_POST
def subscription_change(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _own_subscription(request, pk)
    form = _subscription_form(subscription, request.POST)
    if not form.is_valid():
        return _subscriptions_page(request, bound=(subscription.pk, form), status=400)
    changed = form_attempt(
        form,
        lambda: subscription_services.subscription_update(
            subscription=subscription,
            channels=sorted(set(form.cleaned_data["channels"])),
            frequency=form.cleaned_data["frequency"],
        ),
    )
    if changed is None:
        return _subscriptions_page(request, bound=(subscription.pk, form), status=400)
    messages.success(request, _("The subscription was changed."))
    return redirect("web:subscriptions")


@login_required
@require_POST
def subscription_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause (`active=0`) or resume (`active=1`) a subscription."""
    subscription = _own_subscription(request, pk)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    active = form.cleaned_data["active"]
    subscription_services.subscription_update(subscription=subscription, is_active=active)
    messages.success(
        request, _("The subscription was resumed.") if active else _("The subscription was paused.")
    )
    return redirect("web:subscriptions")


@login_required
@require_POST
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription_services.subscription_delete(subscription=_own_subscription(request, pk))
    messages.success(request, _("The subscription was deleted."))
    return redirect("web:subscriptions")


# ---- delivery settings ----------------------------------------------------------------------------------


class PreferenceForm(forms.Form):
    """The preference for what no subscription chose channels for; the shapes of `PreferenceSerializer`."""

    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "For bids, offers, deals and review results (each subscription has channels of its own)."
        ),
    )
    language = forms.ChoiceField(label=_("Language of notifications"), choices=settings.LANGUAGES)
    muted_kinds = forms.MultipleChoiceField(
        label=_("Never tell me about"),
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("E-mail and webhooks wait until the quiet hours end; the inbox is always told."),
    )


class WebhookForm(forms.Form):
    """The endpoint's URL; whether the market may send to it is the service's question (SSRF rules)."""

    url = forms.URLField(
        label=_("Webhook URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("A public http or https address; each request is signed with the secret below."),
    )
    rotate_secret = forms.BooleanField(label=_("Make a new signing secret"), required=False)


def _settings_page(
    request: HttpRequest,
    *,
    preference_form: PreferenceForm | None = None,
    webhook_form: WebhookForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    preference = subscription_services.preference_of(user)
    endpoint = selectors.webhook_endpoint_of(user)
    if preference_form is None:
        preference_form = PreferenceForm(
            initial={
                "channels": preference.channels,
                "language": preference.language,
                "muted_kinds": preference.muted_kinds,
                "quiet_start": preference.quiet_start,
                "quiet_end": preference.quiet_end,
            }
        )
    if webhook_form is None:
        webhook_form = WebhookForm(initial={"url": endpoint.url if endpoint else ""})
    return render(
        request,
        "web/inbox/settings.html",
        {
            "section": "settings",
            "preference_form": preference_form,
            "webhook_form": webhook_form,
            "endpoint": endpoint,
        },
        status=status,
    )


@login_required
@require_GET
def delivery_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@login_required
@require_POST
def preference_change(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        changed = form_attempt(
            form,
            lambda: subscription_services.preference_update(
                user=signed_in_user(request),
                channels=data["channels"],
                language=data["language"],
                muted_kinds=data["muted_kinds"],
                quiet_start=data["quiet_start"],
                quiet_end=data["quiet_end"],
            ),
        )
        if changed is not None:
            messages.success(request, _("Your notification settings were saved."))
            return redirect("web:notification-settings")
    return _settings_page(request, preference_form=form, status=400)


@login_required
@require_POST
def webhook_change(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    if form.is_valid():
        endpoint = form_attempt(
            form,
            lambda: subscription_services.webhook_endpoint_set(
                user=signed_in_user(request),
                url=form.cleaned_data["url"],
                rotate_secret=form.cleaned_data["rotate_secret"],
            ),
        )
        if endpoint is not None:
            messages.success(request, _("The webhook endpoint was saved and is active."))
            return redirect("web:notification-settings")
    return _settings_page(request, webhook_form=form, status=400)


@login_required
@require_POST
def webhook_delete(request: HttpRequest) -> HttpResponse:
    subscription_services.webhook_endpoint_delete(user=signed_in_user(request))
    messages.success(request, _("The webhook endpoint was removed."))
    return redirect("web:notification-settings")
