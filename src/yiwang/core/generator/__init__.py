"""The deterministic demo district (示范区) and its population.

``build_district`` gives the org tree with boundaries, ``generate`` streams buildings,
houses, persons and enterprises to CSV or Parquet, ``load_org`` puts the org tree and
the demo accounts into the database. Same seed, same output, byte for byte.
"""

from .district import DEFAULT_SEED, DistrictSpec, UnitSpec, build_district
from .pipeline import GenerateResult, generate

__all__ = [
    "DEFAULT_SEED",
    "DistrictSpec",
    "GenerateResult",
    "UnitSpec",
    "build_district",
    "generate",
]
