"""The browser walk of tests/browser/test_every_page.py, for one language: the walk as the test
does it now beside the former walk, alternated in the same run on the same app, server and
Chromium (/usr/bin/chromium, or CHROMIUM).

former: signed in through the form, one page at a time, each loaded, checked and then
photographed with Playwright's page.screenshot. current: the session handed to the browser,
two pages in turn (page_walk.walk), screenshots by Chromium's fast encoder (page_walk.screenshot).
Both run the same checks on the same pages. Printed: wall seconds, and the CPU seconds of this
process (the app serving the pages) and of the browser's processes, median of BENCH_ROUNDS
rounds (3); BENCH_LANGUAGE (de) chooses the language.
"""

import os
import shutil
import statistics
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from shopadmin.extensions import db, huey
from tests.browser.page_walk import INSPECT_PAGE, english_words, screenshot, walk
from tests.browser.test_every_page import DATA, HEIGHT, WIDTH, build_register, pages
from tests.conftest import PASSWORD, TEST_HASH_METHOD, sign_in
from tests.factories import make_staff

from .common import OUTPUT, bench_app

LANGUAGE = os.environ.get("BENCH_LANGUAGE", "de")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def browser_cpu() -> float:
    """CPU seconds of every process descending from this one (Playwright's driver, Chromium)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    me, total = os.getpid(), 0.0
    for pid, seconds in cpu.items():
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, me):
            ancestor = parents.get(ancestor)
        if ancestor == me:
            total += seconds
    return total


def check(language: str, failures: list[str]):
    def run(page, url, response) -> dict:
        assert response.status < 400, (url, response.status)
        found = page.evaluate(INSPECT_PAGE)
        failures.extend(found["problems"])
        failures.extend(english_words(found["texts"], language, DATA))
        return found
    return run


def former(browser, server_url: str, app, admin, urls: list[str], folder: Path) -> list[str]:
    failures: list[str] = []
    context = browser.new_context(base_url=server_url, locale="en-GB",
                                  viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/login")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector(f"html[lang={LANGUAGE}]")
    inspect = check(LANGUAGE, failures)
    for url in urls:
        response = page.goto(url)
        inspect(page, url, response)
        name = url.strip("/").replace("/", "_") or "dashboard"
        page.screenshot(path=str(folder / f"{name}.jpeg"), type="jpeg", quality=60)
    context.close()
    return failures


def current(browser, server_url: str, app, admin, urls: list[str], folder: Path) -> list[str]:
    failures: list[str] = []
    context = browser.new_context(base_url=server_url, locale="en-GB",
                                  viewport={"width": WIDTH, "height": HEIGHT})
    client = app.test_client()
    assert sign_in(client, admin.email).status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server_url,
                          "httpOnly": True, "sameSite": "Lax"}])
    inspect = check(LANGUAGE, failures)

    def visit(page, url, response) -> None:
        inspect(page, url, response)
        name = url.strip("/").replace("/", "_") or "dashboard"
        screenshot(page, folder / f"{name}.jpeg")

    walk(context, urls, visit)
    context.close()
    return failures


def main() -> None:
    from playwright.sync_api import sync_playwright

    shutil.rmtree(OUTPUT / "browser-walk", ignore_errors=True)
    app = bench_app("browser-walk", WTF_CSRF_ENABLED=True, SHOP_URL="http://shop.test",
                    PASSWORD_HASH_METHOD=TEST_HASH_METHOD, SEND_FILE_MAX_AGE_DEFAULT=3600,
                    TRUSTED_HOSTS=["localhost", "127.0.0.1", "shop.test"])
    with app.app_context():
        admin = make_staff("admin", password=PASSWORD, language=LANGUAGE,
                           name="Zofia Wiśniewska")
        arguments = build_register(admin)
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
        from shopadmin.notifications.models import MailLog, OutboxMessage

        arguments.update(message_id=db.session.scalar(db.select(OutboxMessage.id)),
                         log_id=db.session.scalar(db.select(MailLog.id)), language=LANGUAGE)
        urls = pages(app, arguments)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_url = f"http://127.0.0.1:{server.server_port}"
    folder = OUTPUT / "browser-walk" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[tuple[float, float, float]]] = {"former": [], "current": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync"])
            for _ in range(ROUNDS):
                for name, run in (("former", former), ("current", current)):
                    started, cpu, served = time.monotonic(), browser_cpu(), time.process_time()
                    with app.app_context():
                        failures = run(browser, server_url, app, admin, urls, folder)
                    results[name].append((time.monotonic() - started,
                                          browser_cpu() - cpu, time.process_time() - served))
                    assert not failures, failures
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
    print(f"browser walk, {len(urls)} pages in {LANGUAGE}, median of {ROUNDS} rounds "
          f"(alternated), {os.cpu_count()} cores")
    print(f"{'':10}{'wall s':>10}{'browser CPU s':>16}{'server CPU s':>15}")
    for name, rows in results.items():
        wall, browser_s, server_s = (statistics.median(values)
                                     for values in zip(*rows, strict=True))
        print(f"{name:10}{wall:>10.1f}{browser_s:>16.1f}{server_s:>15.1f}")
