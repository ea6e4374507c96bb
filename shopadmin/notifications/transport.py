"""Handing mails over: to the SMTP server through Flask-Mail, one connection for many mails, or
to the local outbox when no server is configured (MAIL_SERVER empty, the `make run` default).

What went wrong is sorted for the caller, which decides about retries:
- ServerTrouble: the server cannot be reached or refuses everything for now: pause, reconnect,
  try again;
- RecipientTrouble: this one mail was refused for now (4xx): try it again later;
- PermanentFailure: this mail was refused for good (5xx);
- UncertainDelivery: the connection broke after the whole message was handed over, so it may
  have arrived: never sent again automatically, to be sure no customer gets it twice.
"""

import smtplib
import socket
from dataclasses import dataclass

from flask import current_app
from flask_mail import Connection
from flask_mail import Mail as FlaskMail

from ..extensions import db
from .composing import AddressNotAscii, Composer, has_line_break
from .models import OutboxMessage


class MailTrouble(Exception):
    pass


class ServerTrouble(MailTrouble):
    pass


class RecipientTrouble(MailTrouble):
    pass


class PermanentFailure(MailTrouble):
    pass


class UncertainDelivery(MailTrouble):
    pass


class AddressTrouble(PermanentFailure):
    """An address this server cannot carry (not ASCII, and the server offers no SMTPUTF8)."""


@dataclass(frozen=True)
class OutgoingMail:
    sender: str
    recipient: str
    subject: str
    text: str
    html: str
    log_id: int | None = None


class _HandOverTracking:
    """Remembers whether the message itself (the DATA that ends in CRLF.CRLF) went out."""

    handed_over = False

    def send(self, s):
        super().send(s)  # type: ignore[misc]  # mixed in before smtplib.SMTP
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.handed_over = True


class _SMTP(_HandOverTracking, smtplib.SMTP):
    pass


class _SMTPSSL(_HandOverTracking, smtplib.SMTP_SSL):
    pass


class _Connection(Connection):
    """Flask-Mail's connection with a timeout, so a dead server cannot hang a worker."""

    def __init__(self, state, timeout: float):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self):
        factory = _SMTPSSL if self.mail.use_ssl else _SMTP
        host = factory(self.mail.server, self.mail.port, timeout=self.timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def _refusal(code: int, reply: bytes, *, stage: str) -> MailTrouble:
    text = f"{stage}: {code} {reply.decode('utf-8', 'replace')}".strip()
    if code == 421:
        return ServerTrouble(text)
    if 400 <= code < 500:
        return RecipientTrouble(text)
    return PermanentFailure(text)


class Transport:
    """Use as a context manager around many send() calls: one connection for all of them."""

    def __init__(self):
        config = current_app.config
        self.outbox = not config.get("MAIL_SERVER")
        self.timeout = float(config.get("MAIL_TIMEOUT", 30))
        self.state = None if self.outbox else FlaskMail().init_mail(config)
        self.connection: _Connection | None = None
        self.composer = Composer()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        if self.connection is not None and self.connection.host is not None:
            try:
                self.connection.host.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.host.close()
        self.connection = None

    def _host(self):
        if self.connection is None:
            connection = _Connection(self.state, self.timeout)
            try:
                connection.host = connection.configure_host()
            except (smtplib.SMTPException, OSError) as error:
                raise ServerTrouble(_describe(error)) from error
            self.connection = connection
        return self.connection.host

    def send(self, mail: OutgoingMail) -> None:
        if has_line_break(mail.sender, mail.recipient, mail.subject):
            raise PermanentFailure("line break in a header")
        if self.outbox:
            db.session.add(OutboxMessage(
                mail_log_id=mail.log_id, sender=mail.sender, recipient=mail.recipient,
                subject=mail.subject, text_body=mail.text, html_body=mail.html,
            ))
        else:
            self._transmit(mail)

    def _transmit(self, mail: OutgoingMail) -> None:
        host = self._host()
        host.handed_over = False
        try:
            host.ehlo_or_helo_if_needed()
            eight_bit = host.has_extn("8bitmime")
            utf8 = host.has_extn("smtputf8")
            try:
                message = self.composer.compose(mail.sender, mail.recipient, mail.subject,
                                                mail.text, mail.html, eight_bit=eight_bit,
                                                utf8=utf8)
            except AddressNotAscii as error:  # (jürgen@...: this mail fails, not the others)
                raise AddressTrouble(f"{error}: not ASCII, and the server offers no "
                                     "SMTPUTF8") from error
            except UnicodeError as error:
                raise PermanentFailure(f"not ASCII: {error}") from error
            options = ["BODY=8BITMIME"] if eight_bit else []
            if message.international:
                options.append("SMTPUTF8")
            code, reply = host.mail(message.sender, options)
            if code != 250:
                host.rset()
                raise ServerTrouble(f"MAIL FROM: {code} {reply.decode('utf-8', 'replace')}")
            code, reply = host.rcpt(message.recipient)
            if code not in (250, 251):
                host.rset()
                raise _refusal(code, reply, stage="RCPT TO")
            try:
                code, reply = host.data(message.data)
            except smtplib.SMTPDataError as error:
                host.rset()
                raise _refusal(error.smtp_code, error.smtp_error,  # type: ignore[arg-type]  # bytes
                               stage="DATA") from error
            if code != 250:
                raise _refusal(code, reply, stage="DATA")
        except MailTrouble as trouble:
            if isinstance(trouble, ServerTrouble):
                self.close()
            raise
        except (smtplib.SMTPException, OSError) as error:
            handed_over = host.handed_over
            self.close()
            if handed_over:
                raise UncertainDelivery(_describe(error)) from error
            raise ServerTrouble(_describe(error)) from error


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "timeout"
    return f"{type(error).__name__}: {error}".strip()
