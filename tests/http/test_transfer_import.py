"""End-to-end imports through the pages, with the real job queue."""

import io
import re

from shopadmin.audit import AuditEvent
from shopadmin.customers.models import ConsentEvent, Customer, CustomerGroup
from shopadmin.customers.search import indexed_terms
from shopadmin.extensions import db
from shopadmin.imports.models import ImportJob, ImportStatus
from shopadmin.imports.undo import undo_changes

from ..conftest import csrf_token
from ..factories import make_customer

HEADINGS = "First name;Last name;E-mail;Phone;Newsletter;Groups"


def csv_file(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(client, content: bytes, name: str = "customers.csv"):
    token = csrf_token(client, "/imports/new")
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": "customers", "file": (io.BytesIO(content), name),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def review_form(client, import_id: int, **options) -> dict:
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, f"/imports/{import_id}"), "mode": "create_update",
            "match": "email", "empty": "keep", "on_errors": "skip", "max_bad_rows": "0",
            "date_order": ""}
    for index, selected in re.findall(
            r'name="column-(\d+)".*?<option value="([^"]*)" selected', page, re.S):
        data[f"column-{index}"] = selected
    data.update(options)
    return data


def preview(client, run_jobs, import_id: int, **options) -> ImportJob:
    response = client.post(f"/imports/{import_id}", data=review_form(client, import_id,
                                                                     **options))
    assert response.status_code == 302, response.get_data(as_text=True)
    run_jobs()
    job = db.session.get(ImportJob, import_id)
    db.session.refresh(job)
    return job


def apply(client, run_jobs, import_id: int) -> ImportJob:
    token = csrf_token(client, f"/imports/{import_id}")
    response = client.post(f"/imports/{import_id}/apply", data={"csrf_token": token})
    assert response.status_code == 302
    run_jobs()
    job = db.session.get(ImportJob, import_id)
    db.session.refresh(job)
    return job


def customers_by_email() -> dict[str, Customer]:
    db.session.expire_all()
    return {c.email_key: c for c in db.session.scalars(db.select(Customer))}


def test_upload_map_preview_apply_report_and_list(client, login_as, run_jobs):
    login_as("staff", name="Ewa Staff")
    make_customer(email="known@shop.test", first_name="Old", last_name="Name", phone="1")
    import_id = upload(client, csv_file(
        HEADINGS,
        "Jan;Nowak;jan@shop.test;+48 600 100 200;yes;",
        "New;Name;KNOWN@shop.test;+49 30 1;;",
        "Bad;Mail;not-an-address;;;",
        "Twice;Over;jan@shop.test;;;",
        "No;Last;;;;",
    ))
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "jan@shop.test" in page and 'id="mapping"' in page  # samples beside the mapping

    job = preview(client, run_jobs, import_id)
    assert job.status == ImportStatus.PREVIEWED
    assert (job.preview["created"], job.preview["updated"], job.preview["rejected"]) == (1, 1, 3)
    assert set(customers_by_email()) == {"known@shop.test"}  # the preview wrote nothing
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert "Old" in page and "New" in page  # the field-level difference old -> new
    assert "is already in row 2 of this file" in page  # the duplicate names the first row

    job = apply(client, run_jobs, import_id)
    assert job.status == ImportStatus.READY
    assert (job.created, job.updated, job.unchanged, job.rejected) == (1, 1, 0, 3)
    customers = customers_by_email()
    assert customers["jan@shop.test"].phone == "+48 600 100 200"
    assert customers["jan@shop.test"].newsletter is True
    assert customers["known@shop.test"].first_name == "New"
    assert customers["known@shop.test"].email == "KNOWN@shop.test"
    consent = db.session.scalars(db.select(ConsentEvent)).all()
    assert [(e.customer_id, e.subscribed, e.source.value) for e in consent] == [
        (customers["jan@shop.test"].id, True, "import")]
    audit = db.session.scalars(db.select(AuditEvent).filter_by(source="import")).all()
    assert sorted(e.action for e in audit) == ["customer.created", "customer.updated"]

    listing = client.get("/imports/").get_data(as_text=True)
    assert "customers.csv" in listing and "Ewa Staff" in listing
    with client.get(f"/imports/{import_id}/rejected") as report:
        assert report.status_code == 200
        lines = report.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].startswith(HEADINGS)  # the original columns plus the error column
    assert len(lines) == 4 and "not-an-address" in lines[1]


