"""Checks shared by the report-escaping tests (backend and plugin side)."""

import html
from html.parser import HTMLParser


class _Elements(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.elements = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_inert(text, *shown):
    """``shown`` appear escaped; nothing in ``text`` is script or an event handler, and
    images are inline PNGs only."""
    for raw in shown:
        assert html.escape(raw) in text
        assert raw not in text
    assert "<script" not in text.lower()
    assert "<img src=x" not in text
    for tag, attrs in _Elements(text).elements:
        assert tag != "script"
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
