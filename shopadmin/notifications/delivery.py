"""Sending logged mails: one (deliver_logged_mail), or a group of a batch's (deliver_group,
which batches.run_batch drives).

Each mail's state is committed around its hand-over: "sending" (with its new link) before, "sent"
or what went wrong after. A batch does this for a group of mails at a time (GROUP): one commit
claims and prepares the group, one settles it, so that the database is not the bottleneck of a
mailing. A row found in "sending" by a later run belongs to a run that died mid-send; it may
have gone out, so it is marked failed ("interrupted") and is never sent again automatically.
Together with one row per customer and batch, no customer gets a batch's mail twice, whatever
happens to the worker. These functions own their commits: they run in the worker (or, for a
single mail, after the request's own commit).
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import flag_modified

from ..account import tokens
from ..customers.models import Customer
from ..database import utcnow
from ..extensions import db
from ..settings.services import get_settings
from .catalog import LINK_TEMPLATES, TemplateText, get_template
from .composing import named_address
from .models import MailLog, MailStatus
from .rendering import CompiledMail, format_expires, recipient_values
from .transport import (
    AddressTrouble,
    OutgoingMail,
    PermanentFailure,
    RecipientTrouble,
    ServerTrouble,
    Transport,
    UncertainDelivery,
)

GROUP = 25  # mails claimed, prepared and settled together in a batch
# Within a group, the mails handed over are committed this many at a time (in id order): a run
# killed mid-group leaves at most this many whose fate is unknown. One at a time cost 11% of a
# mailing's speed (bench/mails.py: 189 against 212 mails/s); five at a time costs about 2%.
SETTLE_EVERY = 5


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"          # queued again for later
    FAILED = "failed"
    SERVER_TROUBLE = "server"
    SKIPPED = "skipped"      # not ours to send (no longer queued)


class ErrorKind(enum.StrEnum):
    SERVER = "server"
    RECIPIENT = "recipient"
    REFUSED = "refused"
    UNCERTAIN = "uncertain"
    INTERRUPTED = "interrupted"
    NO_CUSTOMER = "no_customer"
    NOT_ASCII = "not_ascii"


@dataclass
class MailContext:
    """What every mail of one run shares: settings, sender, templates, retry policy."""

    settings: dict
    max_attempts: int
    backoff: float
    backoff_max: float
    templates: dict[tuple[str, str], TemplateText] = field(default_factory=dict)
    compiled: dict[tuple[str, str, bool], CompiledMail] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "MailContext":
        config = current_app.config
        return cls(settings=get_settings(), max_attempts=int(config["MAIL_RETRY_ATTEMPTS"]),
                   backoff=float(config["MAIL_RETRY_BACKOFF_SECONDS"]),
                   backoff_max=float(config["MAIL_RETRY_BACKOFF_MAX_SECONDS"]))

    @property
    def sender(self) -> str:
        return named_address(self.settings["shop_name"], self.settings["sender_address"])

    def template(self, key: str, language: str) -> TemplateText:
        if (key, language) not in self.templates:
            self.templates[key, language] = get_template(key, language)
        return self.templates[key, language]

    def compiled_template(self, key: str, language: str, *, link: bool) -> CompiledMail:
        """The template made ready once for the run's many mails (rendering.CompiledMail)."""
        if (key, language, link) not in self.compiled:
            self.compiled[key, language, link] = CompiledMail(self.template(key, language),
                                                              link=link)
        return self.compiled[key, language, link]

    def delay(self, attempt: int) -> float:
        """Exponential back-off: backoff, 2x, 4x, ... up to backoff_max seconds."""
        return min(self.backoff * 2 ** max(attempt - 1, 0), self.backoff_max)