def test_status_endpoint_reports_progress_as_json(client, login_as, run_jobs):
    login_as("staff")
    import_id = upload(client, csv_file(HEADINGS, "A;B;a@shop.test;;;"))
    preview(client, run_jobs, import_id)
    apply_token = csrf_token(client, f"/imports/{import_id}")
    client.post(f"/imports/{import_id}/apply", data={"csrf_token": apply_token})
    waiting = client.get(f"/imports/{import_id}/status").get_json()
    assert waiting["finished"] is False and waiting["percent"] == 0
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert f'data-status-url="/imports/{import_id}/status"' in page
    run_jobs()
    done = client.get(f"/imports/{import_id}/status").get_json()
    assert done == {"percent": 100, "percent_text": "100%", "text": done["text"], "finished": True,
                    "reload": True}
    assert "1 of 1" in done["text"]


def test_create_only_and_update_only(client, login_as, run_jobs):
    login_as("staff")
    make_customer(email="old@shop.test", first_name="Old")
    content = csv_file(HEADINGS, "Changed;X;old@shop.test;;;", "Brand;New;new@shop.test;;;")
    create_only = preview(client, run_jobs, upload(client, content), mode="create_only")
    assert (create_only.preview["created"], create_only.preview["rejected"]) == (1, 1)
    update_only = upload(client, content)
    job = preview(client, run_jobs, update_only, mode="update_only")
    assert (job.preview["updated"], job.preview["rejected"]) == (1, 1)
    apply(client, run_jobs, update_only)
    customers = customers_by_email()
    assert set(customers) == {"old@shop.test"}
    assert customers["old@shop.test"].first_name == "Changed"


def test_match_on_customer_number_changes_the_email(client, login_as, run_jobs):
    login_as("staff")
    make_customer(email="before@shop.test", customer_number="K-1")
    import_id = upload(client, csv_file("Customer number;E-mail;First name",
                                        "K-1;after@shop.test;Anna"))
    job = preview(client, run_jobs, import_id, match="customer_number")
    assert job.preview["updated"] == 1
    apply(client, run_jobs, import_id)
    assert set(customers_by_email()) == {"after@shop.test"}


def test_empty_cells_keep_or_clear(client, login_as, run_jobs):
    login_as("staff")
    make_customer(email="keep@shop.test", phone="123")
    content = csv_file(HEADINGS, "Anna;Keep;keep@shop.test;;;")
    kept = preview(client, run_jobs, upload(client, content))
    assert (kept.preview["updated"], kept.preview["unchanged"]) == (1, 0)  # last name differs
    cleared = upload(client, content)
    preview(client, run_jobs, cleared, empty="clear")
    apply(client, run_jobs, cleared)
    assert customers_by_email()["keep@shop.test"].phone == ""


def test_stop_after_too_many_bad_rows_writes_nothing(client, login_as, run_jobs):
    login_as("staff")
    import_id = upload(client, csv_file(HEADINGS, "A;B;a@shop.test;;;", "C;D;bad;;;",
                                        "E;F;also bad;;;"))
    preview(client, run_jobs, import_id, on_errors="stop", max_bad_rows="1")
    job = apply(client, run_jobs, import_id)
    assert job.status == ImportStatus.FAILED and "2 rows are bad" in job.error
    assert customers_by_email() == {}
    skip = upload(client, csv_file(HEADINGS, "A;B;a@shop.test;;;", "C;D;bad;;;"))
    preview(client, run_jobs, skip, on_errors="stop", max_bad_rows="1")
    assert apply(client, run_jobs, skip).status == ImportStatus.READY
    assert set(customers_by_email()) == {"a@shop.test"}


def test_groups_are_found_by_name_and_created_only_when_asked(client, login_as, run_jobs):
    login_as("staff")
    db.session.add(CustomerGroup(name="Wholesale"))
    db.session.commit()
    content = csv_file(HEADINGS, "A;B;a@shop.test;;;wholesale", "C;D;c@shop.test;;;VIP")
    job = preview(client, run_jobs, upload(client, content))
    # A group that does not exist keeps no customer out: it is named, with the switch.
    assert (job.preview["created"], job.preview["rejected"], job.preview["warned"]) == (2, 0, 1)
    assert job.preview["missing_groups"] == ["VIP"]
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert 'id="missing-groups"' in page and "VIP" in page
    import_id = upload(client, content)
    preview(client, run_jobs, import_id, create_groups="y")
    apply(client, run_jobs, import_id)
    customers = customers_by_email()
    assert [g.name for g in customers["a@shop.test"].groups] == ["Wholesale"]
    assert [g.name for g in customers["c@shop.test"].groups] == ["VIP"]


