"""Customer groups: create, rename, describe, delete; member counts in one query."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..audit import record_event
from ..auth.models import StaffUser
from ..domain import DomainError
from ..extensions import db
from ..text import fold
from .models import Customer, CustomerGroup, customer_group_members


def _check_name(name: str, group: CustomerGroup | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Give the group a name."), "name")
    if len(name) > 120:
        raise DomainError(_("At most %(count)d characters.", count=120), "name")
    for other in db.session.scalars(select(CustomerGroup)):
        if other is not group and fold(other.name) == fold(name):
            raise DomainError(_("A group named “%(name)s” already exists.", name=other.name),
                              "name")
    return name


def create_group(name: str, description: str, *, actor: StaffUser) -> CustomerGroup:
    group = CustomerGroup(name=_check_name(name, None), description=description.strip())
    db.session.add(group)
    db.session.flush()
    record_event("group.created", "group", group.id, actor=actor,
                 changes={"name": [None, group.name]})
    return group


def update_group(group: CustomerGroup, name: str, description: str, *,
                 actor: StaffUser) -> dict:
    new = {"name": _check_name(name, group), "description": description.strip()}
    changes = {key: [getattr(group, key), value] for key, value in new.items()
               if getattr(group, key) != value}
    for key, (_old, value) in changes.items():
        setattr(group, key, value)
    if changes:
        record_event("group.updated", "group", group.id, actor=actor, changes=changes)
    return changes


def delete_group(group: CustomerGroup, *, actor: StaffUser) -> int:
    """Remove the group and its memberships; the customers stay. Returns the member count."""
    members = member_counts().get(group.id, 0)
    record_event("group.deleted", "group", group.id, actor=actor,
                 changes={"name": [group.name, None], "members": members})
    db.session.delete(group)
    db.session.flush()
    return members


def member_counts() -> dict[int, int]:
    """Live members per group id, in one grouped query."""
    members = customer_group_members.c
    rows = db.session.execute(
        select(members.group_id, func.count())
        .join(Customer, Customer.id == members.customer_id)
        .where(Customer.deleted_at.is_(None))
        .group_by(members.group_id)
    )
    return dict(rows.all())
