"""Flask extensions, created unbound and attached in ``create_app``."""

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
