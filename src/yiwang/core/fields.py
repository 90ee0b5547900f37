"""Model fields for personal data encrypted at rest with SM4-GCM."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Stores ``crypto.encrypt(value)``; Python code sees the plaintext.

    Encrypted values cannot be filtered on; pair the field with a blind-index
    ``CharField`` (see ``accounts.User.id_number_bidx``) for exact look-ups.
    """

    description = "Text encrypted with SM4-GCM"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(crypto.CIPHERTEXT_PREFIX + ":"):
            return crypto.decrypt(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))
