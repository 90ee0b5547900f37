"""Shared data for the standardisation tests: the demo district and a small population."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pytest

from yiwang.core.generator import DistrictSpec, build_district
from yiwang.core.generator.population import (
    EnterpriseTables,
    auto_building_count,
    buildings_table,
    enterprises_table,
    make_context,
    persons_table,
    standalone_pool,
)
from yiwang.registry.standardise.gazetteer import Gazetteer

AS_OF = dt.date(2026, 1, 1)  # the generator's reference day


def row_of(result: object) -> dict[str, object]:
    """A rule's result as the batch form's row."""
    return {name: getattr(result, name) for name in result.__slots__}  # type: ignore[attr-defined]


@dataclass
class Sample:
    spec: DistrictSpec
    buildings: pa.Table
    persons: pa.Table
    enterprises: pa.Table
    gazetteer: Gazetteer


@pytest.fixture(scope="session")
def sample() -> Sample:
    spec = build_district()
    persons, enterprises = 4_000, 1_000
    count = auto_building_count(persons=persons, enterprises=enterprises)
    ctx = make_context(spec=spec, seed=spec.seed, buildings=count)
    buildings = buildings_table(ctx, 0, count)
    pool = standalone_pool(ctx, size=500)
    return Sample(
        spec=spec, buildings=buildings, persons=persons_table(ctx, 0, persons, 0),
        enterprises=enterprises_table(ctx, EnterpriseTables.build(pool), 0, enterprises, 0),
        gazetteer=Gazetteer.from_spec(spec, buildings=buildings),
    )
