"""Two-factor sign-in for staff: TOTP codes (pyotp) and single-use recovery codes.

The TOTP secret is stored encrypted (Fernet) under a key derived from SECRET_KEY by HKDF, so a
database dump alone does not give it away; SECRET_KEY lives in the instance folder or the
environment, never in the database. (A new SECRET_KEY makes the stored secrets unreadable: the
staff members then set two-factor sign-in up again after an admin resets it.) Recovery codes
carry 80 random bits and are stored as SHA-256 hashes: that many bits cannot be guessed from a
hash, so no slow hash is needed. A code is accepted at most once: the time step of the last
accepted TOTP code is kept, and a recovery code is marked used.

Services flush; the caller commits.
"""

import base64
import hashlib
import hmac
import secrets
import time
from typing import Literal

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from ..audit import record_event
from ..database import utcnow
from ..domain import DomainError
from ..extensions import db
from .models import RecoveryCode, Role, StaffUser

ISSUER = "shopadmin"
RECOVERY_CODES = 10
# A code of the step before or after the current one is accepted too (clocks drift).
VALID_WINDOW = 1
# The store setting require_two_factor: who must sign in with a second factor.
Requirement = Literal["off", "admins", "everyone"]


def _fernet() -> Fernet:
    secret_key = current_app.config["SECRET_KEY"]
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"shopadmin two-factor secrets").derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed: the secret is lost, an admin resets it
        return None


def is_required(user: StaffUser, requirement: Requirement) -> bool:
    """Whether the store setting obliges this staff member to sign in with a second factor."""
    return requirement == "everyone" or (requirement == "admins" and user.role == Role.ADMIN)


def begin_setup(user: StaffUser) -> str:
    """A new secret for the user, stored (encrypted) but not yet on; returns it."""
    if user.two_factor_enabled:
        raise DomainError(_("Two-factor sign-in is already on."))
    secret = pyotp.random_base32()
    user.totp_secret = _encrypt(secret)
    user.totp_last_step = None
    db.session.flush()
    return secret


def pending_secret(user: StaffUser) -> str | None:
    """The secret being set up (not yet confirmed), if any."""
    return None if user.two_factor_enabled else _decrypt(user.totp_secret)


def provisioning_uri(user: StaffUser, secret: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The QR code of `uri` as an inline SVG, drawn here (no image service sees the secret)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, title="QR")
    return Markup(svg)  # noqa: S704 (segno's own markup, holding nothing user-typed)


def _normalise(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").upper()


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step whose TOTP code is `code`, near now and later than `last_step`."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue  # this code (or an older one) was used already: a replay
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(user: StaffUser) -> list[str]:
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _number in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 16 characters, 80 bits
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(raw)))
    return codes


# Base32 has no 0, 1 or 8: typed for O, I and B, they are read as meant.
_LOOKALIKES = str.maketrans("018", "OIB")


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).translate(_LOOKALIKES).encode()).hexdigest()


def confirm_setup(user: StaffUser, code: str) -> list[str]:
    """Turn two-factor sign-in on once the code from the app matches; returns the ten recovery
    codes, in clear for this once."""
    secret = pending_secret(user)
    if secret is None:
        raise DomainError(_("Start the set-up again: no secret is waiting for a code."), "code")
    step = _matching_step(secret, _normalise(code), None)
    if step is None:
        raise DomainError(_("The code is not correct. Check the time on your phone and enter "
                            "the code shown now."), "code")
    user.totp_last_step = step
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    record_event("staff.two_factor_enabled", "staff_user", user.id, actor=user)
    db.session.flush()
    return codes


CheckResult = Literal["totp", "recovery"]


def check_code(user: StaffUser, code: str) -> CheckResult | None:
    """Whether `code` is the user's current TOTP code or an unused recovery code; the code is
    spent either way. None when it is neither (or a replay)."""
    code = _normalise(code)
    secret = _decrypt(user.totp_secret)
    if secret is not None:
        step = _matching_step(secret, code, user.totp_last_step)
        # Taken in one statement, so that two requests racing with one code cannot both win.
        if step is not None and db.session.execute(
                db.update(StaffUser)
                .where(StaffUser.id == user.id, db.or_(StaffUser.totp_last_step.is_(None),
                                                       StaffUser.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)).rowcount:  # type: ignore[attr-defined]  # DML: a CursorResult
            user.totp_last_step = step
            return "totp"
    if len(code) == 16:
        # Marked used in one statement: two requests racing with one code cannot both win.
        spent = db.session.execute(
            db.update(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
                   RecoveryCode.code_hash == _code_hash(code))
            .values(used_at=utcnow()).execution_options(synchronize_session=False))
        if spent.rowcount:  # type: ignore[attr-defined]  # DML: a CursorResult
            return "recovery"
    return None


def recovery_codes_left(user: StaffUser) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def regenerate_recovery_codes(user: StaffUser, code: str) -> list[str]:
    """Ten new recovery codes (the old ones die), against a current code."""
    if check_code(user, code) is None:
        raise DomainError(_("The code is not correct."), "code")
    codes = _new_recovery_codes(user)
    record_event("staff.recovery_codes_renewed", "staff_user", user.id, actor=user)
    db.session.flush()
    return codes


def _remove(user: StaffUser) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable(user: StaffUser, code: str) -> None:
    """The staff member turns two-factor sign-in off, with a current code."""
    if check_code(user, code) is None:
        raise DomainError(_("The code is not correct."), "code")
    _remove(user)
    record_event("staff.two_factor_disabled", "staff_user", user.id, actor=user)
    db.session.flush()


def reset(user: StaffUser, *, actor: StaffUser | None) -> None:
    """An admin (or, with no actor, an operator's `flask users reset-two-factor`) removes a
    colleague's second factor (a lost phone): the colleague sets it up again at the next
    sign-in when the store requires it. Their sessions end."""
    from .services import end_all_sessions

    _remove(user)
    end_all_sessions(user)
    record_event("staff.two_factor_reset", "staff_user", user.id, actor=actor,
                 changes={"email": user.email})
    db.session.flush()
