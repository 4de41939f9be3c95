"""How each mapping was found and placed, as codes (`mappings.provenance`), read once here from
the words the resolver wrote in `source` until now; from here on code reads the codes only.

The parser below is this migration's own (a later change to the resolver's words or to
`mappings.provenance` must not change what an old row is read as)."""

import ast
import re

from django.db import migrations, models

DATASETS = ("anibridge", "fribb", "otaku")
RELATED = re.compile(r"\((prequel|sequel|parent) AniList (\d+)\)", re.IGNORECASE)
TITLE = re.compile(r"^trakt search title (.+) (\d{4})$")
EXTERNAL = re.compile(r"^tmdb (\d+) external ids (\w+) (\S+)$")
CORRECTED = re.compile(r"S(\d+)E(\d+), corrected to S\d+E\d+ by air dates")
ODD_DATE = "; one date differs: "


def _value(text: str):
    return int(text) if text.isdigit() else text


def _found(found: str, trakt_id) -> tuple[str, dict]:
    """(found_by, params) of the words before "; start "."""
    if found.startswith("air dates"):
        related = RELATED.search(found)
        return "relation", {"relation": related[1].upper(), "anilist_id": int(related[2])} if related else {}
    if title := TITLE.match(found):
        try:
            name = ast.literal_eval(title[1])
        except (ValueError, SyntaxError):
            name = title[1]
        return "title_search", {"title": name, "year": int(title[2])}
    if external := EXTERNAL.match(found):
        return "tmdb", {"via": [external[2], _value(external[3])], "tmdb": int(external[1])}
    if found.endswith(" trakt_id"):
        by = found.removesuffix(" trakt_id")
        return ("original_app" if by == "original app" else by), {"via": ["trakt", trakt_id]}
    words = found.split()
    if words and words[0] in DATASETS:
        return words[0], ({"via": [words[1], _value(words[2])]} if len(words) == 3 else {})
    return "", {}


def provenance_of(*, source: str, trakt_id, held_trakt_id, unmapped_reason: str, hold: str) -> dict:
    """The codes an old row's words say: `found_by`, `placed_by`, `air_dates`, `provenance`."""
    text = (source or "").strip()
    if text == "manual":
        return {"found_by": "manual", "placed_by": "manual", "air_dates": "", "provenance": {}}
    text, odd, _ = text.partition(ODD_DATE)
    found, has_start, start = text.partition("; start ")
    found_by, params = _found(found, trakt_id or held_trakt_id)
    placed_by, air_dates = "", ""
    if found_by in ("relation", "title_search") or start.startswith("air dates"):
        placed_by, air_dates = "air_dates", "placed"
        related = RELATED.search(start)
        if related:
            params = {**params, "relation": related[1].upper(), "anilist_id": int(related[2])}
    elif has_start:
        first = (start.split() or [""])[0]
        placed_by = first if first in DATASETS else ""
        if corrected := CORRECTED.search(start):
            air_dates, params = "corrected", {**params, "from": [int(corrected[1]), int(corrected[2])]}
    elif trakt_id is not None and found_by in DATASETS:
        placed_by = found_by  # a movie, found and never placed, or a start no words name
    if odd and not air_dates:
        air_dates = "confirmed"
    if (trakt_id is None and held_trakt_id is not None and hold != "moved"
            and "air dates" in (unmapped_reason or "").lower()):
        air_dates = "held"
    return {"found_by": found_by, "placed_by": placed_by, "air_dates": air_dates, "provenance": params}


def backfill(apps, schema_editor):
    mapping = apps.get_model("mappings", "Mapping")
    rows = mapping.objects.exclude(source="", unmapped_reason="").only(
        "anilist_id", "source", "trakt_id", "held_trakt_id", "unmapped_reason", "hold")
    batch = []
    for row in rows.iterator(chunk_size=2000):
        for name, value in provenance_of(source=row.source, trakt_id=row.trakt_id, held_trakt_id=row.held_trakt_id,
                                         unmapped_reason=row.unmapped_reason, hold=row.hold).items():
            setattr(row, name, value)
        batch.append(row)
        if len(batch) == 1000:
            mapping.objects.bulk_update(batch, ["found_by", "placed_by", "air_dates", "provenance"])
            batch = []
    mapping.objects.bulk_update(batch, ["found_by", "placed_by", "air_dates", "provenance"])


class Migration(migrations.Migration):

    dependencies = [
        ('mappings', '0011_hold_code'),
    ]

    operations = [
        migrations.AddField(
            model_name='mapping',
            name='found_by',
            field=models.CharField(blank=True, default='', max_length=16),
        ),
        migrations.AddField(
            model_name='mapping',
            name='placed_by',
            field=models.CharField(blank=True, default='', max_length=16),
        ),
        migrations.AddField(
            model_name='mapping',
            name='air_dates',
            field=models.CharField(blank=True, default='', max_length=16),
        ),
        migrations.AddField(
            model_name='mapping',
            name='provenance',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
