"""The AniList, Trakt and TMDB clients: HTTP and JSON only. They know no model and no
database; the app builds them, with the database token store, in `syncer.connections`."""
