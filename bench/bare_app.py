"""The reference row of the HTTP benchmark: bare Flask answering a small JSON document,
served by the same gunicorn settings as Vestibule (``gunicorn bench.bare_app:app``)."""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    """A small JSON document and nothing else: no database, no session, no extension."""
    return jsonify(status="ok", service="bare-flask", version=1)
