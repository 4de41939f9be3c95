"""Migration operations that adopt the original app's tables instead of failing on them.

A user of the original app points DATABASE_URL at a Supabase database that already holds
`mappings`, `logs`, `system_config`, `sync_progress` and `episode_override`. The first
migration of each such table creates it only when it is missing; every column the rewrite
adds comes in a later, ordinary migration, so `migrate` keeps every existing row.
"""

from django.db import migrations


class CreateModelUnlessTableExists(migrations.CreateModel):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        existing = schema_editor.connection.introspection.table_names(schema_editor.connection.cursor())
        if model._meta.db_table in existing:
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # Never drop a table the user brought along: unapplying is a no-op for adopted tables.
        return

    def describe(self):
        return f"Create model {self.name} (or adopt the existing table)"
