"""Session sign-in for the web pages, beside the API's JWT. It goes through the same backends, so django-axes
applies the same lockout rule (and its middleware answers a locked account with the lockout page)."""

from django.contrib.auth import views as auth_views
from django.utils.translation import gettext_lazy as _


class SignInView(auth_views.LoginView):
    template_name = "web/sign_in.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("Sign in")}


class SignOutView(auth_views.LogoutView):
    """POST only (Django's rule): a link or an image cannot sign anyone out."""
