"""`manage.py stats_recompute [--check]`: rebuild the deal figures from the deal rows, report differences."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from market.trading.models import Deal
from services.stats.recompute import stats_recompute

#: differences listed in full (the count is always given)
SHOWN = 20


class Command(BaseCommand):
    help = (
        "Rebuild every statistics rollup from the deal records, report any slice that differs from the "
        "figures the stats consumer kept (exit status 1 if one does), and put the rebuilt figures in their "
        "place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="compare only; leave the kept figures as they are"
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        with tqdm(total=Deal.objects.count(), unit="deal", file=self.stderr, disable=None) as bar:

            def advance(done: int) -> None:
                bar.update(done - bar.n)

            result = stats_recompute(replace=not check, listed=SHOWN, progress=advance)
        self.stdout.write(f"{result.deals} deals, {result.rollup_rows} rollup rows")
        for difference in result.differences:
            self.stdout.write(
                f"differs: {difference.key}: kept {difference.kept}, deal rows give {difference.expected}"
            )
        if result.replaced:
            self.stdout.write("the rebuilt figures replaced the kept ones")
        if result.difference_count:
            raise CommandError(
                f"{result.difference_count} slices differ from the deal records "
                "(a consumer still catching up shows as a difference too)"
            )
        self.stdout.write("the kept figures match the deal records")
