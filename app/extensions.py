"""Flask extensions, created unbound and attached in ``create_app``."""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.models.base import Base
from app.security import FetchMetadataCSRFProtect

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = FetchMetadataCSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def limits_every_view() -> bool:
    """Whether limits that apply to every view are configured (application, default,
    meta or blueprint limits), not only limits decorating a view."""
    manager = limiter.limit_manager
    app_wide = manager.application_limits or manager.default_limits or limiter._meta_limits
    return bool(app_wide or manager._blueprint_limits)


def drop_idle_limit_hook(app: Flask) -> None:
    """Remove Flask-Limiter's ``before_request`` check when it has nothing to check.

    Flask-Limiter checks a request twice: in that hook for the limits of every view
    (application, default, meta and blueprint limits), then in each decorated view for
    its own. We declare only the second kind, so the hook evaluated nothing on any
    request, yet cost a token request a tenth of its CPU. Called once the blueprints
    are registered; a configuration that adds limits of the first kind keeps it.
    """
    if limits_every_view():
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
