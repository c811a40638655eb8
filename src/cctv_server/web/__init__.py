"""The web side: the Starlette app, its handlers, templates and static files."""
