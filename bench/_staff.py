"""Simulated staff sessions for the load bench: each its own httpx client (own cookies, own
CSRF token), signed in, then searching, filtering, opening customers and saving edits until a
deadline, recording every request's time and every save the server acknowledged."""

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx

SEARCH_WORDS = ["muller", "kowalska", "nowak", "dubois", "smith", "martin", "wisniewska",
                "schmidt", "lefevre", "hurtownia", "krakow", "berlin", "paris", "lodz", "ma",
                "k", "gmbh", "anna", "jan", "marie"]
FILTERS = ["country=DE", "country=PL&newsletter=yes", "newsletter=no&type=business",
           "language=fr", "approval=waiting", "type=private&country=FR", "sort=-modified",
           "sort=name&country=GB"]
# How often each kind of request comes, in a session's steps (an edit is an open and a save).
KINDS = [("search", 35), ("filter", 25), ("open", 25), ("edit", 15)]


class FormFields(HTMLParser):
    """The fields a browser would submit from the form that holds `marker` (an input name):
    inputs (checked boxes only), each select's chosen option, textareas."""

    def __init__(self, marker: str):
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.forms: list[list[tuple[str, str]]] = []
        self.current: list[tuple[str, str]] | None = None
        self.select: str | None = None
        self.multiple = False
        self.options: list[str] = []  # the select's options' values
        self.chosen: list[str] = []  # those selected
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = []
            self.forms.append(self.current)
        elif self.current is None or "name" not in a and tag != "option":
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.current.append((a["name"], a.get("value") or ("y" if kind == "checkbox"
                                                                    else "")))
        elif tag == "select":
            self.select, self.multiple = a["name"], "multiple" in a
            self.options, self.chosen = [], []
        elif tag == "option" and self.select is not None:
            self.options.append(a.get("value", ""))
            if "selected" in a:
                self.chosen.append(a.get("value", ""))
        elif tag == "textarea":
            self.textarea, self.text = a["name"], []

    def handle_data(self, data):
        if self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self.select is not None and self.current is not None:
            if not self.chosen and not self.multiple and self.options:
                self.chosen = self.options[:1]  # a browser submits the first one
            self.current.extend((self.select, value) for value in self.chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.current is not None:
            self.current.append((self.textarea, "".join(self.text).removeprefix("\n")))
            self.textarea = None
        elif tag == "form":
            self.current = None

    def fields(self) -> list[tuple[str, str]]:
        for form in self.forms:
            if any(name == self.marker for name, _value in form):
                return form
        raise ValueError(f"no form with {self.marker}")


def form_fields(html: str, marker: str) -> list[tuple[str, str]]:
    parser = FormFields(marker)
    parser.feed(html)
    return parser.fields()


@dataclass
class Tally:
    """What all sessions measured: milliseconds per kind, errors, acknowledged saves."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    saved: dict[int, str] = field(default_factory=dict)  # customer id -> acknowledged notes

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {what}")


async def _timed(tally: Tally, kind: str, request, expect: int) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as error:
        tally.error(kind, f"{type(error).__name__} {error}")
        return None
    tally.times[kind].append((time.perf_counter() - started) * 1000)
    if response.status_code != expect:
        tally.error(kind, f"{response.status_code} {response.request.url}")
        return None
    return response


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> None:
    page = await client.get("/login")
    token = dict(form_fields(page.text, "csrf_token"))["csrf_token"]
    response = await client.post("/login", data={"email": email, "password": password,
                                                  "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in of {email} answered {response.status_code}")


async def staff_session(client: httpx.AsyncClient, email: str, own_ids: list[int],
                        customers: int, deadline: float, tally: Tally, seed: int) -> None:
    """One signed-in member of staff at work until the deadline."""
    rng = random.Random(seed)
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    edits = 0
    while time.monotonic() < deadline:
        kind = rng.choice(kinds)
        if kind == "search":
            await _timed(tally, kind, client.get(
                f"/customers/?q={rng.choice(SEARCH_WORDS)}"), 200)
        elif kind == "filter":
            await _timed(tally, kind, client.get(f"/customers/?{rng.choice(FILTERS)}"), 200)
        elif kind == "open":
            await _timed(tally, kind, client.get(
                f"/customers/{rng.randint(1, customers)}"), 200)
        else:
            customer_id = rng.choice(own_ids)
            page = await _timed(tally, "open", client.get(f"/customers/{customer_id}"), 200)
            if page is None:
                continue
            edits += 1
            notes = f"load bench: {email} edit {edits}"
            data = [(name, notes if name == "notes" else value)
                    for name, value in form_fields(page.text, "version")]
            saved = await _timed(tally, "save", client.post(
                f"/customers/{customer_id}", content=urlencode(data),
                headers={"Content-Type": "application/x-www-form-urlencoded"}), 302)
            if saved is not None:
                tally.saved[customer_id] = notes


# gunicorn closes a connection idle for 2 s (its keepalive); a client that reuses one it still
# thinks open gets "Server disconnected" for a request the server never saw (a browser sends it
# again on a new connection by itself). Each session drops its idle connections after 1 s.
LIMITS = httpx.Limits(keepalive_expiry=1.0)


async def _staff(base, staff, password, customers, seconds, tally, on_start) -> float:
    clients = [httpx.AsyncClient(base_url=base, timeout=60, limits=LIMITS) for _ in staff]
    try:
        # Signing in (a memory-hard hash each) comes before the measured window, a few at once.
        gate = asyncio.Semaphore(4)

        async def signed_in(client, email):
            async with gate:
                await sign_in(client, email, password)

        await asyncio.gather(*(signed_in(client, email)
                               for client, (email, _ids) in zip(clients, staff, strict=True)))
        # Unmeasured: every kind of page once per session, so that each web worker has loaded
        # its templates, catalogues and connections before the window opens.
        await asyncio.gather(*(
            staff_session(client, email, own_ids, customers, time.monotonic() + 0.1, Tally(),
                          -1 - n)
            for n, (client, (email, own_ids)) in enumerate(zip(clients, staff, strict=True))))
        if on_start is not None:
            on_start()
        started = time.monotonic()
        await asyncio.gather(*(
            staff_session(client, email, own_ids, customers, started + seconds, tally, n)
            for n, (client, (email, own_ids)) in enumerate(zip(clients, staff, strict=True))))
        return time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()


def run_staff(base: str, staff: list[tuple[str, list[int]]], password: str, customers: int,
              seconds: float, tally: Tally, on_start: Callable[[], None] | None = None) -> float:
    """Every staff member signs in, then all work for `seconds` (`on_start` called as the
    window opens); returns the window's length."""
    return asyncio.run(_staff(base, staff, password, customers, seconds, tally, on_start))


async def _static(base: str, path: str, sessions: int, seconds: float, tally: Tally) -> float:
    async def client_loop(deadline):
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=LIMITS) as client:
            while time.monotonic() < deadline:
                await _timed(tally, "static", client.get(path), 200)

    await asyncio.gather(*(client_loop(time.monotonic() + 0.1) for _ in range(sessions)))
    tally.times.clear()  # (that was the warm-up)
    started = time.monotonic()
    await asyncio.gather(*(client_loop(started + seconds) for _ in range(sessions)))
    return time.monotonic() - started


def run_static(base: str, path: str, sessions: int, seconds: float, tally: Tally) -> float:
    """The ceiling: as many clients asking the same gunicorn for a static file."""
    return asyncio.run(_static(base, path, sessions, seconds, tally))
