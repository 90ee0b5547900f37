"""Fill untranslated zh_Hans entries from JSON files of {msgid: translation}.

    .venv/bin/python tools/i18n_fill.py translations/*.json   # then ./yw i18n

Prints the msgids still untranslated afterwards, so nothing is left behind silently.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib  # type: ignore[import-untyped]

PO = Path(__file__).resolve().parents[1] / "src/yiwang/locale/zh_Hans/LC_MESSAGES/django.po"


def main(paths: list[str]) -> int:
    table: dict[str, str] = {}
    for path in paths:
        table.update(json.loads(Path(path).read_text(encoding="utf-8")))
    catalogue = polib.pofile(str(PO))
    filled = 0
    for entry in catalogue:
        done = entry.msgstr or any(entry.msgstr_plural.values())
        if entry.obsolete or (done and "fuzzy" not in entry.flags):
            continue
        text = table.get(entry.msgid) or table.get(entry.msgid_plural or "")
        if text and entry.msgid_plural:
            entry.msgstr_plural = {0: text}  # Chinese has one plural form
            filled += 1
        elif text:
            entry.msgstr = text
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            filled += 1
    catalogue.save(str(PO))
    missing = [e.msgid for e in catalogue if not e.obsolete and
               (not (e.msgstr or any(e.msgstr_plural.values())) or "fuzzy" in e.flags)]
    print(f"filled {filled}; still untranslated {len(missing)}")
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
