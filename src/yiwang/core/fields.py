"""Model fields for personal data encrypted at rest with SM4-GCM."""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Stores ``crypto.encrypt(value)``; Python code sees the plaintext.

    Encrypted values cannot be filtered on; pair the field with a blind-index
    ``CharField`` (see ``accounts.User.id_number_bidx``) for exact look-ups.

    The ciphertext is bound to its column (``app.model.field`` as GCM associated data),
    so a value copied into another encrypted column fails to decrypt instead of being
    read as, say, a phone number.
    """

    description = "Text encrypted with SM4-GCM"

    @property
    def associated_data(self) -> bytes:
        return f"{self.model._meta.label_lower}.{self.name}".encode()

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value, associated_data=self.associated_data)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(crypto.CIPHERTEXT_PREFIX + ":"):
            return crypto.decrypt(value, associated_data=self.associated_data)
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), associated_data=self.associated_data)
