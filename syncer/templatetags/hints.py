"""`{{ text|hint }}`: a plain-text message (a run's error, a status line) as HTML people can act
on. Messages are written once, as text, for the CLI, the API and the pages alike; here a
`command` becomes code and a page path such as "/trakt/" becomes a link to that page."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

# Only the app's own pages, so a message can never link somewhere else.
PAGES = {"/trakt/": "Trakt page", "/manual/": "Manual mapping", "/logs/": "Logs"}
_CODE = re.compile(r"`([^`]+)`")
_PAGE = re.compile("|".join(re.escape(path) for path in PAGES))


@register.filter
def hint(text: str) -> str:
    html = escape(text or "")
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _PAGE.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html)
    return mark_safe(html)
