"""The admin shows dates as the app does (ISO), not "Dec. 1, 2026, 9:41 p.m."."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from mappings.models import SourceStatus

pytestmark = pytest.mark.django_db


def test_admin_lists_show_iso_dates(admin_client):
    SourceStatus.objects.create(source="fribb", row_count=5, refreshed_at=datetime(2026, 12, 1, 21, 41, tzinfo=UTC))
    html = admin_client.get(reverse("admin:mappings_sourcestatus_changelist")).content.decode()
    assert "2026-12-01 21:41:00" in html and "p.m." not in html and "Dec." not in html
