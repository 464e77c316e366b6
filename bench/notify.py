"""Matching one new listing against 1,000, 10,000 and 100,000 saved searches through the subscription index,
next to a naive loop that loads every subscription and verifies each, in the same run (same database, same
listings; both must find the same matches).

    .venv/bin/python bench/notify.py [--quick]

Goal (issue 6): the indexed cost at 100,000 within a small factor of the cost at 1,000."""

import argparse
import logging
import os
import random
import statistics
import time

from _harness import report, scratch_database

IPC_CLASSES = [
    f"{section}{number:02d}{letter}"
    for section in "ABCDEFGH"
    for number in (1, 2, 3, 4, 21, 22)
    for letter in "BCDFGJKLMN"
]
FIELDS = [f"领域{number}" for number in range(200)]
COUNTIES = [
    f"{province}{city:02d}{county:02d}"
    for province in (11, 31, 32, 33, 44)
    for city in range(1, 8)
    for county in range(1, 12)
]


def _vocabulary() -> list[str]:
    """Every distinct Chinese word of two to four characters in the real sample data that holds no smaller
    word (search-mode segmentation yields it alone: 锂电池 would also yield 电池, so a search for a word
    of one half could match a listing of the other), in a deterministic shuffled order."""
    from django.conf import settings

    from market.common.chinese import search_words, words
    from market.demo.seeding import achievement_rows, patent_rows

    data = settings.MARKET_SAMPLE_DATA_DIR
    texts = [row["title"] for row in patent_rows(data)]
    for record in achievement_rows(data):
        texts += [record["title"], record["abstract"], *record.get("keywords", [])]
    vocabulary = sorted(
        {
            word
            for text in texts
            for word in words(text)
            if 2 <= len(word) <= 4
            and all("\u4e00" <= char <= "\u9fff" for char in word)
            and search_words(word) == [word]
        }
    )
    random.Random(6).shuffle(vocabulary)
    return vocabulary


class Population:
    """Where the values of saved searches or listings are drawn from."""

    def __init__(
        self, words: list[str], ipc: list[str], fields: list[str], counties: list[str], catch_all: bool = True
    ) -> None:
        self.words, self.ipc, self.fields, self.counties = words, ipc, fields, counties
        #: whether one search in a thousand has no condition but a type or price (it matches nearly anything)
        self.catch_all = catch_all

    def half(self, which: int) -> "Population":
        """One of two disjoint halves: searches drawn from one never match listings drawn from the other."""

        def cut(values: list[str]) -> list[str]:
            middle = len(values) // 2
            return values[:middle] if which == 0 else values[middle:]

        return Population(
            cut(self.words), cut(self.ipc), cut(self.fields), cut(self.counties), catch_all=which == 0
        )


def _params(rng: random.Random, population: Population) -> dict:
    """A saved search as people write them: mostly words, often with a facet or two."""
    roll = rng.random()
    params: dict = {}
    if roll < 0.65:
        params["q"] = " ".join(rng.sample(population.words, rng.choice((1, 1, 2))))
    elif roll < 0.85:
        params["ipc"] = f"{rng.choice(population.ipc)} {rng.randint(1, 20)}/"
    elif roll < 0.93:
        params["field"] = rng.choice(population.fields)
    elif roll < 0.999 or not population.catch_all:
        params["region"] = rng.choice(population.counties)
    if rng.random() < 0.3:
        params["type"] = rng.choice(("patent", "achievement", "demand", "patent,achievement"))
    if rng.random() < 0.2:
        params["price_max"] = str(rng.choice((100_000, 500_000, 2_000_000)))
    return params


def _subscriptions_add(count: int, rng: random.Random, population: Population, users: list) -> None:
    from services.notify.matching import subscription_keys
    from services.notify.models import Subscription, SubscriptionKey

    for start in range(0, count, 5000):
        batch = [
            Subscription(
                user=rng.choice(users), kind="search", params=_params(rng, population), channels=["in_app"]
            )
            for _ in range(min(5000, count - start))
        ]
        Subscription.objects.bulk_create(batch)
        SubscriptionKey.objects.bulk_create(
            SubscriptionKey(subscription=sub, key=key)
            for sub in batch
            for key in subscription_keys(kind="search", params=sub.params, target_kind="", target_id=None)
        )


def _listings(rng: random.Random, population: Population, count: int) -> list[tuple[str, dict]]:
    """Patent snapshots with a title of 6 and an abstract of 80 vocabulary words, 2 IPC symbols."""
    listings = []
    words = population.words
    for number in range(count):
        county = rng.choice(population.counties)
        listings.append(
            (
                "patent",
                {
                    "id": number + 1,
                    "title": "一种" + "".join(rng.sample(words, 6)),
                    "abstract": "，".join(rng.sample(words, 80)),
                    "ipc_codes": [
                        f"{rng.choice(IPC_CLASSES)} {rng.randint(1, 20)}/{rng.randint(0, 99):02d}"
                        for _ in range(2)
                    ],
                    "field": rng.choice(population.fields),
                    "price": str(rng.choice((80_000, 300_000, 1_500_000))),
                    "owner": {
                        "id": 1,
                        "org_type": "university",
                        "province_code": county[:2] + "0000",
                        "city_code": county[:4] + "00",
                        "county_code": county,
                    },
                },
            )
        )
    return listings


