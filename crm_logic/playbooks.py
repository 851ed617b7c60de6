"""Tactics per group, in both languages, kept as data: crm_logic/playbooks/<topic>.toml.

Each file holds tables `[<kind>.<key>]` with `zh = [...]` and `en = [...]` lists of two to five
tactics, written for this product from the concepts page (../shared/docs/crm-concepts.md). A kind is
e.g. "segment", "level", "form", "behaviour", "style", "lifecycle", "alliance_mode". Each room owns
its own file; the loader merges them.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

PLAYBOOK_DIR = Path(__file__).resolve().parent / "playbooks"


@lru_cache(maxsize=None)
def playbooks() -> dict[str, dict[str, dict[str, list[str]]]]:
    """{kind: {key: {"zh": [...], "en": [...]}}} from every playbook file."""
    merged: dict[str, dict] = {}
    for path in sorted(PLAYBOOK_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            for kind, entries in tomllib.load(fh).items():
                merged.setdefault(kind, {}).update(entries)
    return merged


def tactics(kind: str, key: str, lang: str) -> list[str]:
    """The tactics for one group in `lang` (empty when the playbooks have none for it)."""
    return list(playbooks().get(kind, {}).get(key, {}).get(lang, []))
