"""`manage.py demo_credentials`: print the demo users, their roles and the shared demo password."""

from typing import Any

from django.core.management.base import BaseCommand

from market.accounts.models import User
from market.demo.seeding import DEMO_USERS, demo_password


class Command(BaseCommand):
    help = "Print the demo accounts created by seed_market."

    def handle(self, *args: Any, **options: Any) -> None:
        users = {
            user.username: user
            for user in User.objects.filter(username__in=DEMO_USERS).select_related("organization")
        }
        self.stdout.write(f"  Demo accounts (password for all: {demo_password()}):")
        for username in DEMO_USERS:
            user = users.get(username)
            if user is None:
                continue
            where = user.organization.name if user.organization else "平台 / platform"
            role = "platform admin" if user.is_platform_admin else user.org_role
            self.stdout.write(f"    {username:<12} {role:<10} {where}  ({user.display_name})")
