"""API routes of this package, mounted under /api/v1/."""
from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