def test_undo_restores_updates_removes_creations_and_leaves_changed_ones(
        client, login_as, run_jobs):
    login_as("staff")
    make_customer(email="upd@shop.test", first_name="Before", last_name="Same")
    make_customer(email="touched@shop.test", first_name="Before", last_name="Same")
    import_id = upload(client, csv_file(
        "First name;Last name;E-mail", "After;Same;upd@shop.test", "After;Same;touched@shop.test",
        "Fresh;One;fresh@shop.test", "Fresh;Two;fresh2@shop.test"))
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    customers = customers_by_email()
    customers["touched@shop.test"].notes = "Called after the import"
    customers["fresh2@shop.test"].phone = "555"
    db.session.commit()

    token = csrf_token(client, f"/imports/{import_id}")
    assert client.post(f"/imports/{import_id}/undo", data={"csrf_token": token}).status_code == 302
    run_jobs()
    customers = customers_by_email()
    assert customers["upd@shop.test"].first_name == "Before"
    assert customers["touched@shop.test"].first_name == "After"  # changed since: not overwritten
    assert "fresh@shop.test" not in customers and "fresh2@shop.test" in customers
    page = client.get(f"/imports/{import_id}").get_data(as_text=True)
    assert 'id="undo-skipped"' in page
    assert "touched@shop.test" in page and "fresh2@shop.test" in page
    job = db.session.get(ImportJob, import_id)
    assert job.status == ImportStatus.UNDONE
    skipped = sorted(c["email"] for c in job.undo_skipped)
    assert skipped == ["fresh2@shop.test", "touched@shop.test"]
    # Run again (as after a worker died mid-undo): what was undone is not undone twice.
    undo_changes(db.session, job)
    assert sorted(c["email"] for c in job.undo_skipped) == skipped
    assert customers_by_email()["upd@shop.test"].first_name == "Before"


def test_rejected_rows_reimport_as_they_are(client, login_as, run_jobs):
    login_as("staff")
    first = upload(client, csv_file(HEADINGS, "A;B;a@shop.test;;;", "C;D;broken;;;"))
    preview(client, run_jobs, first)
    apply(client, run_jobs, first)
    with client.get(f"/imports/{first}/rejected") as response:
        worksheet = response.get_data()
    fixed = worksheet.replace(b"broken", b"c@shop.test")
    second = upload(client, fixed, "rejected.csv")
    job = preview(client, run_jobs, second)
    assert (job.preview["created"], job.preview["rejected"]) == (1, 0)
    apply(client, run_jobs, second)
    assert set(customers_by_email()) == {"a@shop.test", "c@shop.test"}


def test_a_file_that_is_not_a_worksheet_is_refused_at_the_field(client, login_as):
    login_as("staff")
    token = csrf_token(client, "/imports/new")
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": "customers",
        "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(200)), "customers.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ImportJob.id))) == 0


def test_a_file_over_the_size_limit_gets_a_translated_413(app, client, login_as):
    login_as("staff", language="de")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    token = csrf_token(client, "/imports/new")
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": "customers",
        "file": (io.BytesIO(b"a;b\r\n" * 1000), "big.csv")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Datei" in response.get_data(as_text=True)


def test_a_big_file_is_read_and_parsed_by_a_second_process(app, client, login_as, run_jobs):
    app.config["IMPORT_PARALLEL_ROWS"] = 0  # what a file of 50,000 rows or more gets
    login_as("staff")
    rows = [f"Ann;Lee {i};ann{i}@shop.test;+48 {i:05d};;" for i in range(2500)]
    rows[7] = "Bad;Row;not-an-address;;;"
    rows[2400] = "Again;Twice;ann3@shop.test;;;"
    import_id = upload(client, csv_file(HEADINGS, *rows))
    job = preview(client, run_jobs, import_id)
    assert (job.preview["created"], job.preview["rejected"]) == (2498, 2)
    job = apply(client, run_jobs, import_id)
    assert (job.created, job.rejected, job.rows_done) == (2498, 2, 2500)
    assert customers_by_email()["ann2499@shop.test"].phone == "+48 02499"
    from werkzeug.datastructures import MultiDict

    from shopadmin.customers.listing import count_customers
    from shopadmin.customers.terms import search_terms

    # The search terms made in the reading process are those the register would make.
    customer = customers_by_email()["ann1234@shop.test"]
    assert indexed_terms(customer.id) == search_terms({
        "first_name": "Ann", "last_name": "Lee 1234", "email": "ann1234@shop.test",
        "phone": "+48 01234"})
    assert count_customers(MultiDict({"q": "lee 2345"})) == 1
    with client.get(f"/imports/{import_id}/rejected") as response:
        lines = response.get_data().decode("utf-8-sig").splitlines()
    assert lines[1].startswith("Bad;Row;not-an-address;;;")  # the cells, as they were
    assert "is already in row 5 of this file" in lines[2]


