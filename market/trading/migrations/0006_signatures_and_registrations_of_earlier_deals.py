"""Deals from before each party confirmed its signing and registrars decided registrations: in a migration of
its own, since PostgreSQL refuses the schema migration's deferred index creation on a table with pending
(deferred foreign key) trigger events from these updates."""

from django.db import migrations


def signatures_and_registrations_of_earlier_deals(apps, schema_editor):
    """Deals signed before each party confirmed: both confirmed when the deal was marked signed. Contracts
    registered before registrars decided (the seller recorded them): registered, by whoever recorded it."""
    Deal = apps.get_model("trading", "Deal")
    DealAudit = apps.get_model("trading", "DealAudit")
    for row in DealAudit.objects.filter(to_stage="contract_signed", action="advance"):
        Deal.objects.filter(pk=row.deal_id).update(seller_signed_at=row.at, buyer_signed_at=row.at)
    for row in DealAudit.objects.filter(action="register_contract"):
        Deal.objects.filter(pk=row.deal_id).update(
            registration_status="registered", registration_submitted_at=row.at, registered_by_id=row.actor_id
        )


class Migration(migrations.Migration):

    dependencies = [
        ("trading", "0005_deal_signing_registration_waivers"),
    ]

    operations = [
        migrations.RunPython(signatures_and_registrations_of_earlier_deals, migrations.RunPython.noop),
    ]
