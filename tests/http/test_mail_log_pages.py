"""The mail log goes by pages of 50 (the one paging of every list but the customers'), newest
first, its status filter kept from page to page."""

from sqlalchemy import insert

from shopadmin.extensions import db
from shopadmin.notifications.models import MailLog, MailStatus


def test_the_mail_log_pages_newest_first_and_keeps_its_filter(client, login_as):
    db.session.execute(insert(MailLog), [
        {"recipient": f"reader{n:02d}@shop.test", "template_key": "account_password",
         "language": "en", "status": MailStatus.FAILED if n % 2 else MailStatus.SENT}
        for n in range(52)])
    db.session.commit()
    login_as("staff")

    first = client.get("/mails/").get_data(as_text=True)
    assert "52 mails" in first
    assert "reader51@shop.test" in first and "reader02@shop.test" in first
    assert "reader01@shop.test" not in first
    assert 'href="/mails/?page=2"' in first
    second = client.get("/mails/?page=2").get_data(as_text=True)
    assert "reader01@shop.test" in second and "reader00@shop.test" in second
    assert "reader02@shop.test" not in second

    failed = client.get("/mails/?status=failed").get_data(as_text=True)
    assert "26 mails" in failed and "reader51@shop.test" in failed
    assert "reader50@shop.test" not in failed and 'page=2' not in failed
    beyond = client.get("/mails/?page=99")
    assert beyond.status_code == 200 and "reader" not in beyond.get_data(as_text=True)
