"""Notifications through Apprise (`NOTIFY_URLS`): run failed, new unmapped entries, Trakt needs
reconnecting, and (opt-in, `NOTIFY_SCHEDULED_POSTS`) a scheduled run that posted something.

The rule: a notification is a courtesy. Every message passes through `logs.redact` (no token
or notification URL ever leaves in a message), and a send that fails is logged and swallowed,
so a broken webhook never fails a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction

from logs.redact import redact, register_secret
from syncer.models import NotifiedUnmapped

logger = logging.getLogger("syncer.notify")
APP = "AniList → Trakt Sync"
# A long unmapped list is summarised: a chat message is not a report.
MAX_LISTED = 10


def notify_enabled() -> bool:
    return bool(settings.NOTIFY_URLS)


# Apprise's notification types, so a channel can route or colour them (a failure apart from a
# success); the values are Apprise's own `NotifyType` strings.
INFO, SUCCESS, WARNING, FAILURE = "info", "success", "warning", "failure"


def plain(text: str) -> str:
    """A message as a chat or a mail shows it: the `command` quotes the pages turn into code
    are dropped (a notification shows them literally)."""
    return text.replace("`", "")


def notify_send(*, title: str, body: str, kind: str = INFO) -> bool:
    """Send one message to every `NOTIFY_URLS` target, as Apprise type `kind` (INFO, SUCCESS,
    WARNING, FAILURE). True when all of them took it; False (and a log line) otherwise. Never
    raises."""
    if not notify_enabled():
        return False
    for url in settings.NOTIFY_URLS:
        register_secret(url)  # a webhook URL is a credential: keep it out of logs and messages
    try:
        import apprise  # here: a heavy import, paid only by installs that notify

        sender = apprise.Apprise()
        for url in settings.NOTIFY_URLS:
            if not sender.add(url):
                logger.warning("Notification target %s is not a URL Apprise understands", redact(url))
        sent = bool(len(sender)) and sender.notify(title=redact(f"{APP}: {title}"), body=redact(plain(body)),
                                                   notify_type=kind)
    except Exception as exc:  # noqa: BLE001 - a courtesy must never break the caller
        logger.warning("Notification not sent: %s", redact(f"{type(exc).__name__}: {exc}"))
        return False
    if not sent:
        logger.warning("Notification not sent (%s): a notification target did not accept it", title)
    return bool(sent)


def notify_run_finished(run) -> None:
    """After a sync run: its failure (with what to do, from `run.error`), or, when opted in, a
    scheduled run that posted something."""
    if not notify_enabled() or run.dry_run:
        return
    if run.state == "failed":
        notify_send(title=f"sync #{run.pk} failed", kind=FAILURE,
                    body=f"The {run.mode} sync #{run.pk} failed: {run.error or 'see its log'}")
    elif (run.state == "succeeded" and run.trigger == "scheduled" and run.posted
          and settings.NOTIFY_SCHEDULED_POSTS):
        notify_send(title=f"sync #{run.pk}", body=run_summary_line(run), kind=SUCCESS)


def run_summary_line(run) -> str:
    return (f"Scheduled sync #{run.pk} posted {run.posted} play(s) to Trakt "
            f"({run.already_synced} already synced, {run.unmapped} unmapped, {run.not_found} not found).")


def notify_unmapped(entries: Iterable[tuple[int, str, str]]) -> None:
    """(anilist id, title, reason) of a run's unmapped entries: each entry is announced once
    ever, not on every run that meets it again."""
    if not notify_enabled():
        return
    fresh, claimed = [], []
    for anilist_id, title, reason in dict(((a, (a, t, r)) for a, t, r in entries)).values():
        try:
            with transaction.atomic():
                NotifiedUnmapped.objects.create(anilist_id=anilist_id)
        except IntegrityError:
            continue  # announced before
        claimed.append(anilist_id)
        fresh.append(f"{title} (AniList {anilist_id}): {reason}")
    if not fresh:
        return
    lines = fresh[:MAX_LISTED] + ([f"... and {len(fresh) - MAX_LISTED} more"] if len(fresh) > MAX_LISTED else [])
    sent = notify_send(title=f"{len(fresh)} new unmapped entr{'y' if len(fresh) == 1 else 'ies'}", kind=WARNING,
                       body="Add a manual mapping for these (Mappings page or the admin):\n" + "\n".join(lines))
    if not sent:  # not announced after all: the next run tries again
        NotifiedUnmapped.objects.filter(anilist_id__in=claimed).delete()


def notify_trakt_reconnect(reason: str) -> None:
    notify_send(title="reconnect Trakt", kind=WARNING,
                body=f"Trakt refused the saved connection ({reason}). Syncing is stopped until you "
                     "reconnect Trakt (Trakt page, or manage.py trakt_auth).")


def notify_test() -> bool:
    return notify_send(title="test notification",
                       body="Notifications work: this app will tell you about failed runs, new unmapped "
                            "entries and when Trakt needs reconnecting.")
