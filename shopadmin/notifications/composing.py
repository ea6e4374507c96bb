"""A mail's bytes as the SMTP server receives them: its headers, then the plain text and the
HTML as the two parts of a multipart/alternative.

They are written here directly instead of through the email package's message objects, whose
headers are parsed and folded again for every mail (Flask-Mail's Message with policy SMTP: some
3 ms a mail, more than half of a mailing's time). The email package still does what needs its
care: encoded words for a subject or a sender's name that is not ASCII (email.header), the
date and the message id (email.utils); addresses go through Flask-Mail's sanitize_address as
before. What is the same for many mails (the sender, a subject, the message id's host name)
is worked out once per Composer, which lives as long as its connection.
"""

import re
import secrets
import socket
from binascii import b2a_qp
from dataclasses import dataclass
from email.header import Header
from email.utils import formatdate, make_msgid, parseaddr

from flask_mail import sanitize_address

MAX_LINE = 998  # octets a line may hold, its CRLF not counted (RFC 5322, 2.1.1)
# An address that headers and the envelope carry as it is: sanitize_address would return it
# unchanged (no name, nothing to quote, no international domain).
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_REMEMBERED = 1000  # subjects and addresses kept encoded per Composer (most repeat)


@dataclass(frozen=True)
class Composed:
    sender: str      # the envelope's sender (MAIL FROM), as sanitize_address gives it
    recipient: str   # the envelope's recipient (RCPT TO)
    data: bytes      # the message, lines ending in CRLF
    international: bool = False  # an address is not ASCII: it goes only with SMTPUTF8


class AddressNotAscii(ValueError):
    """An address whose local part is not ASCII (zoë@...), for a server without SMTPUTF8."""


_SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # a name holding one of these is quoted (RFC 5322)


def named_address(name: str, address: str) -> str:
    """'Name <address>' as people write it: quoted where the name needs it, never encoded (the
    Composer encodes it once, for the header; formataddr's encoded words were encoded again,
    and a shop name such as "Sklep Łódź" reached customers as =?utf-8?b?...?=)."""
    name = " ".join(name.split())
    if not name:
        return address
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def has_line_break(*values: str) -> bool:
    """Whether a header value would break out of its line (a header injection)."""
    return any("\n" in value or "\r" in value for value in values)


class Composer:
    def __init__(self) -> None:
        self._domain: str | None = None
        self._addresses: dict[str, str] = {}
        self._subjects: dict[str, str] = {}

    def address(self, address: str) -> str:
        """The address (or "Name <address>") as a header and the envelope carry it."""
        if _PLAIN_ADDRESS.fullmatch(address):
            return address
        return _remembered(self._addresses, address, _sanitized)

    def subject(self, subject: str) -> str:
        return _remembered(self._subjects, subject, _encoded_subject)

    def compose(self, sender: str, recipient: str, subject: str, text: str, html: str, *,
                eight_bit: bool, utf8: bool = False) -> Composed:
        """The message from `sender` to the one `recipient` (their line breaks refused by the
        caller: has_line_break). With `eight_bit` (the server takes 8BITMIME) text that is not
        ASCII goes as it is, else quoted-printable, as does a line too long for SMTP.

        An address whose local part is not ASCII (a domain that is not becomes its IDNA form)
        goes in UTF-8 in the envelope and the headers (RFC 6531 and 6532) when `utf8` says the
        server takes SMTPUTF8; else AddressNotAscii: no other form of it reaches the person."""
        if self._domain is None:  # (make_msgid would ask the resolver for every mail)
            self._domain = socket.getfqdn()
        from_header, to_header = self.address(sender), self.address(recipient)
        international = not (from_header.isascii() and to_header.isascii())
        if international and not utf8:
            raise AddressNotAscii(to_header if not to_header.isascii() else from_header)
        boundary = _boundary(text, html)
        head = (f"From: {from_header}\r\n"
                f"To: {to_header}\r\n"
                f"Subject: {self.subject(subject)}\r\n"
                f"Date: {formatdate(localtime=True)}\r\n"
                f"Message-ID: {make_msgid(domain=self._domain)}\r\n"
                "Auto-Submitted: auto-generated\r\n"
                "MIME-Version: 1.0\r\n"
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
                "\r\n").encode("utf-8" if international else "ascii")
        data = b"".join((
            head,
            f"--{boundary}\r\n".encode(), _part("plain", text, eight_bit),
            f"\r\n--{boundary}\r\n".encode(), _part("html", html, eight_bit),
            f"\r\n--{boundary}--\r\n".encode(),
        ))
        return Composed(from_header, to_header, data, international)



def _sanitized(address: str) -> str:
    """sanitize_address's form; for a local part that is not ASCII (formataddr refuses it) the
    same by hand: the name in encoded words, the domain in IDNA, the local part as it is."""
    try:
        return sanitize_address(address)
    except UnicodeEncodeError:
        name, plain = parseaddr(address)
        local, _, domain = plain.rpartition("@")
        plain = f"{local}@{domain.encode('idna').decode('ascii')}"
        return f"{Header(name, 'utf-8').encode()} <{plain}>" if name else plain


def _part(subtype: str, body: str, eight_bit: bool) -> bytes:
    """A part's headers and its text, 7bit or 8bit as it is, else quoted-printable."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    fits = max(map(len, data.split(b"\n"))) <= MAX_LINE
    if fits and data.isascii():
        encoding = "7bit"
    elif fits and eight_bit:
        encoding = "8bit"
    else:
        encoding, data = "quoted-printable", b2a_qp(data, istext=True)
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n").encode() \
        + data.replace(b"\n", b"\r\n")


def _encoded_subject(subject: str) -> str:
    """Folded; in encoded words unless it is ASCII."""
    charset = "us-ascii" if subject.isascii() else "utf-8"
    return Header(subject, charset, header_name="Subject").encode(linesep="\r\n")


def _remembered(known: dict[str, str], value: str, work) -> str:
    found = known.get(value)
    if found is None:
        if len(known) >= _REMEMBERED:
            known.clear()
        found = known[value] = work(value)
    return found


def _boundary(*texts: str) -> str:
    """A part boundary that none of the texts holds."""
    while True:
        boundary = f"=_{secrets.token_hex(16)}"
        if not any(boundary in text for text in texts):
            return boundary
