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
