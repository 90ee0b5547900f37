from __future__ import annotations

from django.db import IntegrityError, models, transaction

from .models.sequence import Sequence


@transaction.atomic
def next_value(name: str, period: str) -> int:
    """The next number of a named counter in a period; safe under concurrent callers."""
    updated = Sequence.objects.filter(name=name, period=period).update(
        value=models.F("value") + 1)
    if not updated:
        try:
            with transaction.atomic():
                Sequence.objects.create(name=name, period=period, value=1)
                return 1
        except IntegrityError:  # another caller created it first
            Sequence.objects.filter(name=name, period=period).update(
                value=models.F("value") + 1)
    return Sequence.objects.get(name=name, period=period).value


@transaction.atomic
def reserve_values(name: str, counts: dict[str, int]) -> dict[str, int]:
    """Reserve ``counts[period]`` consecutive numbers of a counter in each period at once
    (bulk imports); returns the first number of each period's block. Gap-free like
    ``next_value``: the rows stay locked until the caller's transaction ends."""
    periods = sorted(p for p, n in counts.items() if n > 0)
    if not periods:
        return {}
    Sequence.objects.bulk_create([Sequence(name=name, period=p, value=0) for p in periods],
                                 ignore_conflicts=True)
    rows = list(Sequence.objects.select_for_update().filter(name=name, period__in=periods)
                .order_by("period"))
    first = {}
    for row in rows:
        first[row.period] = row.value + 1
        row.value += counts[row.period]
    Sequence.objects.bulk_update(rows, ["value"], batch_size=500)
    return first
