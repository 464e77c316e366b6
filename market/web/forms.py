"""Forms of the web pages, and how a service's refusal reaches the form: each message beside its field."""

from collections.abc import Callable
from typing import TypeVar

from django import forms

from market.common.errors import ApplicationError

ResultT = TypeVar("ResultT")


def form_attempt(form: forms.Form, call: Callable[[], ResultT]) -> ResultT | None:
    """`call()` (a service), or None with the service's errors added to `form`: a field the form shows gets
    its messages beside it, anything else goes to the top of the form. The service decides; the page only
    shows what it said."""
    try:
        return call()
    except ApplicationError as error:
        if not error.fields:
            form.add_error(None, str(error.message))
        for name, messages in error.fields.items():
            listed = messages if isinstance(messages, list) else [messages]
            for message in listed:
                form.add_error(name if name in form.fields else None, str(message))
        return None
