"""The site's icon: browsers and crawlers ask every site for /favicon.ico, and pages name it too."""

from django.test import Client


def test_favicon_ico_is_served_at_the_root(db):
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


def test_pages_name_the_icon(owner_a):
    client = Client()
    client.force_login(owner_a)
    assert '<link rel="icon" href="/static/site-root/favicon.ico">' in client.get("/").content.decode()
