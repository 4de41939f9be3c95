"""The admin is the mapping editor: find a mapping by title or any id (or a pasted URL), fix it
with one manual mapping, override single episodes, re-resolve, reset sync progress."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.text import Truncator

from mappings import services
from mappings.admin_forms import (
    TRAKT_URL,
    EpisodeOverrideFormSet,
    MappingForm,
    parse_anilist,
    parse_trakt,
)
from mappings.legacy import converted_to
from mappings.manual import manual_target_save
from mappings.models import (
    AniBridgeRange,
    EpisodeOverride,
    FribbEntry,
    LegacyEpisodeOverride,
    Mapping,
    OtakuEntry,
    SourceStatus,
)
from mappings.provenance import (
    AIR_DATES,
    MANUAL,
    ORIGINAL_APP,
    PLACERS,
    RELATION,
    TITLE_SEARCH,
    TMDB,
    words,
)
from mappings.selectors import mappings_by_air_dates
from syncer.http import ApiError
from syncer.refs import ascii_id

# The admin is this app's mapping editor: its wide lists need the page's width more than a
# second navigation column beside the app's own.
admin.site.enable_nav_sidebar = False

ID_FIELDS = ("anilist_id", "trakt_id", "mal_id", "tmdb_id", "tvdb_id", "held_trakt_id")


class UnmappedFilter(admin.SimpleListFilter):
    title = "mapped"
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("no", "Unmapped"), ("yes", "Mapped")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(trakt_id__isnull=True)
        if self.value() == "yes":
            return queryset.filter(trakt_id__isnull=False)
        return queryset


class SourceFilter(admin.SimpleListFilter):
    """What found the Trakt show or movie (`Mapping.found_by`)."""

    title = "found by"
    parameter_name = "from"

    def lookups(self, request, model_admin):
        return [(code, words(code)) for code in (MANUAL, *PLACERS, TMDB, ORIGINAL_APP, RELATION, TITLE_SEARCH)]

    def queryset(self, request, queryset):
        return queryset.filter(found_by=self.value()) if self.value() else queryset


class PlacedByFilter(admin.SimpleListFilter):
    """What gave the start (`Mapping.placed_by`): the dashboard's "Placed by" column."""

    title = "placed by"
    parameter_name = "placed"

    def lookups(self, request, model_admin):
        return [(code, words(code)) for code in (*PLACERS, AIR_DATES, MANUAL)]

    def queryset(self, request, queryset):
        return queryset.filter(placed_by=self.value()) if self.value() else queryset


class AirDatesFilter(admin.SimpleListFilter):
    """Every decision the air dates made (mappings/airdates.py), to check them by eye."""

    title = "air dates"
    parameter_name = "airdates"

    def lookups(self, request, model_admin):
        return [("placed", "Placed or corrected by air dates"), ("held", "Held by air dates")]

    def queryset(self, request, queryset):
        return mappings_by_air_dates(queryset, held=self.value() == "held") if self.value() else queryset


class EpisodeOverrideInline(admin.TabularInline):
    model = EpisodeOverride
    formset = EpisodeOverrideFormSet
    extra = 1
    fields = ["anilist_episode", "season", "episode"]


