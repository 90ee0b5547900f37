"""``manage.py open311_client``: issue, list and revoke client-system API keys.

    ./yw manage open311_client issue --name "某区随手拍 App" [--unit 440399000000]
    ./yw manage open311_client list
    ./yw manage open311_client revoke --name "某区随手拍 App" --reason "key leaked"

The key is printed once and never again (only its hash is stored). The command acts as
the operator at the server's shell, like ``createsuperuser``; on the workbench a district
admin does the same within their own unit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from yiwang.core.models import OrgUnit
from yiwang.events.clients import KINDS, client_issue, client_revoke
from yiwang.events.models import ClientSystem


class Command(BaseCommand):
    help = "Issue, list or revoke the API keys of Open311 (and webhook) client systems."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="register a client system and print its key")
        issue.add_argument("--name", required=True, help="the system that uses the key")
        issue.add_argument("--kind", default="open311", choices=KINDS)
        issue.add_argument("--unit", default=None,
                           help="org unit code it reports for (default: the district)")
        sub.add_parser("list", help="list client systems (never their keys)")
        revoke = sub.add_parser("revoke", help="stop a client's key at once")
        revoke.add_argument("--name", required=True)
        revoke.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "issue":
            code = options["unit"] or settings.YIWANG_DISTRICT_CODE
            unit = OrgUnit.objects.filter(code=code).first()
            if unit is None:
                raise CommandError(f"no org unit {code}")
            try:
                client, key = client_issue(actor=None, system=True, name=options["name"],
                                           kind=options["kind"], unit=unit)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(f"{client.name} ({client.kind}, {unit.code})")
            self.stdout.write(f"api_key: {key}")
            self.stdout.write("Keep it now: it is not shown again.")
        elif action == "list":
            for client in ClientSystem.objects.select_related("unit").order_by("name"):
                state = "active" if client.active else "revoked"
                used = client.last_used_at.isoformat(timespec="seconds") \
                    if client.last_used_at else "never"
                self.stdout.write(f"{client.name}\t{client.kind}\t{client.unit.code}\t"
                                  f"ywc_{client.key_prefix}_…\t{state}\tlast used {used}")
        else:
            found = ClientSystem.objects.filter(name=options["name"]).first()
            if found is None:
                raise CommandError(f"no client system named {options['name']!r}")
            client_revoke(actor=None, system=True, client=found, reason=options["reason"])
            self.stdout.write(f"revoked: {found.name}")
