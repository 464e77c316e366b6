"""Forms of the web pages, and how a service's refusal reaches the form: each message beside its field."""

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.http import QueryDict
from rest_framework import serializers as drf

from market.common.errors import ApplicationError

ResultT = TypeVar("ResultT")


def refusal_status(form: forms.Form) -> int:
    """The status of a form re-shown with errors: the service's refusal's, or 400 for input that did not
    parse."""
    return int(getattr(form, "refusal_status", 400))


def form_attempt(form: forms.Form, call: Callable[[], ResultT]) -> ResultT | None:
    """`call()` (a service), or None with the service's errors added to `form`: a field the form shows gets
    its messages beside it, anything else goes to the top of the form. The service decides; the page only
    shows what it said. The refusal's status (403 for a step the user may not take, 409 for a wrong state…)
    is kept on the form as `refusal_status`, for a page that answers with the API's status."""
    try:
        return call()
    except ApplicationError as error:
        form.refusal_status = error.status_code  # type: ignore[attr-defined]
        if not error.fields:
            form.add_error(None, str(error.message))
        for name, messages in error.fields.items():
            listed = messages if isinstance(messages, list) else [messages]
            for message in listed:
                form.add_error(name if name in form.fields else None, str(message))
        return None


class ApiInputForm(forms.Form):
    """A form whose input the API's input serializer for the same step validates, so the page refuses exactly
    what the API refuses; its messages land beside the fields. `cleaned_data` is the serializer's data."""

    serializer_class: type[drf.Serializer] = drf.Serializer

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.errors:
            return self.cleaned_data
        data = QueryDict(mutable=True)
        for name in self.fields:
            key = self.add_prefix(name)
            if key in self.data:
                data[name] = self.data[key]
        serializer = self.serializer_class(data=data)
        if not serializer.is_valid():
            for name, errors in serializer.errors.items():
                for error in errors:
                    self.add_error(name if name in self.fields else None, str(error))
            return self.cleaned_data
        self.cleaned_data = dict(serializer.validated_data)
        return self.cleaned_data
