"""The list page's cells: every kind of value as staff read it, and whatever a customer's values
hold (tags, quotes, ampersands) escaped."""

import re

from shopadmin.customers.models import CustomerGroup
from shopadmin.extensions import db
from shopadmin.formats import format_day

from ..conftest import csrf_token
from ..factories import make_customer


def test_each_kind_of_cell_reads_as_staff_read_it_and_is_escaped(app, client, login_as):
    login_as("staff")
    group = CustomerGroup(name="<i>VIP</i> & Co")
    customer = make_customer(first_name="<b>Anna</b>", last_name='"Kowalska"',
                             email="anna@example.test", billing_city="Łódź & <Bałuty>",
                             billing_country="PL", newsletter=True, approved=False)
    customer.groups.append(group)
    db.session.commit()
    columns = ["name", "email", "billing_city", "billing_country", "newsletter", "approved",
               "groups", "created_at"]
    response = client.post("/customers/columns", data={
        "csrf_token": csrf_token(client, "/customers/"), "columns": columns})
    assert response.status_code == 302

    page = client.get("/customers/").get_data(as_text=True)
    row = re.search(rf'<tr>\s*<td><input[^>]+value="{customer.id}"[^>]*></td>(.*?)</tr>',
                    page, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    link = f'<a href="/customers/{customer.id}">'
    assert cells[:4] == [
        f"{link}&lt;b&gt;Anna&lt;/b&gt; &#34;Kowalska&#34;</a>",
        f"{link}anna@example.test</a>",
        "Łódź &amp; &lt;Bałuty&gt;",
        "Poland",
    ]
    assert cells[4:7] == ["Yes", "No", "&lt;i&gt;VIP&lt;/i&gt; &amp; Co"]
    with app.test_request_context():
        assert cells[7] == format_day(customer.created_at)  # the page's language: English
    assert "<b>Anna</b>" not in page and "<i>VIP</i>" not in page
