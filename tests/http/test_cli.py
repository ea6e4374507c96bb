"""The flask commands a new user and an operator run."""

from shopadmin.auth.models import Role, StaffUser
from shopadmin.auth.services import authenticate
from shopadmin.extensions import db


def test_users_create_with_a_password_and_list(runner):
    result = runner.invoke(args=["users", "create", "Boss@Shop.test", "--role", "admin",
                                 "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(StaffUser).filter_by(email="boss@shop.test"))
    assert user.role == Role.ADMIN and not user.must_change_password
    assert authenticate("boss@shop.test", "a long enough password") is not None
    listing = runner.invoke(args=["users", "list"])
    assert "boss@shop.test\tadmin\tactive" in listing.output


def test_users_create_generates_a_one_time_password_when_not_interactive(runner):
    result = runner.invoke(args=["users", "create", "new@shop.test"])
    assert result.exit_code == 0, result.output
    password = result.output.split("sign-in): ")[1].strip()
    user = authenticate("new@shop.test", password)
    assert user is not None and user.must_change_password and user.role == Role.STAFF


def test_users_create_refuses_a_short_password_and_a_duplicate(runner):
    short = runner.invoke(args=["users", "create", "a@shop.test", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    runner.invoke(args=["users", "create", "b@shop.test", "--password", "long enough pw"])
    again = runner.invoke(args=["users", "create", "B@shop.test", "--password", "long enough pw"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_setup_creates_one_first_admin_and_is_idempotent(runner, monkeypatch):
    monkeypatch.setenv("SHOPADMIN_ADMIN_EMAIL", "owner@shop.test")
    monkeypatch.setenv("SHOPADMIN_ADMIN_PASSWORD", "owner password 123")
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "owner@shop.test" in first.output
    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0 and "First administrator" not in second.output
    assert db.session.query(StaffUser).count() == 1
    assert authenticate("owner@shop.test", "owner password 123").is_admin
