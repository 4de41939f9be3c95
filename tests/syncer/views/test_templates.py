"""Template comments: Django's `{# … #}` ends at the end of its line, so a comment spread over
lines is printed on the page as text. Longer comments use `{% comment %}`."""

from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted(p for folder in ("templates", "mappings/templates", "logs/templates")
                   for p in (ROOT / folder).rglob("*.html"))


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 10


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_short_comment_closes_on_its_own_line(template):
    for number, line in enumerate(template.read_text().splitlines(), 1):
        if "{#" in line:
            assert "#}" in line[line.index("{#"):], f"{template.name}:{number}: use {{% comment %}} for a long comment"


def test_the_dashboard_shows_no_template_comment(staff_client):
    html = staff_client.get("/").content.decode()
    assert "{#" not in html and "#}" not in html
