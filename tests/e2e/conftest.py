"""Headless Debian Chromium driven by Playwright against the live server and a real worker."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (`make browser` installs it)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety guard must stand down.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, live_settings):
    # The live server serves static files from the finders, by their unhashed names.
    live_settings.STORAGES = {**live_settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A 403 can be the answer a test expects (a wrong password); missing files and crashes never are.
    page.on("response", lambda response: (response.status == 404 or response.status >= 500)
            and errors.append(f"{response.status} {response.url}"))
    # What the page asked and got, shown (captured stdout) when a test fails: a card that never
    # showed its result once (2026-12-06) left nothing else to read.
    page.on("response", lambda response: print(f"{response.status} {response.request.method} {response.url}"))
    page.on("requestfailed", lambda request: print(f"failed {request.method} {request.url}: "
                                                   f"{request.failure}"))
    page.on("console", lambda message: print(f"console {message.type}: {message.text}"))
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"
