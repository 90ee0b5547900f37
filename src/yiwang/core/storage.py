"""Uploaded files on the default storage (``VAR_DIR/media``, which no URL serves): saved
under a random name, and taken back when the transaction that records them fails — a
rolled-back row cannot take its file back with it."""

from __future__ import annotations

import contextlib
import contextvars
import secrets
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

_stored: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "yiwang_files_stored", default=None)


@contextlib.contextmanager
def discard_on_error() -> Iterator[None]:
    """Wrap a transaction that stores files: if it fails, its files are deleted too."""
    names: list[str] = []
    token = _stored.set(names)
    try:
        yield
    except BaseException:
        for name in names:
            default_storage.delete(name)
        raise
    finally:
        _stored.reset(token)


@contextlib.contextmanager
def stored_file(*, folder: str, upload: Any, extension: str) -> Iterator[str]:
    """Save ``upload`` as ``<folder>/<yyyy>/<mm>/<random><extension>`` and give its name
    to the block that records it; the file is deleted if the block fails, or if the
    enclosing ``discard_on_error()`` does."""
    now = timezone.localtime()
    name = default_storage.save(
        f"{folder}/{now:%Y/%m}/{secrets.token_hex(16)}{extension}", upload)
    names = _stored.get()
    if names is not None:
        names.append(name)
    try:
        yield name
    except BaseException:
        default_storage.delete(name)
        raise
