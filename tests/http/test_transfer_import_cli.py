"""flask customers import: the same pipeline from the command line, with the same report."""

from shopadmin.customers.models import Customer
from shopadmin.extensions import db
from shopadmin.imports.models import ImportJob, ImportStatus

from ..factories import make_customer, make_staff


def write(path, *lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def emails() -> set[str]:
    db.session.rollback()
    return set(db.session.scalars(db.select(Customer.email_key)))


def test_dry_run_reports_and_writes_nothing(runner, tmp_path):
    file = write(tmp_path / "c.csv", "First name,Last name,E-mail", "Ada,Lovelace,ada@shop.test",
                 "Bad,Row,nope")
    result = runner.invoke(args=["customers", "import", str(file), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would be created: 1" in result.output and "rejected rows: 1" in result.output
    assert "row 3 (rejected):" in result.output and "nope" in result.output
    assert emails() == set()


def test_import_with_options_and_the_rejected_rows_file(runner, tmp_path):
    make_staff(email="ops@shop.test")
    make_customer(email="old@shop.test", first_name="Old")
    file = write(tmp_path / "c.csv", "First name;Last name;E-mail", "New;X;old@shop.test",
                 "Ada;Lovelace;ada@shop.test", "Bad;Row;nope")
    rejected = tmp_path / "rejected.csv"
    result = runner.invoke(args=["customers", "import", str(file), "--update-only",
                                 "--user", "ops@shop.test", "--rejected", str(rejected)])
    assert result.exit_code == 0, result.output
    assert "updated: 1" in result.output and "rejected rows: 2" in result.output
    assert emails() == {"old@shop.test"}
    assert rejected.read_text(encoding="utf-8-sig").count("\n") == 3  # headings + 2 rows
    job = db.session.scalar(db.select(ImportJob))
    assert job.status == ImportStatus.READY and job.created_by.email == "ops@shop.test"


def test_match_on_customer_number_and_create_only(runner, tmp_path):
    make_customer(email="k1@shop.test", customer_number="K1")
    file = write(tmp_path / "c.csv", "Customer number,E-mail,First name,Last name",
                 "K1,k1-new@shop.test,A,B", "K2,k2@shop.test,C,D")
    create_only = runner.invoke(args=["customers", "import", str(file), "--create-only",
                                      "--match", "customer-number"])
    assert "created: 1" in create_only.output and "rejected rows: 1" in create_only.output
    assert emails() == {"k1@shop.test", "k2@shop.test"}
    both = runner.invoke(args=["customers", "import", str(file), "--match", "customer-number"])
    assert "updated: 1" in both.output and "unchanged: 1" in both.output
    assert emails() == {"k1-new@shop.test", "k2@shop.test"}


def test_an_unreadable_file_is_a_clear_error(runner, tmp_path):
    file = tmp_path / "c.csv"
    file.write_bytes(b"\0\1\2" * 100)
    result = runner.invoke(args=["customers", "import", str(file)])
    assert result.exit_code != 0 and "Error:" in result.output


def test_empty_clears_leaves_new_customers_without_a_number(runner, tmp_path):
    """An empty customer number is no number (NULL), not an empty text that two customers
    could not share: the import stored neither customer before."""
    make_customer(email="k9@shop.test", customer_number="K9")
    file = write(tmp_path / "c.csv", "E-mail,First name,Customer number", "a@shop.test,A,",
                 "b@shop.test,B,", "k9@shop.test,Kay,")
    result = runner.invoke(args=["customers", "import", str(file), "--empty-clears"])
    assert result.exit_code == 0, result.output
    assert "created: 2" in result.output and "updated: 1" in result.output
    numbers = dict(db.session.execute(db.select(Customer.email_key,
                                                Customer.customer_number)).all())
    assert numbers == {"a@shop.test": None, "b@shop.test": None, "k9@shop.test": None}
