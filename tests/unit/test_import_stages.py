"""The import's stages need no Flask: they are given the language of their messages (and the
interface languages), and their messages read exactly as the app's own catalogues have them."""

import subprocess
import sys
from pathlib import Path

import flask_babel
import pytest
from babel.messages.pofile import read_po

from shopadmin.config import LANGUAGES, PROJECT_ROOT
from shopadmin.customers.choices import GENDER_LABELS, Gender
from shopadmin.imports.headings import suggest_mapping
from shopadmin.imports.rows import ParseOptions, RowParser
from shopadmin.translation import speaking, translator

# The modules of reading, mapping and parsing a file: what the reading process runs.
STAGES = ("shopadmin.imports.headings", "shopadmin.imports.rows", "shopadmin.imports.values",
          "shopadmin.imports.streets", "shopadmin.sheets.readers", "shopadmin.sheets.xlsx_reader",
          "shopadmin.sheets.spool", "shopadmin.translation",
          # the reading process's own module, with the duplicate keys and the search terms
          "shopadmin.imports.reading", "shopadmin.imports.seen", "shopadmin.customers.terms",
          "shopadmin.parallel")
FLASK_PACKAGES = ("flask", "flask_babel", "flask_sqlalchemy", "flask_wtf", "flask_login",
                  "werkzeug", "sqlalchemy")


