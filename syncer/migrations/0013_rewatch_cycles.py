from django.db import migrations, models
from django.db.models import Q


def seed_cycles(apps, schema_editor):
    """The rewatch counters become cycle rows, so a synced install re-posts nothing.

    `synced_repeat = k`: cycles 1..k are on Trakt, a row of episode 0 each (the whole cycle: the
    counters never said which plays were whose). `rewatch_last_abs = m`: episodes 1..m of cycle
    k+1 are on Trakt; posted, with its run and item, where the newest posted rewatch play of the
    episode is found, else present. The activities of the other posted rewatch plays go on cycle
    k's row, so an activity read again finds its cycle instead of starting a new one."""
    ledger = apps.get_model("syncer", "LedgerItem")
    item_model = apps.get_model("syncer", "SyncRunItem")
    progress_model = apps.get_model("syncer", "SyncProgress")
    counters = {aid: (k, m, title) for aid, k, m, title in progress_model.objects.filter(
        Q(synced_repeat__gt=0) | Q(rewatch_last_abs__gt=0)).values_list(
        "anilist_id", "synced_repeat", "rewatch_last_abs", "title")}
    posted: dict[int, list] = {}
    for item in item_model.objects.filter(action="post", rewatch=True, state="posted", run__dry_run=False,
                                          anilist_id__in=list(counters)).order_by("-id").iterator(chunk_size=2000):
        posted.setdefault(item.anilist_id, []).append(item)
    rows = []
    for aid, (k, m, title) in counters.items():
        newest, older = {}, []
        for item in posted.get(aid, []):
            if item.anilist_episode <= m and item.anilist_episode not in newest:
                newest[item.anilist_episode] = item
            elif item.activity_id:
                older.append([item.activity_id, item.anilist_episode])
        for cycle in range(1, k + 1):
            params = {"seeded": "synced_repeat"}
            if cycle == k and older:
                params["activities"] = older
            rows.append(ledger(what="play", anilist_id=aid, episode=0, cycle=cycle, title=title or "",
                               state="present", params=params))
        for episode in range(1, m + 1):
            item = newest.get(episode)
            if item is None:
                rows.append(ledger(what="play", anilist_id=aid, episode=episode, cycle=k + 1, title=title or "",
                                   state="present", params={"seeded": "rewatch_last_abs"}))
                continue
            rows.append(ledger(
                what="play", anilist_id=aid, episode=episode, cycle=k + 1, title=item.title, state="posted",
                watched_at=item.watched_at, kind=item.kind, trakt_id=item.trakt_id, season=item.season,
                number=item.number, run_id=item.run_id, item_id=item.pk, activity_id=item.activity_id,
                belongs={"kind": item.kind, "trakt_id": item.trakt_id, "season": item.season, "number": item.number}))
    ledger.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('syncer', '0012_ledger'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgeritem',
            name='activity_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(seed_cycles, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='ProgressBefore',
        ),
        migrations.RemoveField(
            model_name='syncprogress',
            name='rewatch_last_abs',
        ),
        migrations.RemoveField(
            model_name='syncprogress',
            name='synced_repeat',
        ),
    ]
