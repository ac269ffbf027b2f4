"""The VS Code extension's language lists match the server's one list (`manyskills.index.languages`):
the client attaches to exactly the LSP language ids the server maps, and offers exactly the server's
languages in the `manyskills.languages` setting."""

from __future__ import annotations

import json
import re
from pathlib import Path

from manyskills.index.languages import LANGUAGE_NAMES, LANGUAGES, language_for_lsp_id
from manyskills.settings import ALL_LANGUAGES

EXTENSION = Path(__file__).resolve().parents[2] / "editors" / "vscode"
LSP_IDS = [lsp_id for spec in LANGUAGES.values() for lsp_id in spec.lsp_ids]


def _manifest() -> dict:
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def _ts_string_array(name: str) -> list[str]:
    """The string literals of `export const <name> = [...]` in the extension's settings module."""
    source = (EXTENSION / "src" / "core" / "settings.ts").read_text(encoding="utf-8")
    match = re.search(rf"export const {name}\s*=\s*\[(.*?)\]", source, re.DOTALL)
    assert match is not None, f"{name} not found in settings.ts"
    return re.findall(r"'([^']*)'", match.group(1))


def test_server_list_is_consistent():
    assert LANGUAGE_NAMES == tuple(LANGUAGES)
    assert ALL_LANGUAGES == LANGUAGE_NAMES  # what settings and the CLI accept
    assert len(set(LSP_IDS)) == len(LSP_IDS)
    assert all(language_for_lsp_id(lsp_id) in LANGUAGE_NAMES for lsp_id in LSP_IDS)


def test_activation_events_are_the_server_lsp_ids():
    assert _manifest()["activationEvents"] == [f"onLanguage:{lsp_id}" for lsp_id in LSP_IDS]


def test_languages_setting_offers_the_server_languages():
    setting = _manifest()["contributes"]["configuration"]["properties"]["manyskills.languages"]
    assert setting["items"]["enum"] == list(LANGUAGE_NAMES)
    assert setting["default"] == list(LANGUAGE_NAMES)


def test_extension_source_lists_match():
    # CLIENT_LANGUAGE_IDS feeds the document selector; SERVER_LANGUAGES the settings validation
    assert _ts_string_array("CLIENT_LANGUAGE_IDS") == LSP_IDS
    assert _ts_string_array("SERVER_LANGUAGES") == list(LANGUAGE_NAMES)