def test_the_date_order_option_reaches_the_parser(client, login_as, run_jobs):
    login_as("staff")
    content = csv_file("First name;Last name;E-mail;Birth date", "A;B;a@shop.test;03/04/1990")
    ambiguous = preview(client, run_jobs, upload(client, content))
    # An ambiguous date leaves the birth date empty, with a warning; the customer goes in.
    assert (ambiguous.preview["created"], ambiguous.preview["rejected"],
            ambiguous.preview["warned"]) == (1, 0, 1)
    day_first = upload(client, content)
    job = preview(client, run_jobs, day_first, date_order="dmy")
    assert job.options["date_order"] == "dmy" and job.preview["created"] == 1
    apply(client, run_jobs, day_first)
    assert customers_by_email()["a@shop.test"].birth_date.isoformat() == "1990-04-03"


def test_new_customers_in_a_file_of_updates_are_found_too(app, client, login_as, run_jobs):
    """On a file that mostly updates, the reading process stops working out search terms; the
    few rows that do create a customer get theirs in the writing process."""
    app.config["IMPORT_PARALLEL_ROWS"] = 0
    login_as("staff")
    rows = [f"Ann;Lee {i};ann{i}@shop.test;;;" for i in range(4500)]
    apply(client, run_jobs, preview(client, run_jobs, upload(client, csv_file(HEADINGS, *rows)))
          .id)
    rows = [f"Ann;Lee {i};ann{i}@shop.test;+48 {i:05d};;" for i in range(4500)]
    rows += ["Żaneta;Wójcik;zaneta@shop.test;;;"]
    job = apply(client, run_jobs, preview(client, run_jobs, upload(client,
                                                                   csv_file(HEADINGS, *rows))).id)
    assert (job.created, job.updated) == (1, 4500)
    from werkzeug.datastructures import MultiDict

    from shopadmin.customers.listing import count_customers

    assert count_customers(MultiDict({"q": "wojcik"})) == 1
    assert count_customers(MultiDict({"q": "48 04499"})) == 1  # updated ones reindexed


def test_a_customer_saved_between_planning_and_writing_is_planned_again(
        client, login_as, run_jobs):
    """The import writes an update only over the version it planned against. A colleague's save
    that lands after the batch was planned makes the batch be planned again (in a savepoint: the
    batches before it stay) and the import's change goes on top of the colleague's."""
    from sqlalchemy import event

    login_as("staff")
    customer = make_customer(email="ewa@shop.test", first_name="Ewa", last_name="Alt",
                             phone="1")
    others = [f"Ann;Lee {i};ann{i}@shop.test;;;" for i in range(10)]
    import_id = upload(client, csv_file(HEADINGS, *others, "Ewa;Neu;ewa@shop.test;;;"))
    preview(client, run_jobs, import_id)
    saved = []

    def colleague_saves(connection, cursor, statement, *_args):
        if statement.startswith("SAVEPOINT") and not saved:
            # As if committed by a colleague just before this batch is written.
            cursor.execute("UPDATE customers SET version = version + 1, phone = '2' "
                           f"WHERE id = {customer.id}")
            saved.append(True)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", colleague_saves)
    try:
        job = apply(client, run_jobs, import_id)
    finally:
        event.remove(engine, "before_cursor_execute", colleague_saves)
    assert saved and job.status == ImportStatus.READY
    assert (job.created, job.updated, job.rejected) == (10, 1, 0)
    ewa = customers_by_email()["ewa@shop.test"]
    assert (ewa.last_name, ewa.phone, ewa.version) == ("Neu", "2", 3)
    assert len(customers_by_email()) == 11  # the new customers of the batch, once each
