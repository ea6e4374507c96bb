"""Every string of the code and templates reads fully in de, fr, en and pl."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("de", "fr", "en", "pl")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\[\[(\w+)\]\]")


def catalog(language):
    with (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def extraction_keywords() -> list[str]:
    """The `-k` options of `make extract-messages` (the Makefile's KEYWORDS), so that the test
    extracts exactly what the Makefile does."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines()
                if line.startswith("KEYWORDS :="))
    return line.split(":=", 1)[1].split()


def extract(root: Path, pot: Path):
    """Extract the strings under `root` (with its babel.cfg) into `pot` and read them back."""
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         *extraction_keywords(), "--ignore-dirs", ".* __pycache__ test-output instance",
         "-o", str(pot), "--no-location", "."],
        cwd=root, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The strings the code and templates hold now, extracted as `make extract-messages` does."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    return {(message.context, message.id) for message in extract(ROOT, pot) if message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(language, extracted):
    entries = {(message.context, message.id): message
               for message in catalog(language) if message.id}
    missing = sorted(str(key) for key in extracted - set(entries))
    assert not missing, f"{language}: not in the catalogue (make update-translations): {missing}"
    untranslated = [key for key, message in entries.items()
                    if not message.string or (isinstance(message.string, tuple)
                                              and not all(message.string))]
    assert not untranslated, f"{language}: untranslated: {untranslated}"
    fuzzy = [key for key, message in entries.items() if message.fuzzy]
    assert not fuzzy, f"{language}: fuzzy: {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match(language):
    for message in catalog(language):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        translations = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = placeholders(sources[-1]) | placeholders(sources[0])
        for translation in translations:
            found = placeholders(translation)
            # A singular form may leave the number out ("one customer"), nothing else.
            assert found <= expected and expected - found <= {"num"}, (
                f"{language}: {message.id!r} -> {translation!r}"
            )


@pytest.mark.parametrize("language", ("de", "fr", "pl"))
def test_translations_are_not_english_copies(language):
    entries = [m for m in catalog(language) if m.id and isinstance(m.id, str) and len(m.id) > 25]
    copied = [m.id for m in entries if m.string == m.id]
    assert len(copied) <= len(entries) // 20, f"{language}: copied from English: {copied}"