def _claim(log_id: int, now: datetime) -> bool:
    """Move a queued mail to "sending"; False if it is not queued (sent, failed, or taken)."""
    result = db.session.execute(
        update(MailLog)
        .where(MailLog.id == log_id, MailLog.status == MailStatus.QUEUED)
        .values(status=MailStatus.SENDING, attempts=MailLog.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # DML: a CursorResult


def _prepare(mails: list[tuple[MailLog, Customer]], context: MailContext,
             now: datetime) -> list[OutgoingMail]:
    """Render each mail for its customer as they are now; a link mail gets a fresh link (the
    links of the mails issued together, tokens.issue_tokens)."""
    links: dict[int, tokens.IssuedToken] = {}
    linked = [(log, customer) for log, customer in mails if log.template_key in LINK_TEMPLATES]
    for purpose in {LINK_TEMPLATES[log.template_key] for log, _customer in linked}:
        mine = [(log, customer) for log, customer in linked
                if LINK_TEMPLATES[log.template_key] == purpose]
        issued = tokens.issue_tokens([(customer, log.language) for log, customer in mine],
                                     purpose=purpose, now=now)
        links.update(zip([log.id for log, _customer in mine], issued, strict=True))
    prepared = []
    expiries: dict[tuple[datetime, str], str] = {}  # (the group's links end together)
    for log, customer in mails:
        values = recipient_values(customer, context.settings)
        if (link := links.get(log.id)) is not None:
            log.token_id = link.row.id
            values["reset_link"] = tokens.reset_link(link.token, context.settings["shop_url"])
            ends = (link.row.expires_at, log.language)
            if ends not in expiries:
                expiries[ends] = format_expires(*ends)
            values["expires"] = expiries[ends]
        log.recipient = customer.email
        template = context.compiled_template(log.template_key, log.language,
                                             link=bool(values.get("reset_link")))
        rendered = template.render(values)
        prepared.append(OutgoingMail(context.sender, customer.email, rendered.subject,
                                     rendered.text, rendered.html, log.id))
    return prepared


def _fail(log: MailLog, kind: ErrorKind, error: str, *, retry: bool, context: MailContext,
          now: datetime) -> Outcome:
    log.error = error[:2000]
    log.error_kind = kind.value
    if retry and log.attempts < context.max_attempts:
        log.status = MailStatus.QUEUED
        log.next_attempt_at = now + timedelta(seconds=context.delay(log.attempts))
        return Outcome.RETRY
    log.status = MailStatus.FAILED
    log.next_attempt_at = None
    return Outcome.FAILED


def deliver(log_id: int, transport: Transport, context: MailContext,
            clock: Callable[[], datetime] = utcnow) -> Outcome:
    """Send one queued mail through the open transport, committing before and after."""
    now = clock()
    if not _claim(log_id, now):
        db.session.rollback()
        return Outcome.SKIPPED
    log = db.session.get_one(MailLog, log_id)  # claimed above: it is there
    customer = db.session.get(Customer, log.customer_id) if log.customer_id else None
    if customer is None or customer.deleted_at is not None:
        outcome = _fail(log, ErrorKind.NO_CUSTOMER, "customer deleted", retry=False,
                        context=context, now=now)
        db.session.commit()
        return outcome
    [outgoing] = _prepare([(log, customer)], context, now)
    db.session.commit()

    outcome = _hand_over(log, outgoing, transport, context, now, clock)
    db.session.commit()
    return outcome


def _hand_over(log: MailLog, outgoing: OutgoingMail, transport: Transport, context: MailContext,
               now: datetime, clock: Callable[[], datetime]) -> Outcome:
    """Send one prepared mail and set its log to what became of it (not committed)."""
    try:
        transport.send(outgoing)
    except ServerTrouble as error:
        _fail(log, ErrorKind.SERVER, str(error), retry=True, context=context, now=now)
        return Outcome.SERVER_TROUBLE
    except RecipientTrouble as error:
        return _fail(log, ErrorKind.RECIPIENT, str(error), retry=True, context=context, now=now)
    except AddressTrouble as error:
        return _fail(log, ErrorKind.NOT_ASCII, str(error), retry=False, context=context, now=now)
    except PermanentFailure as error:
        return _fail(log, ErrorKind.REFUSED, str(error), retry=False, context=context, now=now)
    except UncertainDelivery as error:
        return _fail(log, ErrorKind.UNCERTAIN, str(error), retry=False, context=context,
                     now=now)
    log.status = MailStatus.SENT
    log.sent_at = clock()
    log.error = ""
    log.error_kind = ""
    log.next_attempt_at = None
    return Outcome.SENT


def _give_back(log_ids: list[int], claimed_at: datetime) -> None:
    """Mails this run claimed (at `claimed_at`) and never handed over go back to the queue, as
    they were; where another run changed them meanwhile, its change stands (not committed)."""
    if log_ids:
        db.session.execute(
            update(MailLog).where(MailLog.id.in_(log_ids), MailLog.status == MailStatus.SENDING,
                                  MailLog.updated_at == claimed_at)
            .values(status=MailStatus.QUEUED, attempts=MailLog.attempts - 1)
            .execution_options(synchronize_session=False))


def deliver_group(log_ids: list[int], transport: Transport, context: MailContext,
                  pace: Callable[[], None] = lambda: None,
                  clock: Callable[[], datetime] = utcnow,
                  still_ours: Callable[[], bool] = lambda: True) -> dict[int, Outcome]:
    """Send queued mails of a batch as deliver() does, a group at a time: one commit claims
    and prepares them all ("sending", each with its link), one settles them. When the server
    is in trouble, the mails of the group not yet handed over go back to the queue untouched.

    `still_ours` is asked in each of these transactions whether the run still holds its
    mailing (tracking.still_holds). A run whose heartbeat came late may find that the sweep
    gave the mailing to another run, whose first step sorts this run's "sending" mails into
    those that may have gone out and those that go out again (batches._mark_interrupted): this
    run then hands over nothing more, so that no mail goes out from both."""
    now = clock()
    result = db.session.execute(
        update(MailLog)
        .where(MailLog.id.in_(log_ids), MailLog.status == MailStatus.QUEUED)
        .values(status=MailStatus.SENDING, attempts=MailLog.attempts + 1, updated_at=now)
        .returning(MailLog.id).execution_options(synchronize_session=False))
    claimed = set(result.scalars())
    outcomes = {log_id: Outcome.SKIPPED for log_id in log_ids if log_id not in claimed}
    logs = {log.id: log for log in db.session.scalars(
        select(MailLog).where(MailLog.id.in_(claimed))
        .execution_options(populate_existing=True))}
    customers: dict[int | None, Customer]  # (a log's customer_id may be None)
    customers = {customer.id: customer for customer in db.session.scalars(
        select(Customer).where(Customer.id.in_({log.customer_id for log in logs.values()})))}
    sendable: list[tuple[MailLog, Customer]] = []
    for log_id in sorted(claimed):
        log = logs[log_id]
        customer = customers.get(log.customer_id)
        if customer is None or customer.deleted_at is not None:
            outcomes[log_id] = _fail(log, ErrorKind.NO_CUSTOMER, "customer deleted",
                                     retry=False, context=context, now=now)
        else:
            sendable.append((log, customer))
    ready = list(zip([log for log, _customer in sendable], _prepare(sendable, context, now),
                     strict=True))
    for log, _outgoing in ready:
        # The claim's moment names the group (batches._mark_interrupted): written as it is,
        # not replaced by the column's onupdate clock when the prepared row is saved.
        log.updated_at = now
        flag_modified(log, "updated_at")
    if not still_ours():
        db.session.rollback()
        return {log_id: Outcome.SKIPPED for log_id in log_ids}
    # The group's rows stay loaded as this run wrote them until the group ends (no commit of
    # it expires them, so they are not read back).
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
        # The mails' fates are committed SETTLE_EVERY at a time as the server takes them, in
        # id order: a run killed mid-group leaves at most that many whose fate is unknown (the
        # lowest ids still "sending"), and the rest of the group provably not handed over
        # (batches._mark_interrupted).
        unsettled = 0
        for position, (log, outgoing) in enumerate(ready):
            pace()
            outcomes[log.id] = _hand_over(log, outgoing, transport, context, now, clock)
            unsettled += 1
            if outcomes[log.id] == Outcome.SERVER_TROUBLE:
                stop = True
            elif unsettled == SETTLE_EVERY:
                stop = not still_ours()
                if not stop:
                    session.commit()
                    unsettled = 0
                    continue
            else:
                continue
            left = [later.id for later, _outgoing in ready[position + 1:]]
            outcomes.update(dict.fromkeys(left, Outcome.SKIPPED))
            session.flush()
            _give_back(left, now)
            break
        session.commit()
    finally:
        session.expire_on_commit = expire
    return outcomes


def deliver_logged_mail(log_id: int) -> float | None:
    """Send one mail that is not part of a batch. Returns in how many seconds to try it again,
    or None when nothing is left to do."""
    context = MailContext.load()
    with Transport() as transport:
        outcome = deliver(log_id, transport, context)
    if outcome in (Outcome.RETRY, Outcome.SERVER_TROUBLE):
        log = db.session.get_one(MailLog, log_id)
        if log.status == MailStatus.QUEUED and log.next_attempt_at is not None:
            return max((log.next_attempt_at - utcnow()).total_seconds(), 0.0)
    return None
