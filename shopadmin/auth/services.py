"""Staff accounts: passwords, sign-in sessions, roles. Services flush; the caller commits."""

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import record_event
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from ..passwords import STAFF_MIN_LENGTH, check_password, hash_method, hash_password, needs_rehash
from ..text import email_key
from .models import Role, StaffSession, StaffUser

SEEN_INTERVAL = timedelta(minutes=1)


@functools.cache
def _dummy_hash(method: str) -> str:
    """Checked against when the e-mail is unknown, so that a wrong e-mail costs as long as a
    wrong password."""
    return generate_password_hash("not a password", method=method)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def check_password_rules(password: str, field: str = "password", email: str = "") -> None:
    """The customers' password policy, with the longer minimum of staff."""
    check_password(password, email=email, field=field, min_length=STAFF_MIN_LENGTH)


def find_user(email: str) -> StaffUser | None:
    return db.session.scalar(
        db.select(StaffUser).where(StaffUser.email == email_key(email))
    )


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active account with this e-mail and password, else None (one answer to all failures)."""
    user = find_user(email)
    if user is None:
        check_password_hash(_dummy_hash(hash_method()), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        # The password is at hand only now: renew a hash made with weaker parameters.
        user.password_hash = hash_password(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: StaffUser, *, user_agent: str = "", address: str = "") -> str:
    """Open a server-side session for the user and return its token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        StaffSession(
            token_hash=_token_hash(token),
            user=user,
            created_at=now,
            expires_at=now + current_app.config["PERMANENT_SESSION_LIFETIME"],
            user_agent=user_agent[:255],
            address=address[:64],
        )
    )
    user.last_login_at = now
    db.session.flush()
    return token


def user_for_session(token: str, user_id: int) -> StaffUser | None:
    """The user of a live session: not revoked, not past its end, not idle too long.

    A session in use is marked seen at most once a minute (a change left for the caller to
    commit), so that browsing writes to the database only now and then.
    """
    row = db.session.scalar(
        db.select(StaffSession).where(StaffSession.token_hash == _token_hash(token))
    )
    now = utcnow()
    if row is None or row.user_id != user_id or row.expires_at <= now:
        return None
    last_seen = row.last_seen_at or row.created_at
    if last_seen + current_app.config["SESSION_IDLE_TIMEOUT"] <= now:
        return None
    if not row.user.active:
        return None
    if now - last_seen >= SEEN_INTERVAL:
        row.last_seen_at = now
    return row.user


def end_session(token: str) -> None:
    db.session.execute(
        db.delete(StaffSession).where(StaffSession.token_hash == _token_hash(token))
    )


def end_all_sessions(user: StaffUser) -> None:
    db.session.execute(db.delete(StaffSession).where(StaffSession.user_id == user.id))


def purge_expired_sessions() -> int:
    now = utcnow()
    idle_since = now - current_app.config["SESSION_IDLE_TIMEOUT"]
    result = db.session.execute(db.delete(StaffSession).where(
        (StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= idle_since)))
    return result.rowcount  # type: ignore[attr-defined]  # DML: a CursorResult


def create_staff_user(
    email: str,
    *,
    role: Role = Role.STAFF,
    name: str = "",
    password: str | None = None,
    language: str | None = None,
    actor: StaffUser | None = None,
) -> tuple[StaffUser, str]:
    """Create an account; without a password one is generated, to be changed at first sign-in.

    Returns the user and the password in clear, to be shown once.
    """
    email = email_key(email)
    if find_user(email) is not None:
        raise DomainError(_("A staff account with this e-mail address already exists."), "email")
    generated = password is None
    if password is None:
        password = generate_password()
    else:
        check_password_rules(password, email=email)
    user = StaffUser(
        email=email,
        name=name.strip(),
        role=Role(role),
        language=language or None,
        password_hash=hash_password(password),
        must_change_password=generated,
    )
    db.session.add(user)
    db.session.flush()
    record_event("staff.created", "staff_user", user.id, actor=actor,
                 changes={"email": email, "role": user.role.value})
    return user, password


def change_password(user: StaffUser, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise DomainError(_("The current password is not correct."), "current_password")
    check_password_rules(new, "new_password", email=user.email)
    set_password(user, new)


def set_password(user: StaffUser, new: str, *, actor: StaffUser | None = None) -> None:
    """Store a new password and end every session of the account."""
    user.password_hash = hash_password(new)
    user.must_change_password = actor is not None and actor.id != user.id
    end_all_sessions(user)
    record_event("staff.password_changed", "staff_user", user.id, actor=actor or user)
    db.session.flush()


def active_admin_count() -> int:
    return db.session.scalar(
        db.select(func.count()).select_from(StaffUser).where(
            StaffUser.role == Role.ADMIN, StaffUser.active.is_(True)
        )
    )


def update_staff_user(
    user: StaffUser, *, actor: StaffUser, name: str, role: Role, active: bool,
    language: str | None,
) -> None:
    """Change an account; the last active admin can be neither demoted nor deactivated."""
    role = Role(role)
    losing_admin = user.is_admin and user.active and (role != Role.ADMIN or not active)
    if losing_admin and active_admin_count() <= 1:
        raise DomainError(_("The last active administrator cannot be removed."), "role")
    changes = {}
    for attribute, value in (("name", name.strip()), ("role", role), ("active", active),
                             ("language", language or None)):
        old = getattr(user, attribute)
        if old != value:
            changes[attribute] = [str(old) if old is not None else None,
                                  str(value) if value is not None else None]
            setattr(user, attribute, value)
    if not active:
        end_all_sessions(user)
    if changes:
        record_event("staff.updated", "staff_user", user.id, actor=actor, changes=changes)
    db.session.flush()


def ensure_first_admin(email: str | None, password: str | None) -> tuple[StaffUser, str] | None:
    """Create an admin when there is no staff account at all; None when one exists."""
    if db.session.scalar(db.select(func.count()).select_from(StaffUser)):
        return None
    return create_staff_user(email or "admin@example.com", role=Role.ADMIN, name="Admin",
                             password=password or None)
