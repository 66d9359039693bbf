"""The account page's actions (issue 15), under /account: one module per section.

The page itself stays ``web.account`` at /account (app/web/views.py renders it with
``page.account_page``), so links to it keep working; the forms on it post here:
profile.py (names, fields, mobile number), credentials.py (password, email),
sessions.py (signed-in browsers, granted applications) and data.py (export,
deletion).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from app.web.account import credentials, data, profile, sessions, two_step  # noqa: E402, F401  (routes)
