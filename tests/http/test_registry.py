"""The extension points (customer page panels, bulk actions, privacy erasers and contributors,
settings links, export kinds) live in each app's own registry: two apps built in one process
share none of them, and building one adds nothing to another."""

from dataclasses import fields

from flask import url_for

from shopadmin import create_app
from shopadmin.registry import Registry, registry


def _snapshot(entries: Registry) -> dict[str, list]:
    """Each entry's contents (dicts by their keys: a part may build its values per app)."""
    return {f.name: list(getattr(entries, f.name)) for f in fields(Registry)}


def _second_app(app, tmp_path):
    return create_app({"INSTANCE_PATH": str(tmp_path / "second"),
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "SECRET_KEY": "second app"})


def test_two_apps_in_one_process_do_not_share_registrations(app, tmp_path):
    first = registry(app)
    before = _snapshot(first)
    second = registry(_second_app(app, tmp_path))

    assert second is not first
    # Building the second app added nothing to the first, and gave it the same entries.
    assert _snapshot(first) == before
    assert _snapshot(second) == before
    for entry in fields(Registry):
        assert getattr(second, entry.name) is not getattr(first, entry.name), entry.name
    # Every part added what it adds, once.
    assert list(first.export_kinds) == ["customers", "orders"]
    assert "send_password" in first.bulk_actions and "delete" in first.bulk_actions
    assert "orders/_customer_orders_panel.html" in first.customer_panels
    assert first.customer_actions == ["notifications/_send_password_button.html",
                                      "orders/_customer_orders_button.html"]
    assert [endpoint for endpoint, _label in first.settings_links] == [
        "customers.privacy_log", "settings.consent", "auth.security_log", "api_keys.index_keys"]
    assert len(first.erasers) == len(set(first.erasers)) == 4

    second.add_settings_link("settings.consent", "Only in the second app")
    second.add_eraser(print)
    assert "Only in the second app" not in [str(label) for _e, label in first.settings_links]
    assert print not in first.erasers


def test_a_link_added_to_one_app_shows_on_its_settings_page_only(app, client, login_as,
                                                                  tmp_path):
    second = _second_app(app, tmp_path)
    registry(second).add_settings_link("settings.consent", "Link of the second app")
    login_as("admin")

    page = client.get("/settings/").get_data(as_text=True)
    assert "Link of the second app" not in page
    with app.test_request_context():
        api_keys = url_for("api_keys.index_keys")
    assert page.count(f'href="{api_keys}"') == 1  # listed once, however many apps were built

    registry(app).add_settings_link("settings.consent", "Link of the first app")
    assert "Link of the first app" in client.get("/settings/").get_data(as_text=True)
