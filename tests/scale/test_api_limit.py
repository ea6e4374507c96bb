"""Two gunicorn worker processes share the storefront API's limit per key through Redis: the
key gets its allowance once in all, not once per process (see test_web_processes.py for how
`Occupied` makes each half of the requests go to another worker)."""

import json
import urllib.error
import urllib.request

from shopadmin.extensions import db
from shopadmin.orders.services import create_api_key

from .test_web_processes import Occupied, gunicorn, served_by  # noqa: F401  (the fixture)


def subscribe(base: str, key: str) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        base + "/api/v1/newsletter", method="POST",
        data=json.dumps({"email": "limit@example.com", "subscribed": False}).encode(),
        headers={"X-API-Key": key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


def test_two_web_workers_count_one_api_key_as_one(app, gunicorn):  # noqa: F811
    _, first_key = create_api_key("Storefront", None)
    _, second_key = create_api_key("Other shop", None)
    db.session.commit()
    base, port, server = gunicorn(SHOPADMIN_API_RATE_LIMIT="4/minute")
    answers = []
    first = Occupied(port)  # one worker busy: the other answers three requests
    answers += [subscribe(base, first_key) for _ in range(3)]
    second = Occupied(port)  # now that one is busy, and the first answers the next three
    first.release()
    answers += [subscribe(base, first_key) for _ in range(3)]
    other_key = subscribe(base, second_key)
    second.release()

    assert [status for status, _, _ in answers] == [200, 200, 200, 200, 429, 429]
    status, headers, body = answers[-1]
    assert body["errors"][0]["code"] == "rate_limited" and int(headers["Retry-After"]) > 0
    assert other_key[0] == 200  # the other key has an allowance of its own
    pids = served_by(server, "POST", "/api/v1/newsletter")
    assert len(pids) == 7
    assert len(set(pids[:3])) == len(set(pids[3:6])) == 1 and pids[0] != pids[3], pids
