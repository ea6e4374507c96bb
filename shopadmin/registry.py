"""Extension points: what one part of the back office adds to another's pages and rules.

One `Registry` per application, kept at `app.extensions["shopadmin"]` and filled while
`create_app` registers the blueprints (each part's `init_app(app)`), so that two apps in one
process never share what was added, and importing a module adds nothing. Readers go through
`registry()` (the current app's) inside a request, a job or an app context.

| entry | added by | read by |
| --- | --- | --- |
| customer_actions, customer_panels | `add_customer_panel(template, action=)` | the customer page |
| bulk_actions | `add_bulk_action(BulkAction)` | the customer list and its bulk jobs |
| erasers | `add_eraser(fn(gone: Forgotten))` | `customers/forget.py` |
| contributors | `add_contributor(fn(customer) -> (key, data))` | `customers/privacy.py` |
| settings_links | `add_settings_link(endpoint, label)` | the settings page |
| export_kinds | `add_export_kind(ExportKind)` (`exports/kinds.py`) | the exports |

Tracked job kinds (`tracking.register_kind`) stay beside their Huey tasks: both belong to the
process-wide job queue, not to one app. The export kinds are the register's
(`customers/export.py`) and the orders' (`orders/export.py`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

KEY = "shopadmin"


@dataclass
class Registry:
    customer_actions: list[str] = field(default_factory=list)  # templates, given `customer`
    customer_panels: list[str] = field(default_factory=list)
    bulk_actions: dict[str, Any] = field(default_factory=dict)  # key -> customers.bulk.BulkAction
    erasers: list[Callable[[Any], None]] = field(default_factory=list)
    contributors: list[Callable[[Any], tuple[str, Any]]] = field(default_factory=list)
    settings_links: list[tuple[str, Any]] = field(default_factory=list)  # (endpoint, label)
    export_kinds: dict[str, Any] = field(default_factory=dict)  # name -> ExportKind

    def add_customer_panel(self, template: str, *, action: bool = False) -> None:
        """A template rendered on the customer page with `customer` in its context: among
        the buttons at the top (action) or as a panel below the form."""
        _add_once(self.customer_actions if action else self.customer_panels, template)

    def add_bulk_action(self, action: Any) -> None:
        self.bulk_actions[action.key] = action

    def add_eraser(self, eraser: Callable[[Any], None]) -> None:
        _add_once(self.erasers, eraser)

    def add_contributor(self, contributor: Callable[[Any], tuple[str, Any]]) -> None:
        _add_once(self.contributors, contributor)

    def add_settings_link(self, endpoint: str, label: Any) -> None:
        _add_once(self.settings_links, (endpoint, label))

    def add_export_kind(self, kind: Any) -> None:
        self.export_kinds[kind.name] = kind


def _add_once(entries: list, entry: Any) -> None:
    if entry not in entries:
        entries.append(entry)


def init_app(app: Flask) -> Registry:
    """Give the app its own, empty registry (before any blueprint adds to it)."""
    app.extensions[KEY] = Registry()
    return app.extensions[KEY]


def registry(app: Flask | None = None) -> Registry:
    """The registry of `app`, else of the current app."""
    return (app or current_app).extensions[KEY]
