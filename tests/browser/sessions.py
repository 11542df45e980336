"""Staff sessions for the browser tests, and what a page does wrong while one runs."""

from django.test import Client


def staff_cookie(user, url: str) -> dict:
    """`user`'s dashboard session cookie for the site at `url`. Made before the browser starts: its
    event loop forbids database calls (see the `chromium` fixture)."""
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": url}


def signed_in(browser, cookie: dict, **options):
    """A browser context holding that session."""
    context = browser.new_context(**options)
    context.add_cookies([cookie])
    return context


def watch_errors(page) -> list[str]:
    """The page's uncaught script errors, collected as they happen."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
