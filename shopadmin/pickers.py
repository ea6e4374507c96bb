"""Multiple choices as groups of checkboxes, never a list to Ctrl-click through.

`CheckboxesField` is a SelectMultipleField whose options render as checkboxes; the `field` macro
(templates/_macros/forms.html) lays them out, under group headings when it is given groups.
"""

from collections.abc import Iterable

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from .customers.fields import SECTION_LABELS


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes; nothing ticked is an empty list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def groups_by_section(columns: Iterable) -> list[tuple[object | None, list[str]]]:
    """Column names under their section's heading, in the columns' order.

    A customer field has a section; another column may name its heading itself (`group`, as
    an order's address columns do); those with neither (the list's "name", an order's own
    columns) go first, under no heading.
    """
    groups: dict[object, list[str]] = {}
    for column in columns:
        section = getattr(column, "section", None)
        heading = SECTION_LABELS[section] if section else getattr(column, "group", None)
        groups.setdefault(heading, []).append(column.name)
    return sorted(groups.items(), key=lambda item: item[0] is not None)
