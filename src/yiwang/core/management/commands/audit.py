from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yiwang.core.audit import verify_chain
from yiwang.core.models import AuditChainHead


class Command(BaseCommand):
    help = "Audit log tools: `audit verify` walks the SM3 chain and names the first broken entry."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        head = AuditChainHead.objects.filter(pk=1).first()
        total = head.count if head else 0
        with tqdm(total=total, unit="entries", disable=not total or options["verbosity"] < 1,
                  file=self.stderr) as bar:
            result = verify_chain(progress=bar.update)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(
                f"audit chain intact: {result.checked} entries verified"))
            return
        where = f" at entry #{result.first_broken_id}" if result.first_broken_id else ""
        raise CommandError(
            f"audit chain broken{where}: {result.problem} "
            f"({result.checked} entries before it verified)")
