"""Flask extensions, created unbound and attached in ``create_app``."""

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.models.base import Base
from app.security import FetchMetadataCSRFProtect

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = FetchMetadataCSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: endpoint -> whether no limit is declared on its view (the same in every app).
_UNLIMITED: dict[str, bool] = {}


@limiter.request_filter
def _has_no_limits() -> bool:
    """Skip Flask-Limiter's per-request work on views that declare no limit (most of
    them: discovery, JWKS, pages): it was a third of a JWKS request's CPU."""
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits:
        return False  # limits for every view were configured
    endpoint = request.endpoint or ""
    if endpoint not in _UNLIMITED:
        view = current_app.view_functions.get(endpoint)
        limits = limiter.limit_manager.decorated_limits(get_qualified_name(view)) if view else []
        _UNLIMITED[endpoint] = not limits
    return _UNLIMITED[endpoint]
