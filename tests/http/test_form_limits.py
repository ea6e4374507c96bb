"""Form bodies are capped in size and number of fields, with a page that says so."""

import io

from shopadmin.extensions import db

from ..conftest import csrf_token


def test_a_long_form_body_is_refused_before_it_is_read_as_a_whole(app, client, login_as):
    login_as("staff", language="de")
    # The upload limit stays at its 100 MB; a form gets the form limit (500 KB).
    response = client.post("/profile", data={"profile-name": "x" * 600_000})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Formular zu groß" in page
    assert "Datei" not in page


def test_a_form_with_too_many_fields_on_an_anonymous_page(app, client):
    token = csrf_token(client, "/login")
    fields = "&".join(f"f{i}=x" for i in range(app.config["MAX_FORM_PARTS"]))
    response = client.post("/account/forgot", data=f"csrf_token={token}&email=a@x.test&{fields}",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Form too large" in page and "File too large" not in page


def test_a_multipart_form_with_too_many_parts_is_a_form_error(app, client, login_as):
    login_as("staff")
    # A small limit keeps the body small: the test client spools a large one to a file that
    # an early 413 leaves open.
    app.config["MAX_FORM_PARTS"] = 50
    data = {f"f{i}": "x" for i in range(51)}
    response = client.post("/profile", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Form too large" in response.get_data(as_text=True)


def test_a_too_large_upload_still_says_file_too_large(app, client, login_as):
    login_as("staff", language="fr")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    token = csrf_token(client, "/imports/new")
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": "customers",
        "file": (io.BytesIO(b"a;b\r\n" * 1000), "big.csv")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)


def test_an_ordinary_form_still_saves(client, login_as):
    user = login_as("staff")
    token = csrf_token(client, "/profile")
    response = client.post("/profile", data={"csrf_token": token, "profile-csrf_token": token,
                                             "profile-name": "Ewa Nowak"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.name == "Ewa Nowak"
    # A long text within the form limit is the form's to refuse, at its field: no 413.
    response = client.post("/profile", data={"csrf_token": token, "profile-csrf_token": token,
                                             "profile-name": "Ewa " * 1000})
    assert response.status_code == 200
    assert "longer than 120 characters" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.name == "Ewa Nowak"
