"""Forms of the supply pages (a university's or institute's patents, achievements and auctions) and of the
review pages. They only parse what a person types; the catalog and trading services decide, and their
refusals reach these forms through `form_attempt`."""

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from market.catalog.models import (
    Achievement,
    AchievementStage,
    IpForm,
    LegalStatus,
    Patent,
    PatentType,
    PricingMethod,
    TransferMode,
)
from market.trading.models import TransactionMode

#: what separates the items of a list typed into one box: commas (ASCII or full-width), the enumeration comma
#: 、, semicolons and line breaks
_ITEM_SEPARATORS = re.compile(r"[,，、;；\n\r]+")
MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


class ListTextField(forms.CharField):
    """A list typed as one line, "A、B，C": the items, trimmed, empty ones dropped."""

    def __init__(self, *, item_max_length: int, max_items: int, **kwargs: Any) -> None:
        self.item_max_length = item_max_length
        self.max_items = max_items
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate the items with commas or 、."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "、".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list, not a string
        text = super().to_python(value) or ""
        return [item.strip() for item in _ITEM_SEPARATORS.split(text) if item.strip()]

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > self.max_items:
            raise forms.ValidationError(
                _("At most %(count)d items.") % {"count": self.max_items}, code="max_items"
            )
        for item in value:
            if len(item) > self.item_max_length:
                raise forms.ValidationError(
                    _("“%(item)s” is longer than %(length)d characters.")
                    % {"item": item, "length": self.item_max_length},
                    code="item_too_long",
                )

    def run_validators(self, value: Any) -> None:
        """The CharField's length validators would measure the list; `validate` measures each item."""


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _blank_first(choices: list[tuple[str, Any]], label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class PatentForm(forms.Form):
    """The patent fields a person fills in; the service derives the rest (expiry, normalised numbers)."""

    application_number = forms.CharField(
        label=_("application number"),
        max_length=20,
        help_text=_("As on the filing receipt, e.g. 201710117081.7"),
    )
    title = forms.CharField(label=_("title"), max_length=300)
    patent_type = forms.ChoiceField(
        label=_("patent type"),
        required=False,
        choices=_blank_first(PatentType.choices, _("From the application number")),
    )
    abstract = forms.CharField(label=_("abstract"), required=False, max_length=20000, widget=forms.Textarea)
    ipc_codes = ListTextField(label=_("IPC codes"), item_max_length=20, max_items=30)
    applicants = ListTextField(label=_("applicants"), item_max_length=200, max_items=30)
    inventors = ListTextField(label=_("inventors"), item_max_length=100, max_items=50)
    filing_date = forms.DateField(label=_("filing date"), widget=DateInput())
    legal_status = forms.ChoiceField(label=_("legal status"), choices=LegalStatus.choices)
    grant_date = forms.DateField(
        label=_("grant date"),
        required=False,
        widget=DateInput(),
        help_text=_("Needed when the patent is granted."),
    )
    field = forms.CharField(label=_("technical field"), max_length=100, required=False)
    price = forms.DecimalField(
        label=_("asking price (yuan)"),
        required=False,
        help_text=_("Leave empty when the price is negotiable."),
        **MONEY,
    )

    @classmethod
    def initial_of(cls, patent: Patent) -> dict[str, Any]:
        return {name: getattr(patent, name) for name in cls.base_fields}


class AchievementForm(forms.Form):
    """An achievement (科技成果): what the public reads, what only NDA signers read, and how it is sold."""

    name = forms.CharField(label=_("name"), max_length=300)
    teaser = forms.CharField(label=_("public teaser"), max_length=5000, widget=forms.Textarea)
    keywords = ListTextField(label=_("keywords"), item_max_length=60, max_items=20)
    completing_units = ListTextField(label=_("completing units"), item_max_length=200, max_items=20)
    registration_number = forms.CharField(
        label=_("achievement registration number"), max_length=40, required=False
    )
    field = forms.CharField(label=_("field / discipline"), max_length=100)
    category = forms.CharField(label=_("category"), max_length=50, required=False)
    trl = forms.IntegerField(label=_("technology readiness level"), min_value=1, max_value=9)
    stage = forms.ChoiceField(label=_("maturity stage"), choices=AchievementStage.choices)
    ip_forms = forms.MultipleChoiceField(
        label=_("IP forms"), choices=IpForm.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    patent_ids = forms.TypedMultipleChoiceField(
        label=_("linked patents"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    transfer_modes = forms.MultipleChoiceField(
        label=_("transfer modes"),
        choices=TransferMode.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    pricing_method = forms.ChoiceField(label=_("pricing method"), choices=PricingMethod.choices)
    price = forms.DecimalField(label=_("price (yuan)"), required=False, **MONEY)
    confidential_details = forms.CharField(
        label=_("confidential details"),
        required=False,
        max_length=50000,
        widget=forms.Textarea,
        help_text=_("Shown only to those who accepted the non-disclosure agreement."),
    )
    nda_text = forms.CharField(
        label=_("non-disclosure agreement"), required=False, max_length=20000, widget=forms.Textarea
    )

    def __init__(self, *args: Any, patents: list[Patent], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        linked = self.fields["patent_ids"]
        assert isinstance(linked, forms.TypedMultipleChoiceField)
        linked.choices = [(patent.pk, f"{patent.application_number} {patent.title}") for patent in patents]
        if not patents:
            del self.fields["patent_ids"]

    def cleaned_changes(self) -> dict[str, Any]:
        """The service's keywords: a blank registration number is none (it is unique when given)."""
        data = dict(self.cleaned_data)
        data["registration_number"] = data.get("registration_number") or None
        return data

    @classmethod
    def initial_of(cls, achievement: Achievement) -> dict[str, Any]:
        initial = {name: getattr(achievement, name) for name in cls.base_fields if name != "patent_ids"}
        initial["patent_ids"] = [patent.pk for patent in achievement.patents.all()]
        return initial


class AuctionForm(forms.Form):
    """The terms of an auction, as `auction_open` takes them."""

    starts_at = forms.DateTimeField(label=_("starts at"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("ends at"), widget=DateTimeInput())
    starting_price = forms.DecimalField(label=_("starting price (yuan)"), **MONEY)
    bid_increment = forms.DecimalField(
        label=_("bid increment (yuan)"), max_digits=14, decimal_places=2, min_value=0.01
    )
    reserve_price = forms.DecimalField(
        label=_("reserve price (yuan)"),
        required=False,
        help_text=_("Hidden from bidders; below it the auction fails."),
        **MONEY,
    )
    deposit_amount = forms.DecimalField(
        label=_("deposit (yuan)"),
        required=False,
        help_text=_("Bidders pay it before they may bid; 0 or empty for none."),
        **MONEY,
    )
    snipe_window_minutes = forms.IntegerField(
        label=_("anti-sniping window (minutes)"),
        min_value=0,
        max_value=120,
        initial=5,
        help_text=_("A bid this close to the end extends the auction."),
    )
    extension_minutes = forms.IntegerField(
        label=_("extension (minutes)"), min_value=1, max_value=120, initial=5
    )
    transaction_mode = forms.ChoiceField(label=_("transaction mode"), choices=TransactionMode.choices)

    def cleaned_terms(self) -> dict[str, Any]:
        terms = dict(self.cleaned_data)
        if terms.get("deposit_amount") is None:
            terms.pop("deposit_amount", None)
        return terms


class ReasonForm(forms.Form):
    """A reviewer's rejection. Blank is let through: the review services say a rejection needs a reason,
    and their message appears beside this field."""

    reason = forms.CharField(
        label=_("reason for rejection"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The owner reads it and fixes the listing accordingly."),
    )
