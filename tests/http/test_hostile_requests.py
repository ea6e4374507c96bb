"""No request a user can make answers 500: every GET route walked with hostile values."""

import itertools
import re
from collections import Counter

import flask
import pytest

HOSTILE_VALUES = (
    "99999999999999999999",
    str(2**63),
    "-1",
    "0",
    "x" * 3000,
    "Zażółć-gęślą-jaźń-ü-€-日本",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "1e9",
)
HOSTILE_QUERIES = (
    "",
    "?page=99999999999999999999",
    "?page=-5&sort=%27&status=x&q=%F0%9F",
    "?q=99999999999999999999&group=99999999999999999999&customer=99999999999999999999",
    "?q=%C2%B2&group=%C2%B2&kind=%C2%B2&format=json",
)


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            yield rule


def _urls(rule):
    if not rule.arguments:
        yield rule.rule
        return
    for value in HOSTILE_VALUES:
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", value)
            for converter in ("int", "string", "path"):
                url = url.replace(f"<{converter}:{name}>", value)
        yield url


@pytest.fixture
def no_propagation(app):
    # The walk wants each answer, as a real server gives it, not the exception.
    app.config["PROPAGATE_EXCEPTIONS"] = False


def test_no_get_route_answers_500_to_hostile_values(app, client, login_as, no_propagation):
    login_as("admin")
    failures = []
    for rule in _get_rules(app):
        if rule.endpoint == "auth.logout":
            continue
        for url in _urls(rule):
            for query in HOSTILE_QUERIES:
                with client.get(url + query) as response:  # a download holds a file open
                    if response.status_code >= 500:
                        failures.append(f"{response.status_code} {url[:80]}{query}")
    assert not failures, "\n".join(failures)


def test_twenty_digit_ids_are_404(client, login_as):
    login_as("admin")
    for url in ("/customers/99999999999999999999", "/imports/99999999999999999999",
                "/exports/99999999999999999999/download", "/settings/staff/99999999999999999999",
                "/mails/batches/99999999999999999999", "/customers/bulk/99999999999999999999",
                "/imports/99999999999999999999/rejected",
                "/customers/99999999999999999999/orders",
                "/orders/99999999999999999999"):
        assert client.get(url).status_code == 404, url


def test_rejected_rows_of_a_file_with_a_300_character_name(client, login_as, run_jobs):
    from .test_transfer_import import HEADINGS, apply, csv_file, preview, upload

    login_as("staff")
    name = "Kundenliste-" + "ü" * 288 + ".csv"
    import_id = upload(client, csv_file(HEADINGS, "A;B;a@shop.test;;;", "C;D;broken;;;"), name)
    preview(client, run_jobs, import_id)
    apply(client, run_jobs, import_id)
    with client.get(f"/imports/{import_id}/rejected") as response:
        assert response.status_code == 200
        assert b"broken" in response.get_data()
        disposition = response.headers["Content-Disposition"]
    assert "rejected.csv" in disposition and len(disposition) < 1200


def test_posted_lists_of_ids_with_hostile_values(app, client, login_as, no_propagation):
    from ..conftest import csrf_token

    login_as("admin")
    token = csrf_token(client, "/customers/")
    hostile = ["99999999999999999999", "²", "-1", "x"]
    for action in ("approve", "add_group"):
        response = client.post("/customers/bulk", data={
            "csrf_token": token, "action": action, "ids": hostile,
            "group": "99999999999999999999"})
        assert response.status_code == 302, action
    response = client.post("/customers/send-password", data={
        "csrf_token": token, "customer_ids": hostile, "origin_id": "99999999999999999999"})
    assert response.status_code == 200


def test_nul_characters_are_refused_before_any_database_sees_them(client, login_as):
    login_as("staff")
    assert client.get("/customers/?q=a%00b").status_code == 400
    assert client.get("/orders/A%00B").status_code == 400
    response = client.post("/customers/new", data={"first_name": "A\x00"})
    assert response.status_code == 400


FIELD_NAME = re.compile(r'name="([A-Za-z_][\w-]*)"')
HOSTILE_FORMS = (
    {},
    {"*": "x" * 3000},
    {"*": "²"},
    {"*": "-1"},
    {"*": "99999999999999999999"},
)


def _post_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "POST" in rule.methods and rule.endpoint not in ("auth.logout", "api.orders"):
            yield rule


def test_no_post_route_answers_500_to_hostile_forms(app, client, no_propagation):
    """Every form a page posts, on its real objects and on ids out of range, filled with
    hostile values in every field its page (or any page) names: refused or done, never 500."""
    from ..browser.test_every_page import build_register
    from ..conftest import csrf_token, sign_in
    from ..factories import make_staff

    admin = make_staff(role="admin", password="correct horse battery", language="en")
    arguments = build_register(admin)
    arguments["user_id"] = make_staff().id  # (the forms on one's own account: a colleague's)
    sign_in(client, admin.email, "correct horse battery")
    names = set()
    with app.test_request_context():
        gets = [flask.url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})
                for rule in app.url_map.iter_rules()
                if "GET" in rule.methods and rule.endpoint != "static"
                and rule.arguments <= arguments.keys()]
    for url in gets:
        with client.get(url) as response:
            if response.mimetype == "text/html":
                names.update(FIELD_NAME.findall(response.get_data(as_text=True)))
    names -= {"csrf_token"}
    failures, answers = [], Counter()
    for rule in _post_rules(app):
        real = {name: arguments.get(name, "de" if name == "language" else 1)
                for name in rule.arguments}
        with app.test_request_context():
            urls = [flask.url_for(rule.endpoint, **real)]
        if rule.arguments:  # every argument out of range, then zero or text no id has
            urls.append(re.sub(r"<(?:int:)?\w+>", "99999999999999999999", rule.rule))
            urls.append(re.sub(r"<(int:)?\w+>",
                               lambda found: "0" if found.group(1) else "%C2%B2", rule.rule))
        for url, form in itertools.product(urls, HOSTILE_FORMS):
            if client.get("/customers/").status_code != 200:  # signed out by a form: again
                sign_in(client, admin.email, "correct horse battery")
            data = {name: form["*"] for name in names} if form else {}
            data["csrf_token"] = csrf_token(client, "/customers/")
            with client.post(url, data=data) as response:
                if url == urls[0]:
                    answers[response.status_code] += 1
                if (response.location and "/login" in response.location
                        and not rule.rule.startswith("/login")):
                    failures.append(f"signed out: POST {url[:80]} {sorted(form)}")
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} POST {url[:80]} {sorted(form)}")
    assert not failures, "\n".join(failures)
    # On real objects the forms were reached, not refused before their views: done, or shown
    # again with what was wrong.
    assert answers[200] + answers[302] + answers[422] > sum(answers.values()) // 2, answers


@pytest.mark.parametrize("words", [
    "o'brien", "d'artagnan müller", "back\\slash", "a & b | !c", "x:* <-> y", "'); drop table",
    "%_%", "(((", "lodz'", "ab'cd ef\\'gh"])
def test_searches_with_quotes_and_query_syntax_answer(client, login_as, no_propagation, words):
    """Longer words go to PostgreSQL as a literal (search_segments): quoted, never run."""
    from ..factories import make_customer

    login_as("staff")
    make_customer(last_name="O'Brien", email="obrien@shop.test")
    for _ in range(3):
        make_customer(last_name="Müller")
    response = client.get("/customers/", query_string={"q": words})
    assert response.status_code == 200, words
    if words == "o'brien":
        assert "obrien@shop.test" in response.get_data(as_text=True)
