"""``yw i18n``: extract messages, merge the catalogues, fill zh-Hant, compile .mo files.

Pure Python, so GNU gettext need not be installed:

- Python sources are read with ``ast`` (every ``_``/``gettext``/``ngettext``/``pgettext``
  call with literal strings, lazy variants included);
- templates (``templates/**/*.html`` and ``*.txt``) go through Django's own
  ``templatize``, which turns ``{% translate %}`` and ``{% blocktranslate %}`` into the
  gettext calls that makemessages would hand to xgettext;
- ``polib`` merges the messages into ``locale/<lang>/LC_MESSAGES/django.po`` (translations
  kept, vanished messages marked obsolete) and compiles ``django.mo``.

English is the source language, so ``en`` is filled with the msgids. ``zh_Hans`` is
translated by people. ``zh_Hant`` (Hong Kong and Macao residents) is generated from
zh_Hans with OpenCC ``s2hk`` plus a short list of term fixes; such entries carry the
translator comment ``opencc`` and are regenerated when zh_Hans changes. Edit a zh_Hant
entry by hand and remove the comment to keep your wording.

    ./yw i18n            extract, merge, fill zh-Hant, compile
    ./yw i18n --check    fail if a catalogue is stale, incomplete or not compiled
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polib  # type: ignore[import-untyped]
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation.template import templatize

LANGUAGES = ("zh_Hans", "zh_Hant", "en")
PLURAL_FORMS = {"zh_Hans": "nplurals=1; plural=0;", "zh_Hant": "nplurals=1; plural=0;",
                "en": "nplurals=2; plural=(n != 1);"}
OPENCC_MARK = "opencc"
# Where Hong Kong usage differs from what s2hk produces for our vocabulary.
HANT_FIXES = (
    ("退出登錄", "登出"),
    ("登錄", "登入"),
    ("用户", "用戶"),
    ("賬號", "帳號"),
    ("賬户", "帳戶"),
    ("帳户", "帳戶"),
    ("門户", "門戶"),
    ("户", "戶"),  # s2hk keeps 户 in 客户, 商户…; Hong Kong writes 戶
    ("説", "說"),
    ("脱", "脫"),
    ("羣", "群"),
    ("啓", "啟"),
    ("個人信息", "個人資料"),
    ("基本信息", "基本資料"),
    ("身份信息", "身份資料"),
    ("登入信息", "登入資料"),
    ("政策信息", "政策資訊"),
    ("“", "「"),
    ("”", "」"),
)
# Function name → positions of (context, singular, plural) among the call's arguments.
FUNCTIONS: dict[str, tuple[int | None, int, int | None]] = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
SKIP_DIRS = {"migrations", "tests", "locale", "static", "__pycache__"}
PY_FORMAT = re.compile(r"%(\([^)]+\))?[-#0 +]*\d*(\.\d+)?[sdifrx]")


@dataclass
class Message:
    msgid: str
    msgid_plural: str = ""
    msgctxt: str | None = None
    occurrences: set[tuple[str, str]] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return self.msgctxt, self.msgid

    @property
    def python_format(self) -> bool:
        return bool(PY_FORMAT.search(self.msgid) or PY_FORMAT.search(self.msgid_plural))


# --- extraction -------------------------------------------------------------------------

def _call_name(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


def _literal(args: list[Any], index: int | None) -> str | None:
    if index is None:
        return None
    if index >= len(args):
        return None
    arg = args[index]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _from_call(name: str, args: list[Any]) -> Message | None:
    ctx_at, singular_at, plural_at = FUNCTIONS[name]
    msgid = _literal(args, singular_at)
    if not msgid:
        return None
    msgctxt = _literal(args, ctx_at) if ctx_at is not None else None
    plural = _literal(args, plural_at) if plural_at is not None else ""
    if ctx_at is not None and msgctxt is None:
        return None
    return Message(msgid=msgid, msgid_plural=plural or "", msgctxt=msgctxt)


def extract_python(source: str, origin: str) -> Iterator[tuple[Message, int]]:
    for node in ast.walk(ast.parse(source, origin)):
        if isinstance(node, ast.Call) and _call_name(node) in FUNCTIONS:
            message = _from_call(_call_name(node), list(node.args))
            if message is not None:
                yield message, node.lineno


def extract_template(source: str, origin: str) -> Iterator[tuple[Message, int]]:
    """Messages of a Django template, via ``templatize`` (as makemessages does)."""
    # Inside brackets Python's tokenizer ignores indentation, which template text (turned
    # into X and B runs by templatize) does not respect.
    code = "(\n" + templatize(source, origin) + "\n)"
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
              if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)]
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string not in FUNCTIONS:
            continue
        if i + 1 >= len(tokens) or tokens[i + 1].string != "(":
            continue
        args: list[Any] = []
        j = i + 2
        while j < len(tokens) and tokens[j].string != ")":
            if tokens[j].type == tokenize.STRING:
                args.append(ast.Constant(ast.literal_eval(tokens[j].string)))
            elif tokens[j].string != ",":
                args.append(None)  # a variable: not a literal message
            j += 1
        message = _from_call(tok.string, args)
        if message is not None:
            yield message, tok.start[0] - 1  # the wrapper's first line


def source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts[:-1]) or not path.is_file():
            continue
        if path.suffix == ".py" or ("templates" in rel.parts and path.suffix in {".html",
                                                                                  ".txt"}):
            yield path


def extract(root: Path | None = None) -> dict[tuple[str | None, str], Message]:
    """Every translatable message under ``root`` (default: the yiwang package)."""
    root = root or Path(settings.BASE_DIR)
    found: dict[tuple[str | None, str], Message] = {}
    for path in source_files(root):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root.parent).as_posix()
        if path.suffix == ".py":
            if not any(name + "(" in text for name in FUNCTIONS):
                continue
            pairs: Iterable[tuple[Message, int]] = extract_python(text, rel)
        else:
            pairs = extract_template(text, rel)
        for message, line in pairs:
            known = found.setdefault(message.key, message)
            if message.msgid_plural and not known.msgid_plural:
                known.msgid_plural = message.msgid_plural
            known.occurrences.add((rel, str(line)))
    return found


# --- catalogues -------------------------------------------------------------------------

def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def po_path(lang: str) -> Path:
    return locale_dir() / lang / "LC_MESSAGES" / "django.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def load_po(lang: str) -> polib.POFile:
    path = po_path(lang)
    po = polib.pofile(str(path), wrapwidth=0) if path.exists() else polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": "yiwang",
        "Report-Msgid-Bugs-To": "",
        "Language": lang.replace("_", "-"),
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": PLURAL_FORMS[lang],
    }
    return po


@functools.cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("s2hk")


def to_hant(text: str) -> str:
    """Simplified → Traditional Chinese as written in Hong Kong, with our term fixes."""
    out: str = _converter().convert(text)
    for wrong, right in HANT_FIXES:
        out = out.replace(wrong, right)
    return out


def is_translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def _set_translation(entry: polib.POEntry, lang: str, singular: str, plural: str = "") -> None:
    if entry.msgid_plural:
        entry.msgstr_plural = ({0: singular, 1: plural or singular} if lang == "en"
                               else {0: singular})
    else:
        entry.msgstr = singular


def merge(lang: str, messages: dict[tuple[str | None, str], Message],
          hans: polib.POFile | None = None) -> polib.POFile:
    po = load_po(lang)
    existing = {(e.msgctxt, e.msgid): e for e in po}
    for key, message in sorted(messages.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        entry = existing.get(key)
        if entry is None:
            entry = polib.POEntry(msgid=message.msgid, msgctxt=message.msgctxt, msgstr="")
            if message.msgid_plural:
                entry.msgid_plural = message.msgid_plural
                entry.msgstr_plural = {}
            po.append(entry)
        entry.obsolete = False
        entry.occurrences = sorted(message.occurrences)
        entry.flags = [f for f in entry.flags if f not in {"python-format", "fuzzy"}]
        if message.python_format:
            entry.flags.append("python-format")
        if lang == "en":
            _set_translation(entry, lang, message.msgid, message.msgid_plural)
    for key, entry in existing.items():
        if key not in messages:
            entry.obsolete = True
    if lang == "zh_Hant" and hans is not None:
        fill_hant(po, hans)
    po.sort(key=lambda e: (e.obsolete, e.msgid, e.msgctxt or ""))
    return po


def fill_hant(hant: polib.POFile, hans: polib.POFile) -> int:
    """Generate zh-Hant from zh-Hans where it is missing or was generated before."""
    source = {(e.msgctxt, e.msgid): e for e in hans if not e.obsolete}
    changed = 0
    for entry in hant:
        if entry.obsolete:
            continue
        simplified = source.get((entry.msgctxt, entry.msgid))
        if simplified is None or not is_translated(simplified):
            continue
        if is_translated(entry) and entry.tcomment != OPENCC_MARK:
            continue  # translated by hand: keep it
        text = (simplified.msgstr_plural.get(0, "") if simplified.msgid_plural
                else simplified.msgstr)
        before = entry.msgstr_plural.get(0) if entry.msgid_plural else entry.msgstr
        _set_translation(entry, "zh_Hant", to_hant(text))
        entry.tcomment = OPENCC_MARK
        changed += before != to_hant(text)
    return changed


def mo_catalogue(path: Path) -> dict[tuple[str | None, str], Any]:
    mo = polib.mofile(str(path))
    return {(e.msgctxt, e.msgid): (e.msgstr_plural or e.msgstr) for e in mo if e.msgid}


def po_catalogue(po: polib.POFile) -> dict[tuple[str | None, str], Any]:
    return {(e.msgctxt, e.msgid): (e.msgstr_plural or e.msgstr)
            for e in po.translated_entries() if e.msgid}


def _normal(catalogue: dict[Any, Any]) -> dict[Any, Any]:
    return {k: ({int(i): s for i, s in v.items()} if isinstance(v, dict) else v)
            for k, v in catalogue.items()}


def problems() -> list[str]:
    """Why the catalogues are not in order (empty when they are)."""
    found = extract()
    issues = []
    for lang in LANGUAGES:
        path = po_path(lang)
        if not path.exists():
            issues.append(f"{lang}: no catalogue at {path}")
            continue
        po = polib.pofile(str(path))
        entries = {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}
        missing = [k[1] for k in found if k not in entries]
        if missing:
            issues.append(f"{lang}: {len(missing)} messages not extracted yet, e.g. "
                          f"{missing[0]!r} (run ./yw i18n)")
        untranslated = [k[1] for k, e in entries.items() if k in found and not is_translated(e)]
        if untranslated:
            issues.append(f"{lang}: {len(untranslated)} messages untranslated, e.g. "
                          f"{untranslated[0]!r}")
        mo = mo_path(lang)
        if not mo.exists() or _normal(mo_catalogue(mo)) != _normal(po_catalogue(po)):
            issues.append(f"{lang}: {mo.name} is not compiled from the current .po "
                          "(run ./yw i18n)")
    return issues


class Command(BaseCommand):
    help = "Extract messages, merge the zh-Hans/zh-Hant/en catalogues and compile them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true",
                            help="only report stale, incomplete or uncompiled catalogues")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            issues = problems()
            for issue in issues:
                self.stderr.write(issue)
            if issues:
                raise CommandError("translations are not in order")
            self.stdout.write(self.style.SUCCESS("translations complete and compiled"))
            return
        messages = extract()
        hans = merge("zh_Hans", messages)
        for lang in LANGUAGES:
            po = hans if lang == "zh_Hans" else merge(lang, messages, hans)
            path = po_path(lang)
            path.parent.mkdir(parents=True, exist_ok=True)
            po.save(str(path))
            po.save_as_mofile(str(mo_path(lang)))
            todo = sum(1 for e in po if not e.obsolete and not is_translated(e))
            note = f", {todo} untranslated" if todo else ""
            self.stdout.write(f"{lang}: {len(po) - len(po.obsolete_entries())} "
                              f"messages{note}")
