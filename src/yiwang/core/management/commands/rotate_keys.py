"""``rotate_keys``: re-encrypt personal data that is not under the active SM4 key.

Run it after making a new key active (``YIWANG_SM4_ACTIVE_KEY_ID``) and before removing
the old key from ``YIWANG_SM4_KEYS``. Stored ciphertext is read with plain SQL (the field
would decrypt it), decrypted with the key it names and written back under the active key
only if the row still holds the same ciphertext, so a value the application changed in
the meantime is left as it is. Values stored before the column was encrypted are
encrypted. A second run finds nothing to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, models, router, transaction
from tqdm import tqdm

from yiwang.core import crypto
from yiwang.core.audit import audit_log
from yiwang.core.fields import EncryptedTextField


def encrypted_columns() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


class StaleValues:
    """Rows of one encrypted column whose value is not under the active key."""

    def __init__(self, model: type[models.Model], field: EncryptedTextField, active: str):
        self.using = router.db_for_write(model)
        connection = connections[self.using]
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.pk = quote(model._meta.pk.column)
        self.column = quote(field.column)
        self.prefix = f"{crypto.CIPHERTEXT_PREFIX}:{active}:"
        self.label = f"{model._meta.label_lower}.{field.name}"
        self.associated_data = field.associated_data
        self.where = (f"{self.column} IS NOT NULL AND {self.column} <> '' "
                      f"AND SUBSTR({self.column}, 1, %s) <> %s")

    def count(self) -> int:
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.table} WHERE {self.where}",  # noqa: S608
                           [len(self.prefix), self.prefix])
            return int(cursor.fetchone()[0])

    def batches(self, size: int) -> Iterator[list[tuple[Any, str]]]:
        # Keyset pagination: a row that cannot be re-encrypted is not fetched again.
        last_pk: Any = None
        while True:
            after = "" if last_pk is None else f" AND {self.pk} > %s"
            params: list[Any] = [len(self.prefix), self.prefix]
            params += [] if last_pk is None else [last_pk]
            with connections[self.using].cursor() as cursor:
                cursor.execute(
                    f"SELECT {self.pk}, {self.column} FROM {self.table} "  # noqa: S608
                    f"WHERE {self.where}{after} ORDER BY {self.pk} LIMIT %s",
                    [*params, size])
                rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            last_pk = rows[-1][0]

    def replace(self, pk: Any, old: str, new: str) -> bool:
        """Write ``new`` if the row still holds ``old``; False if it changed meanwhile."""
        with connections[self.using].cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET {self.column} = %s "  # noqa: S608
                f"WHERE {self.pk} = %s AND {self.column} = %s", [new, pk, old])
            return cursor.rowcount == 1


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted field value that is not under the active SM4 key "
            "(after a key rotation). Safe to run again.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500,
                            help="rows per transaction (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        active = crypto.active_key_id()
        columns = [StaleValues(model, field, active) for model, field in encrypted_columns()]
        todo = {column.label: column.count() for column in columns}
        counts: Counter[str] = Counter()
        per_field: Counter[str] = Counter()
        failures: list[str] = []
        with tqdm(total=sum(todo.values()), unit="values", file=self.stderr,
                  disable=options["verbosity"] < 1) as bar:
            for column in columns:
                if not todo[column.label]:
                    continue
                for rows in column.batches(options["batch_size"]):
                    with transaction.atomic(using=column.using):
                        for pk, old in rows:
                            outcome = self._rotate(column, pk, old, failures)
                            counts[outcome] += 1
                            if outcome in ("reencrypted", "plaintext_encrypted"):
                                per_field[column.label] += 1
                    bar.update(len(rows))
        summary = {
            "active_key_id": active,
            "reencrypted": counts["reencrypted"],
            "plaintext_encrypted": counts["plaintext_encrypted"],
            "changed_meanwhile": counts["changed_meanwhile"],
            "failed": counts["failed"],
            "fields": dict(sorted(per_field.items())),
        }
        audit_log(actor=None, action="crypto.rotate_keys", object_type="crypto.sm4_key",
                  object_id=active, object_label=f"SM4 key {active}", after=summary)
        if failures:
            shown = "; ".join(failures[:10]) + (" …" if len(failures) > 10 else "")
            raise CommandError(f"{len(failures)} values could not be re-encrypted: {shown}")
        self.stdout.write(self.style.SUCCESS(
            f"re-encrypted {summary['reencrypted']} values and encrypted "
            f"{summary['plaintext_encrypted']} plaintext values under key {active!r}"))

    @staticmethod
    def _rotate(column: StaleValues, pk: Any, old: str, failures: list[str]) -> str:
        is_ciphertext = old.startswith(crypto.CIPHERTEXT_PREFIX + ":")
        try:
            plaintext = (crypto.decrypt(old, associated_data=column.associated_data)
                         if is_ciphertext else old)
        except crypto.DecryptionError as exc:
            failures.append(f"{column.label} #{pk}: {exc}")
            return "failed"
        new = crypto.encrypt(plaintext, associated_data=column.associated_data)
        if not column.replace(pk, old, new):
            return "changed_meanwhile"
        return "reencrypted" if is_ciphertext else "plaintext_encrypted"