def test_the_stages_load_no_flask():
    code = (f"import sys\nimport {', '.join(STAGES)}\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(FLASK_PACKAGES)!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=PROJECT_ROOT)
    assert result.stdout.strip() == "[]"


def _catalogue(language: str):
    with (PROJECT_ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open(
            "rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_reads_as_flask_babel_writes_it(app, language):
    """The stages' translator and Flask-Babel give the same text for every catalogue entry
    (the stages changed how they get their messages, not the messages)."""
    ours = translator(language)
    entries = [message for message in _catalogue(language) if message.id]
    assert len(entries) > 500
    with flask_babel.force_locale(language):
        for message in entries:
            context = message.context
            if isinstance(message.id, tuple):
                for count in (1, 2, 5, 22):
                    assert ours.catalogue.ngettext(*message.id, count) == \
                        flask_babel.get_translations().ngettext(*message.id, count)
            elif context:
                assert ours.pgettext(context, message.id) == flask_babel.pgettext(
                    context, message.id)
            else:
                assert ours.gettext(message.id) == flask_babel.gettext(message.id)


def _problems(language: str, extra: int = 1) -> list[tuple[str | None, str]]:
    parser = RowParser(["E-mail", "Country", "Newsletter", "Postcode"],
                       ["email", "billing_country", "newsletter", "billing_postcode"],
                       ParseOptions())
    with speaking(language):
        parsed = parser.parse(2, ["jan@@x", "Atlantis", "maybe", "x" * 40] + ["more"] * extra)
    return [(problem.column, problem.message) for problem in parsed.errors + parsed.warnings]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_rows_messages_are_in_the_language_it_is_given(language):
    messages = translator(language)
    left_empty = messages.gettext("%(problem)s The field was left empty.", problem="{}")
    assert _problems(language) == [
        ("E-mail", messages.gettext("“%(value)s” is not a valid e-mail address.",
                                    value="jan@@x")),
        ("Country", left_empty.format(messages.gettext(
            "“%(value)s” is not a country we know; use the country's name or its ISO code.",
            value="Atlantis"))),
        ("Newsletter", left_empty.format(messages.gettext(
            "“%(value)s” is not a yes or no value (use yes/no, 1/0, ja/nein, oui/non or "
            "tak/nie).", value="maybe"))),
        ("Postcode", messages.gettext(
            "Longer than the %(count)d characters this field holds: the first %(count)d were "
            "imported.", count=20)),
        (None, messages.ngettext(
            "This row has %(num)d more cell than the file has headings (from column "
            "%(column)d on); it was not imported.",
            "This row has %(num)d more cells than the file has headings (from column "
            "%(column)d on); they were not imported.", 1, column=5)),
    ]
    if language != "en":  # (the English catalogue writes the messages as they are written)
        assert all(message != english for (_c, message), (_e, english)
                   in zip(_problems(language), _problems("en"), strict=True))


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_address_at_a_reserved_domain_is_refused_saying_why(language):
    parser = RowParser(["E-mail"], ["email"], ParseOptions())
    with speaking(language):
        parsed = parser.parse(2, ["kunde@laden.invalid"])
    assert [(problem.column, problem.message) for problem in parsed.errors] == [
        ("E-mail", translator(language).gettext(
            "“%(value)s” can never receive mail: “.%(name)s” is reserved for tests and local "
            "networks, not given to anyone on the internet.", value="kunde@laden.invalid",
            name="invalid"))]


def test_polish_counts_take_their_three_forms():
    forms = {count: _problems("pl", count)[-1][1] for count in (1, 2, 5)}
    assert len(set(forms.values())) == 3
    assert forms[2].startswith("Ten wiersz ma o 2 ") and forms[5].startswith("Ten wiersz ma o 5 ")


def test_labels_defined_at_import_follow_the_language_spoken():
    female = GENDER_LABELS[Gender.FEMALE]
    assert str(female) == "Female"  # no language given, no app: as written
    with speaking("de"):
        assert str(female) == translator("de").gettext("Female") != "Female"
        with speaking("pl"):
            assert str(female) == translator("pl").gettext("Female")
        assert str(female) == translator("de").gettext("Female")


def test_inside_the_app_labels_follow_flask_babel_unless_a_language_is_spoken(app):
    female = GENDER_LABELS[Gender.FEMALE]
    with flask_babel.force_locale("fr"):
        assert str(female) == flask_babel.gettext("Female") == translator("fr").gettext("Female")
        with speaking("de"):
            assert str(female) == translator("de").gettext("Female")


def test_headings_are_read_in_the_languages_given():
    """Our own labels in each language given (those no other platform writes)."""
    german = ["Vorname", "Freigegebener Käufer", "Identifikationsnummer"]
    polish = ["Imię", "Zatwierdzony kupujący", "Numer identyfikacyjny (REGON)"]
    fields = ["first_name", "approved", "company_id_number"]
    assert suggest_mapping(german, ("de",)) == suggest_mapping(polish, ("pl",)) == fields
    assert suggest_mapping(german, ("fr", "pl")) == ["first_name", None, None]
    assert suggest_mapping(german + polish) == fields + [None, None, None]  # each field once


def test_the_reading_process_writes_in_the_staff_members_language(tmp_path: Path):
    """The spawned reading process builds no app: the plan's language is all it needs."""
    from shopadmin.imports.reading import ReadingPlan, read_in_child, read_rows
    from shopadmin.parallel import parsed_in_child

    path = tmp_path / "customers.csv"
    path.write_text("E-mail;Country;Newsletter;Postcode\n"
                    "ann@shop.test;Polska;tak;00-001\n"
                    f"jan@@x;Atlantis;maybe;{'x' * 40};more\n", encoding="utf-8")
    plan = ReadingPlan(str(path), True, None, None,
                       ["email", "billing_country", "newsletter", "billing_postcode"],
                       None, False, 0, "pl", test_domains=True)
    rows = list(parsed_in_child(read_in_child, (plan, None)))
    with speaking("pl"):
        here = list(read_rows(plan, None))
    assert [p.row for p, _cells in rows] == [2, 3]
    problems = [(e.column, e.message) for e in rows[1][0].errors + rows[1][0].warnings]
    assert problems == [(e.column, e.message) for e in here[1][0].errors + here[1][0].warnings]
    assert problems == _problems("pl")
    assert rows[0][0].values["billing_country"] == "PL"
