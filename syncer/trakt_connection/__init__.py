"""The Trakt connection: the encrypted token store (`tokens`), the OAuth flows that fill it
(`oauth`) and the encryption at rest they share (`crypto`). The Trakt client knows none of
this: it is handed a token store (`syncer.connections.trakt_client`)."""
