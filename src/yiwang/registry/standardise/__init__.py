"""Standardisation: one written form for every value the registry compares.

One module per kind of value, each with a one-value rule and its batch form over a
column (a list or a pyarrow array), results as dataclasses / pyarrow tables with
``value``, ``kind``, ``valid`` and ``reason`` (see ``docs/adr/0009``):

- ``identity``: ID numbers and permits (GB 11643 layout);
- ``codes``: credit codes (GB 32100), organisation codes, registration numbers;
- ``phone``: phone numbers in the blind index's form;
- ``names``: person names, surname, pinyin key;
- ``dates``: dates as ISO, with ambiguity flagged;
- ``enterprise``: enterprise names, legal form, branch, comparison key;
- ``address``: addresses parsed and placed with the ``gazetteer``.
"""

from .address import parse_address, parse_addresses
from .codes import standardise_credit_code, standardise_credit_codes
from .dates import standardise_date, standardise_dates
from .enterprise import standardise_enterprise_name, standardise_enterprise_names
from .gazetteer import Gazetteer
from .identity import standardise_id_number, standardise_id_numbers
from .names import standardise_name, standardise_names
from .phone import standardise_phone, standardise_phones

__all__ = [
    "Gazetteer",
    "parse_address",
    "parse_addresses",
    "standardise_credit_code",
    "standardise_credit_codes",
    "standardise_date",
    "standardise_dates",
    "standardise_enterprise_name",
    "standardise_enterprise_names",
    "standardise_id_number",
    "standardise_id_numbers",
    "standardise_name",
    "standardise_names",
    "standardise_phone",
    "standardise_phones",
]
