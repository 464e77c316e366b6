"""A real browser for the page tests: the OS's Chromium driven by Playwright, with what every page must pass
(no console errors, no serious or critical axe-core violation) and screenshots at desktop and phone widths."""

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = os.environ.get("MARKET_CHROMIUM", "/usr/bin/chromium")
#: INFRA-NOTES: the OS's Chromium, headless, nothing that reaches the network by itself
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: where the tests leave a picture of every page they check (named in the README)
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".run" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SERIOUS = {"serious", "critical"}


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """The browser, and for as long as it runs Django's permission to use the database from the test's
    thread: Playwright's sync API keeps an event loop in that thread, which Django otherwise takes for async
    code. Set only while the browser runs, so no other test of the worker inherits it."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Visitor:
    """One person's browser tab on the live server, collecting what the console reports."""

    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def note(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def check(self, name: str, *, status: int | None = None) -> None:
        """The current page: no console errors so far, no serious or critical accessibility violation, and
        its screenshots at both widths in `SCREENSHOTS` as `<name>-desktop.png` and `<name>-phone.png`.
        An error page (`status` 403, 404…) may have logged its own status, and nothing else."""
        self.page.wait_for_load_state("networkidle")
        if status is not None:
            own = f"the server responded with a status of {status}"
            self.console_errors = [error for error in self.console_errors if own not in error]
        assert self.console_errors == [], f"{name}: console errors {self.console_errors}"
        violations = [
            f"{violation['id']} ({violation['impact']}): {violation['help']} — "
            + "; ".join(node["target"][0] for node in violation["nodes"][:3])
            for violation in Axe().run(self.page).response["violations"]
            if violation.get("impact") in SERIOUS
        ]
        assert violations == [], f"{name}: accessibility violations {violations}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        size = self.page.viewport_size or {"width": 1280, "height": 900}
        for label, (width, height) in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.screenshot(path=str(SCREENSHOTS / f"{safe}-{label}.png"), full_page=True)
        self.page.set_viewport_size(size)
