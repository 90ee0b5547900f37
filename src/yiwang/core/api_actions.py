"""The JSON API's state-machine transitions: one operation per transition, declared as a
table of ``Action`` rows (the transition's name, its payload schema, the call of its
service and a summary) that each app registers on its router."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ninja import Schema

T = TypeVar("T")
Perform = Callable[[Any, Any, Any], Any]  # (actor, the object, the payload) → answer


@dataclass(frozen=True)
class Action(Generic[T]):
    name: str  # the transition
    payload: type[Schema]
    perform: Callable[[Any, T, Any], Any]
    summary: str


def call(service: Callable[..., Any], subject: str, *fields: str) -> Perform:
    """``perform`` that calls ``service(actor=…, <subject>=obj, <field>=payload.<field>…,
    expected_revision=payload.revision)``: the payload's fields passed through by name."""

    def perform(actor: Any, obj: Any, payload: Any) -> Any:
        given = {name: getattr(payload, name) for name in fields}
        return service(actor=actor, **{subject: obj}, **given,
                       expected_revision=payload.revision)

    return perform
