"""A template compiled once renders every recipient's own mail (rendering.CompiledMail): their
values in the subject, the text and the HTML, escaped there, and the link as a button."""

import pytest

from shopadmin.notifications.catalog import TemplateText
from shopadmin.notifications.rendering import CompiledMail, render_mail

TEMPLATE = TemplateText(
    "account_password", "de", "Ihr Passwort für [[shop_name]], [[first_name]]",
    "Guten Tag [[first_name]] [[last_name]],\n\nbitte hier:\n\n[[reset_link]]\n\n"
    "Gültig bis [[expires]].\nIhr [[shop_name]]-Team\n[[shop_url]]")


def _values(first_name: str, link: str) -> dict[str, str]:
    return {"first_name": first_name, "last_name": "Bench", "email": "c@bench.test",
            "shop_name": "Müller & Söhne", "shop_url": "https://shop.test",
            "reset_link": link, "expires": "28. November 2026, 22:11 Uhr"}


def test_one_compiled_template_renders_each_recipient_as_they_are(app):
    compiled = CompiledMail(TEMPLATE, link=True)
    jürgen = compiled.render(_values("Jürgen", "https://shop.test/account/reset/AAA"))
    nameless = compiled.render(_values("", "https://shop.test/account/reset/BBB"))
    hostile = compiled.render(_values("<script>x</script>", "https://shop.test/account/reset/C"))

    assert jürgen.subject == "Ihr Passwort für Müller & Söhne, Jürgen"
    assert jürgen.text.startswith("Guten Tag Jürgen Bench,\n")
    assert nameless.text.startswith("Guten Tag Bench,\n")  # the space goes with the name
    assert "https://shop.test/account/reset/AAA" in jürgen.text
    assert "Gültig bis 28. November 2026, 22:11 Uhr.\nIhr Müller & Söhne-Team\n" in jürgen.text

    assert 'class="mail-button"' in jürgen.html and ">Mein Passwort festlegen<" in jürgen.html
    assert jürgen.html.count('href="https://shop.test/account/reset/AAA"') == 2  # button, link
    assert "BBB" not in jürgen.html and "AAA" not in nameless.html
    assert "<title>Ihr Passwort für Müller &amp; Söhne, Jürgen</title>" in jürgen.html
    assert "Guten Tag Bench,</p>" in nameless.html
    assert "<script>" not in hostile.html and "&lt;script&gt;x&lt;/script&gt;" in hostile.html
    assert '<a href="https://shop.test">https://shop.test</a>' in jürgen.html
    assert jürgen == render_mail(TEMPLATE, _values("Jürgen", "https://shop.test/account/reset/AAA"))


def test_a_preview_shows_the_headers_and_the_text_and_values_must_fit_the_compiled_form(app):
    values = _values("Anna", "https://shop.test/account/reset/EXAMPLE")
    preview = CompiledMail(TEMPLATE, link=True, preview=True).render(
        values, preview={"sender": "Müller <shop@shop.test>", "recipient": "anna@x.test"})
    assert "Müller &lt;shop@shop.test&gt;" in preview.html and "anna@x.test" in preview.html
    assert 'id="preview-text">Guten Tag Anna Bench,' in preview.html
    with pytest.raises(ValueError):
        CompiledMail(TEMPLATE, link=True).render(_values("Anna", ""))
    without_link = CompiledMail(TEMPLATE, link=False).render(_values("Anna", ""))
    assert 'class="mail-button"' not in without_link.html
