"""The bytes of a mail (notifications/composing.py), read back by the email package as a mail
program would: headers decoded, both parts as written, whatever the encoding chosen."""

import email
from email import policy

import pytest

from shopadmin.notifications.composing import MAX_LINE, Composer, has_line_break

TEXT = "Hallo Jürgen,\n\nhier ist Ihr Link:\nhttps://shop.test/account/reset/abc\n\nIhr Shop\n"
HTML = '<p>Hallo J&uuml;rgen &amp; Zoë,</p>\n<p><a href="https://shop.test/x">Link</a></p>\n'


def _read(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def _content(message, kind: str) -> str:
    return message.get_body((kind,)).get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("eight_bit", [True, False])
def test_a_mail_reads_back_as_written(eight_bit):
    composed = Composer().compose("Schöner Laden <shop@laden.test>", "kunde@bench.test",
                                  "Ihr Passwort für Schöner Laden", TEXT, HTML,
                                  eight_bit=eight_bit)
    message = _read(composed.data)
    assert message["Subject"] == "Ihr Passwort für Schöner Laden"
    assert message["From"].addresses[0].display_name == "Schöner Laden"
    assert message["From"].addresses[0].addr_spec == "shop@laden.test"
    assert message["To"] == "kunde@bench.test"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith("<") and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert _content(message, "plain") == TEXT
    assert _content(message, "html") == HTML
    encodings = {part["Content-Transfer-Encoding"] for part in message.iter_parts()}
    assert encodings == ({"8bit"} if eight_bit else {"quoted-printable"})
    assert all(len(line) <= MAX_LINE for line in composed.data.split(b"\r\n"))
    assert b"\n" not in composed.data.replace(b"\r\n", b"")  # CRLF only
    assert composed.data.isascii() != eight_bit
    assert composed.sender.endswith("<shop@laden.test>")
    assert composed.recipient == "kunde@bench.test"


def test_a_line_too_long_for_smtp_goes_quoted_printable_and_ascii_stays_7bit():
    long_line = "ä" * 600 + "\n"  # 1,200 octets in UTF-8
    composed = Composer().compose("shop@laden.test", "kunde@bench.test", "Plain subject",
                                  long_line, "<p>ascii</p>\n", eight_bit=True)
    message = _read(composed.data)
    encodings = [part["Content-Transfer-Encoding"] for part in message.iter_parts()]
    assert encodings == ["quoted-printable", "7bit"]
    assert _content(message, "plain") == long_line
    assert message["Subject"] == "Plain subject"
    assert all(len(line) <= MAX_LINE for line in composed.data.split(b"\r\n"))


@pytest.mark.parametrize("words", [
    "Ustaw hasło do swojego konta w sklepie i korzystaj z zakupów bez ograniczeń ",
    "Set a password for your account and shop without limits from now on ",
])
def test_the_boundary_is_in_neither_part_and_a_long_subject_is_folded(words):
    subject = words * 3
    composer = Composer()
    first = composer.compose("shop@laden.test", "kunde@bench.test", subject, TEXT, HTML,
                             eight_bit=True)
    second = composer.compose("shop@laden.test", "kunde@bench.test", subject, TEXT, HTML,
                              eight_bit=True)
    message = _read(first.data)
    assert message["Subject"] == subject
    head = first.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    subject_lines = head.split("\r\nSubject: ", 1)[1].split("\r\nDate: ", 1)[0]
    assert len(subject_lines.split("\r\n")) > 1
    assert all(len(line) <= 78 for line in subject_lines.split("\r\n"))
    boundary = message.get_boundary()
    assert boundary not in TEXT and boundary not in HTML
    assert _read(second.data).get_boundary() != boundary
    assert _read(second.data)["Message-ID"] != message["Message-ID"]


def test_an_international_domain_is_sent_in_idna():
    composed = Composer().compose("shop@laden.test", "kunde@bücher.test", "Hallo", TEXT, HTML,
                                  eight_bit=True)
    assert composed.recipient == "kunde@xn--bcher-kva.test"
    assert _read(composed.data)["To"] == "kunde@xn--bcher-kva.test"


def test_a_line_break_in_a_header_value_is_caught():
    assert has_line_break("shop@laden.test", "kunde@bench.test\r\nBcc: x@evil.test")
    assert has_line_break("Subject\nX-Header: 1")
    assert not has_line_break("shop@laden.test", "kunde@bench.test", "Ihr Passwort")
