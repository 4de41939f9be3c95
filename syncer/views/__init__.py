"""The web pages: one module per page, wired in `syncer/urls.py`."""
