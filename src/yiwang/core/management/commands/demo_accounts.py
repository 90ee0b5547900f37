"""``yw accounts``: the demo accounts as a table (username, role, unit, password)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from yiwang.accounts.models import User
from yiwang.accounts.roles import Role
from yiwang.core.generator import build_district
from yiwang.core.generator.accounts import DEMO_PASSWORD, build_accounts

KIND_LABELS = {"citizen": "市民 citizen", "enterprise": "企业 enterprise"}
ROLE_LABELS = {
    Role.WINDOW_CLERK: "窗口人员", Role.APPROVER: "审批人员", Role.HANDLER: "承办人员",
    Role.DISPATCHER: "分拨员", Role.GRID_WORKER: "网格员", Role.SUPERVISOR: "督办人员",
    Role.DATA_STEWARD: "数据专员", Role.AUDITOR: "审计员", Role.DISTRICT_ADMIN: "管理员",
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def render_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the demo accounts (what `./yw demo` shows)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true",
                            help="every demo account, not only one of each kind")

    def handle(self, *args: Any, **options: Any) -> None:
        spec = build_district(code=settings.YIWANG_DISTRICT_CODE)
        accounts = build_accounts(spec)
        users = {u.username: u for u in User.objects.filter(
            username__in=[a.username for a in accounts]).select_related("org_unit")}
        if not users:
            self.stdout.write("The demo district is not loaded: run `./yw demo` "
                              "(or `./yw manage demo_setup`).")
            return
        shown = [a for a in accounts if (options["all"] or a.featured) and a.username in users]
        rows: list[tuple[str, ...]] = [("username", "role 角色", "unit 单位", "password")]
        for account in shown:
            user = users[account.username]
            if account.role:
                role = f"{ROLE_LABELS[Role(account.role)]} {account.role}"
            else:
                role = KIND_LABELS.get(account.kind, account.kind)
            unit = user.org_unit.name if user.org_unit else (
                account.enterprise_name or account.name)
            rows.append((account.username, role, unit, DEMO_PASSWORD))
        self.stdout.write(render_table(rows))
        hidden = len(users) - len(shown)
        if hidden:
            self.stdout.write(
                f"… and {hidden} more (every street, community, grid and department has its "
                "own: clerk.<street>, handler.<community>, grid.<community>.<n>, "
                "approver.<department>); `./yw manage demo_accounts --all` lists them.")
        self.stdout.write(f"Password for every demo account: {DEMO_PASSWORD} "
                          "(development only; change it before anyone else can reach the "
                          "server).")
        self._events(spec, users)

    def _events(self, spec: Any, users: dict[str, User]) -> None:
        """Which account shows which 一网统管 page, and the demo Open311 key."""
        from yiwang.events.clients import demo_key_works

        key = demo_key_works(seed=spec.seed)
        if not key:
            return
        street, community, grid = spec.streets[0], spec.communities[0], spec.grids[0]
        citizen = next((a.username for a in build_accounts(spec) if a.kind == "citizen"), "")
        rows: list[tuple[str, ...]] = [("一网统管 page", "path", "sign in as")]
        for page, path, names in [
            ("12345 来电登记 hotline", "/events/hotline/", ["hotline"]),
            ("分拨队列 dispatch queue", "/events/queue/",
             ["dispatcher", f"dispatcher.{street.slug}"]),
            ("承办收件箱 handler inbox", "/events/inbox/",
             [f"handler.{street.slug}", f"handler.{community.slug}", "handler.chengguan"]),
            ("督办 disputes, supervision", "/events/queue/?tab=disputed", ["supervisor"]),
            ("网格员 field (phone)", "/events/field/", [f"grid.{grid.slug}"]),
            ("我的诉求 my appeals", "/events/my/", [citizen]),
        ]:
            shown = [n for n in names if n in users]
            if shown:
                rows.append((page, path, ", ".join(shown)))
        self.stdout.write("")
        self.stdout.write(render_table(rows))
        self.stdout.write(f"Open311 demo client key (api_key, demo only): {key}")