def _indexed(listings) -> tuple[float, list[set[int]], float]:
    from services.notify.matching import candidates, listing_facts, subscription_matches

    timings, found, candidate_counts = [], [], []
    for kind, snapshot in listings:
        started = time.perf_counter()
        facts = listing_facts(kind, snapshot)
        pool = candidates(facts.keys)
        matched = {sub.pk for sub in pool if subscription_matches(sub, facts)}
        timings.append(time.perf_counter() - started)
        found.append(matched)
        candidate_counts.append(len(pool))
    return statistics.median(timings), found, statistics.mean(candidate_counts)


def _naive(listings) -> tuple[float, list[set[int]]]:
    """Every active subscription loaded and verified, per listing."""
    from services.notify.matching import listing_facts, subscription_matches
    from services.notify.models import Subscription

    timings, found = [], []
    for kind, snapshot in listings:
        started = time.perf_counter()
        facts = listing_facts(kind, snapshot)
        matched = {
            sub.pk
            for sub in Subscription.objects.filter(is_active=True)
            .select_related("user")
            .iterator(chunk_size=5000)
            if subscription_matches(sub, facts)
        }
        timings.append(time.perf_counter() - started)
        found.append(matched)
    return statistics.median(timings), found


def _scenario(name: str, sizes, listings, populations, users, naive_count: int) -> dict:
    """Grow the subscriptions to each size (the first 1,000 from `populations[0]`, the rest from
    `populations[1]`) and time both ways of matching at each size."""
    from django.db import connection

    from services.notify.models import Subscription

    Subscription.objects.all().delete()
    rng = random.Random(2026)
    figures: dict = {}
    present = 0
    for size in sizes:
        first = max(0, min(size, 1_000) - present)
        _subscriptions_add(first, rng, populations[0], users)
        _subscriptions_add(size - present - first, rng, populations[1], users)
        present = size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notify_subscription; ANALYZE notify_subscriptionkey")
        indexed_seconds, indexed_found, mean_candidates = _indexed(listings)
        naive_seconds, naive_found = _naive(listings[:naive_count])
        assert indexed_found[:naive_count] == naive_found, "the index must find exactly what the loop finds"
        figures[f"{name}.indexed_ms_at_{size}"] = round(indexed_seconds * 1000, 2)
        figures[f"{name}.naive_ms_at_{size}"] = round(naive_seconds * 1000, 2)
        figures[f"{name}.naive_vs_indexed_at_{size}"] = round(naive_seconds / indexed_seconds, 1)
        figures[f"{name}.mean_candidates_at_{size}"] = round(mean_candidates, 1)
        figures[f"{name}.mean_matches_at_{size}"] = round(statistics.mean(len(f) for f in indexed_found), 1)
    smallest, largest = sizes[0], sizes[-1]
    figures[f"{name}.indexed_growth_{largest}_vs_{smallest}"] = round(
        figures[f"{name}.indexed_ms_at_{largest}"] / figures[f"{name}.indexed_ms_at_{smallest}"], 2
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 60 s")
    args = parser.parse_args()
    sizes = (1_000, 10_000, 30_000) if args.quick else (1_000, 10_000, 100_000)
    listing_count, naive_count = (10, 2) if args.quick else (30, 3)
    logging.disable(logging.WARNING)
    figures: dict = {"listings_per_size": listing_count}
    with scratch_database(f"bench_notify_{os.getpid()}"):
        from market.accounts.models import User

        everyone = Population(_vocabulary(), IPC_CLASSES, FIELDS, COUNTIES)
        near, far = everyone.half(0), everyone.half(1)
        users = User.objects.bulk_create(User(username=f"bench{number}") for number in range(200))
        listings = _listings(random.Random(99), near, listing_count)
        _indexed(listings[:2])  # warm-up: segmenter, connections, plans
        # same matches at every size: the first 1,000 searches can match the listings, the rest never do;
        # this is the goal (cost grows with candidates, not with subscriptions)
        figures.update(_scenario("fixed_matches", sizes, listings, (near, far), users, naive_count))
        # one population for all: matches (and so candidates) grow with the number of subscriptions
        figures.update(_scenario("growing_matches", sizes, listings, (near, near), users, naive_count))
    growth = figures[f"fixed_matches.indexed_growth_{sizes[-1]}_vs_{sizes[0]}"]
    figures["goal_fixed_matches_growth_le_3"] = growth <= 3
    report("notify", figures)


if __name__ == "__main__":
    main()