@admin.register(Mapping)
class MappingAdmin(admin.ModelAdmin):
    form = MappingForm
    inlines = [EpisodeOverrideInline]
    # Seven narrow columns, so Source and Unmapped reason stay on screen at 1280 px and a title
    # wraps over two lines at most (mappings/admin-list.css gives the title its room).
    list_display = ["anilist_id", "title", "type", "trakt_id", "starts_at", "source", "unmapped"]
    list_filter = [SourceFilter, PlacedByFilter, "is_manual", "type", UnmappedFilter, AirDatesFilter]
    search_fields = ["title", "trakt_title", "trakt_slug", "imdb_id"]
    search_help_text = "Title, any id (AniList, Trakt, MAL, TMDB, TVDB, IMDb) or an AniList/Trakt URL."
    readonly_fields = ["trakt_id", "trakt_title", "trakt_slug", "mal_id", "tmdb_id", "tvdb_id", "imdb_id",
                       "anilist_format", "episodes", "episode_ranges", "held_trakt_id", "updated_at",
                       "found_by", "placed_by", "air_dates", "provenance"]
    fieldsets = [
        (None, {"fields": ["anilist_ref", "title", "trakt_ref", "type", "start_season", "start_episode"]}),
        ("Where it came from", {"fields": ["is_manual", "source", "found_by", "placed_by", "air_dates", "provenance",
                                           "unmapped_reason", "trakt_id", "trakt_title", "trakt_slug",
                                           "held_trakt_id", "episode_ranges"]}),
        ("Ids and AniList data", {"fields": ["mal_id", "tmdb_id", "tvdb_id", "imdb_id", "anilist_format",
                                             "episodes", "updated_at"]}),
    ]
    actions = ["reresolve", "reresolve_including_manual", "reset_progress"]
    change_list_template = "admin/mappings/mapping/change_list.html"

    class Media:
        css = {"all": ["mappings/admin-list.css"]}

    @admin.display(description="Starts at", ordering="start_season")
    def starts_at(self, obj):
        if obj.type == Mapping.Type.MOVIE or obj.start_season is None:
            return "—"
        return f"S{obj.start_season:02d}E{obj.start_episode or 1:02d}"

    @admin.display(description="Unmapped reason", ordering="unmapped_reason")
    def unmapped(self, obj):
        if not obj.unmapped_reason:
            return ""
        # Cut to keep the row short; the whole reason shows on hover and in the edit form.
        return format_html('<span title="{}">{}</span>', obj.unmapped_reason, Truncator(obj.unmapped_reason).chars(70))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        anilist = parse_anilist(term) if "anilist.co" in term else None
        if anilist is not None:
            return queryset.filter(anilist_id=anilist), False
        _, ref = parse_trakt(term) if TRAKT_URL.search(term) else (None, None)
        if ref:
            if (trakt_id := ascii_id(ref)) is not None:
                return queryset.filter(Q(trakt_id=trakt_id) | Q(held_trakt_id=trakt_id)), False
            return queryset.filter(trakt_slug__iexact=ref), False
        if (number := ascii_id(term)) is not None:
            return queryset.filter(_any_id(number)), False
        return super().get_search_results(request, queryset, search_term)

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        # The overrides are checked (before anything is saved) against the show this form chose.
        if "trakt_ref" in form.changed_data or not change:
            obj.checked_target = (form.cleaned_data.get("trakt_id"), form.cleaned_data.get("type"))
        return obj

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            obj.anilist_id = data["anilist_ref"]
        edited = {"trakt_ref", "type", "start_season", "start_episode"} & set(form.changed_data)
        if (edited or not change) and data.get("target") is None:
            # No Trakt id: the entry is unmapped, and the sources may map it again.
            obj.trakt_id = None
            obj.is_manual = False
            obj.unmapped_reason = obj.unmapped_reason or "no Trakt id"
            obj.episode_ranges, obj.held_trakt_id = [], None
            if obj.type == Mapping.Type.MOVIE:
                obj.start_season = obj.start_episode = None
        super().save_model(request, obj, form, change)
        if (edited or not change) and data.get("target") is not None:
            # A person's answer, saved by the rule every door shares: it wins over every source.
            row = manual_target_save(anilist_id=obj.anilist_id, target=data["target"], title=obj.title)
            for line in row.overlaps:
                self.message_user(request, f"This entry {line}.", messages.WARNING)
            obj.refresh_from_db()

    @admin.action(description="Re-resolve from sources (skips manual rows)")
    def reresolve(self, request, queryset):
        self._reresolve(request, queryset, include_manual=False)

    @admin.action(description="Re-resolve from sources, manual rows too")
    def reresolve_including_manual(self, request, queryset):
        self._reresolve(request, queryset, include_manual=True)

    def _reresolve(self, request, queryset, *, include_manual):
        try:
            result = services.mappings_reresolve(rows=queryset, include_manual=include_manual)
        except ApiError as exc:
            self.message_user(request, f"Re-resolve stopped: {exc}. Nothing is lost; try again later.", messages.ERROR)
            return
        except Exception as exc:  # noqa: BLE001 - shown to the person, logged by the services
            self.message_user(request, f"Re-resolve stopped by an unexpected error ({exc.__class__.__name__}: {exc}); "
                                       "the details are on the Logs page.", messages.ERROR)
            return
        self.message_user(
            request,
            f"Re-resolved: {result['resolved']} mapped, {result['unmapped']} unmapped, "
            f"{result['skipped_manual']} manual rows skipped.",
        )

    @admin.action(description="Reset sync progress (the next sync re-plans these entries)")
    def reset_progress(self, request, queryset):
        count = services.mapping_reset_progress(anilist_ids=queryset.values_list("anilist_id", flat=True))
        self.message_user(request, f"Sync progress reset for {count} entries.")

    def get_urls(self):
        extra = [path("legacy-overrides/", self.admin_site.admin_view(self.legacy_view),
                      name="mappings_legacy_overrides")]
        return extra + super().get_urls()

    def legacy_view(self, request):
        """The original's `episode_override` rows (its composite key keeps them out of the
        regular admin), with what each became; a POST converts the attributable ones."""
        if request.method == "POST":
            result = services.overrides_legacy_convert()
            self.message_user(request, f"Converted {result['converted']}, {result['already']} already done, "
                                       f"{result['left']} could not be attributed.")
            return redirect("admin:mappings_legacy_overrides")
        rows = [(row, converted_to(row)) for row in LegacyEpisodeOverride.objects.order_by("trakt_id", "abs")]
        context = {**self.admin_site.each_context(request), "rows": rows, "title": "Legacy episode overrides",
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/mappings/legacy_overrides.html", context)


def _any_id(value: int) -> Q:
    query = Q()
    for name in ID_FIELDS:
        query |= Q(**{name: value})
    return query


class ReadOnlyAdmin(admin.ModelAdmin):
    """Source tables are replaced by refreshes only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OtakuEntry)
class OtakuEntryAdmin(ReadOnlyAdmin):
    list_display = ["anilist_id", "mal_id", "anidb_id", "trakt_id", "global_media_type", "tvdb_id", "tvdb_marker",
                    "tvdb_season", "tvdb_absolute", "global_start", "global_end", "tmdb_ids"]
    search_fields = ["=anilist_id", "=mal_id", "=anidb_id", "=trakt_id", "=tvdb_id", "tmdb_ids", "imdb_id"]
    list_filter = ["global_media_type", "media_type"]


@admin.register(FribbEntry)
class FribbEntryAdmin(ReadOnlyAdmin):
    list_display = ["anilist_id", "mal_id", "anidb_id", "kind", "tmdb_tv", "tmdb_movies", "tmdb_season",
                    "tmdb_offset", "tvdb_id", "tvdb_season", "tvdb_offset"]
    search_fields = ["=anilist_id", "=mal_id", "=anidb_id", "=tmdb_tv", "=tvdb_id", "tmdb_movies", "imdb_ids"]
    list_filter = ["kind"]


@admin.register(AniBridgeRange)
class AniBridgeRangeAdmin(ReadOnlyAdmin):
    list_display = ["anilist_id", "target_kind", "target_id", "season", "source_start", "source_end",
                    "target_start", "target_end", "ratio"]
    search_fields = ["=anilist_id", "target_id"]
    list_filter = ["target_kind"]


@admin.register(SourceStatus)
class SourceStatusAdmin(ReadOnlyAdmin):
    list_display = ["source", "row_count", "refreshed_at", "upstream_updated_at", "last_attempt_at",
                    "duration_seconds", "last_error"]
