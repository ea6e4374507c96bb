"""One English word that stands for different things carries a context (msgctxt), so that each
language can say each thing its own way: "To" of a date filter is "Bis" in German, "To" of a mail
is "An"; "Created" of a customer is "Créé", of an order count "Créés"."""

import re
from pathlib import Path

import pytest

from .test_catalogues import ROOT, catalog, extract

# English words known to stand for different things on different pages (a date bound and a mail
# header; a status of an order, a mail or an import; an event, a timestamp or a counter; the name
# of a person or of a thing). Wherever they are used, they must carry one of CONTEXTS.
AMBIGUOUS = {
    "From", "To", "Newest first", "Oldest first", "Name", "Created", "Updated", "Modified",
    "Changed", "Unchanged", "Rejected", "Deleted", "Restored", "New", "Processing", "Ready",
    "Failed", "Queued", "Sending", "Sent", "Started", "Completed", "Cancelled", "Uploaded",
    "Previewed", "Undone",
}

# Every context in use, and what it stands for: a closed list, so that a typo cannot split one
# meaning into two entries.
CONTEXTS = {
    "date filter": "the bounds of a date range in a filter (from / until a date)",
    "mail header": "the sender and recipient lines of a mail",
    "order sort": "the order of the orders list (orders: feminine in French, neuter in Polish)",
    "customer sort": "the order of the customer list (customers: persons)",
    "person": "the name of a person (pl: imię i nazwisko)",
    "thing": "the name of a thing: a group, a key, a view (pl: nazwa)",
    "timestamp": "a column or field holding when something happened",
    "customer event": "an event in a customer's history",
    "order status": "the status of an order",
    "import status": "the status of an import",
    "export status": "the status of an export",
    "mail status": "the status of one mail",
    "mail count": "a count or filter of mails in a given state (plural)",
    "import preview": "a counter of an import's preview: what will happen, nothing written yet",
    "import result": "a counter or column of an applied import: what happened",
    "column": "a column of an uploaded worksheet",
}

# Pairs that must read differently in the named languages: the faults the contexts fix.
MUST_DIFFER = [
    (("date filter", "To"), ("mail header", "To"), ("de", "fr")),
    (("date filter", "From"), ("mail header", "From"), ("fr",)),
    (("order sort", "Newest first"), ("customer sort", "Newest first"), ("fr",)),
    (("person", "Name"), ("thing", "Name"), ("pl",)),
    (("import preview", "New"), ("import result", "Created"), ("de", "fr", "pl")),
    (("import preview", "To update"), ("import result", "Updated"), ("de", "fr", "pl")),
    (("mail status", "Sent"), ("mail count", "Sent"), ("fr", "pl")),
]


# A column heading names a thing, a button says what it does: German "Export" / "Exportieren",
# French "Aperçu" / "Prévisualiser". One bare msgid in both places is one word for two things.
HEADING = re.compile(r"<th[^>]*>\s*\{\{\s*_\('([^']+)'\)\s*\}\}")
ACTION = re.compile(
    r"(?:submit\(|confirm_button\([^,]+,\s*|<button[^>]*>\s*\{\{\s*)_\('([^']+)'\)")


def headings_that_are_also_actions(templates: Path) -> list[str]:
    """The bare msgids a template uses as a column heading and another (or the same) as the
    label of a button."""
    headings, actions = set(), set()
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        headings.update(HEADING.findall(text))
        actions.update(ACTION.findall(text))
    return sorted(headings & actions)


def bare_ambiguous_words(messages) -> list[str]:
    """The ambiguous English words used without a context."""
    return sorted(m.id for m in messages if m.id in AMBIGUOUS and not m.context)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    return list(extract(ROOT, tmp_path_factory.mktemp("pot") / "messages.pot"))


def test_ambiguous_words_always_carry_a_context(extracted):
    bare = bare_ambiguous_words(extracted)
    assert not bare, (
        f"used without a context (pgettext / lazy_pgettext, one of {sorted(CONTEXTS)}): {bare}")


def test_every_context_is_a_known_one(extracted):
    unknown = sorted({(m.context, m.id) for m in extracted if m.context}
                     - {(m.context, m.id) for m in extracted if m.context in CONTEXTS})
    assert not unknown, f"contexts not in CONTEXTS (add them with their meaning): {unknown}"


@pytest.mark.parametrize(("first", "second", "languages"), MUST_DIFFER)
def test_the_contexts_read_differently(first, second, languages):
    for language in languages:
        entries = catalog(language)
        one, other = entries.get(first[1], first[0]), entries.get(second[1], second[0])
        assert one is not None and other is not None, (language, first, second)
        assert one.string != other.string, (language, first, second, one.string)


def test_the_check_catches_a_bare_word_in_code_and_in_templates(tmp_path: Path):
    """The check above can fail: a bare "To" in a template and a bare "Created" in code are
    found, a "To" with a context is not."""
    (tmp_path / "babel.cfg").write_text((ROOT / "babel.cfg").read_text())
    (tmp_path / "shopadmin").mkdir()
    (tmp_path / "shopadmin" / "labels.py").write_text(
        "from flask_babel import lazy_gettext as _l, lazy_pgettext as _lp\n"
        "CREATED = _l('Created')\nTO = _lp('date filter', 'To')\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "mail.html").write_text(
        "<dt>{{ _('To') }}</dt><dt>{{ pgettext('mail header', 'From') }}</dt>\n")
    messages = list(extract(tmp_path, tmp_path / "messages.pot"))
    assert bare_ambiguous_words(messages) == ["Created", "To"]
    assert {(m.context, m.id) for m in messages if m.context} == {
        ("date filter", "To"), ("mail header", "From")}


def test_no_bare_msgid_is_both_a_column_heading_and_a_button():
    clashes = headings_that_are_also_actions(ROOT / "templates")
    assert not clashes, f"give the heading or the button a context (pgettext): {clashes}"


def test_the_heading_check_can_fail(tmp_path: Path):
    (tmp_path / "list.html").write_text(
        "<th>{{ _('Export') }}</th><th>{{ pgettext('column', 'Preview') }}</th>")
    (tmp_path / "form.html").write_text(
        "{{ submit(_('Export')) }}<button class=\"btn\">{{ _('Preview') }}</button>")
    assert headings_that_are_also_actions(tmp_path) == ["Export"]
