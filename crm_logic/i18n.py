"""Translation catalogues: locales/<lang>/<namespace>.toml, looked up as "namespace.key".

crm_logic returns stable keys; whoever shows them to a person (the app, the command line's reports)
turns them into text here. Both languages must hold the same keys (a test checks it).
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


def _flatten(table: dict, prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """Every key of one language, namespaced by file name."""
    entries: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.toml")):
        with path.open("rb") as fh:
            entries.update(_flatten(tomllib.load(fh), path.stem))
    return entries


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params) -> str:
    """The text for `key` in `lang`, with {placeholders} filled; a missing key shows as the key itself."""
    text = catalogue(lang).get(key)
    if text is None:
        return key
    return text.format(**params) if params else text


def language_from_locale(locale: str | None) -> str:
    """Chinese for a zh-* browser, English otherwise."""
    return "zh" if (locale or "").lower().startswith("zh") else "en"
