"""Multiple choices as groups of checkboxes, never a list to Ctrl-click through.

`CheckboxesField` is a SelectMultipleField whose options render as checkboxes; the `field` macro
(templates/_macros/forms.html) lays them out, under group headings when it is given groups.
"""

from collections.abc import Iterable

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from .customers.fields import SECTION_LABELS, Section


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes; nothing ticked is an empty list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def groups_by_section(columns: Iterable) -> list[tuple[object | None, list[str]]]:
    """Column names under their section's heading, in the field table's order.

    Each column has a name and, when it is a customer field, a section; those without one (an
    order's, or the list's "name") go first, under no heading.
    """
    groups: dict[Section | None, list[str]] = {}
    for column in columns:
        section = getattr(column, "section", None)
        groups.setdefault(section, []).append(column.name)
    return [(SECTION_LABELS[section] if section else None, names)
            for section, names in sorted(groups.items(), key=lambda item: item[0] is not None)]
