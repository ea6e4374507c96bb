"""Orders as a second kind of export: one row per line, from the orders list's search."""

import csv
import io

from sqlalchemy import select

from shopadmin.exports.models import ExportJob, ExportStatus
from shopadmin.extensions import db
from shopadmin.orders.models import Order, OrderLine, OrderStatus

from ..conftest import csrf_token
from ..factories import make_customer
from .test_orders_pages import make_order


def two_orders():
    customer = make_customer(first_name="Zoé", last_name="Lefèvre", email="zoe@exemple.fr")
    shipped = make_order("S-1", customer, day=2, status=OrderStatus.SHIPPED, total="25.00",
                         country="FR")
    db.session.add(OrderLine(order_id=shipped.id, position=2, sku="TEA", name="Thé vert",
                             quantity=3, unit_price=5, line_total=15))
    make_order("N-1", None, day=3, status=OrderStatus.NEW)
    db.session.commit()
    return customer


def test_orders_export_from_the_list_one_row_per_line(client, login_as, run_jobs):
    login_as("staff")
    customer = two_orders()
    page = client.get("/orders/?status=shipped").get_data(as_text=True)
    assert "/exports/?kind=orders&amp;query=status%3Dshipped" in page
    form = client.get("/exports/?kind=orders&query=status%3Dshipped").get_data(as_text=True)
    assert 'value="orders"' in form and "SKU" in form
    response = client.post("/exports/", data={
        "csrf_token": csrf_token(client, "/exports/?kind=orders"), "kind": "orders",
        "format": "csv", "headings": "", "query": "status=shipped"})
    assert response.status_code == 302
    assert run_jobs() == 1
    export = db.session.scalar(select(ExportJob))
    assert (export.kind, export.status, export.rows_done) == ("orders", ExportStatus.READY, 2)
    assert export.file_name.startswith("orders-")
    download = client.get(f"/exports/{export.id}/download")
    rows = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
    download.close()
    assert [(r["Order number"], r["Line"], r["Product"]) for r in rows] == [
        ("S-1", "1", "Mug"), ("S-1", "2", "Thé vert")]
    assert rows[0]["Customer ID"] == str(customer.id) and rows[0]["Total"] == "25.00"
    assert (rows[1]["Billing city"], rows[1]["Billing country"]) == ("Berlin", "FR")
    assert rows[1]["Status"] == "shipped" and rows[1]["E-mail"] == "zoe@exemple.fr"


def test_orders_export_cli_with_translated_headings(runner, tmp_path):
    two_orders()
    target = tmp_path / "orders.csv"
    result = runner.invoke(args=["orders", "export", "-o", str(target), "--headings", "de"])
    assert result.exit_code == 0, result.output
    assert "3 order lines" in result.output
    header = next(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert "Bestellnummer" in header and "Rechnungsadresse: PLZ" in header
    assert db.session.scalar(select(Order.number).where(Order.number == "N-1")) == "N-1"
