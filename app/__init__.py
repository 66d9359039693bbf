"""Vestibule: an OAuth 2.1 / OpenID Connect server with invite-aware registration."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | str | None = None, **overrides) -> Flask:
    """Build an app: config → extensions → oauth → blueprints → CLI → error handlers."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=str(ROOT / "instance"),
    )
    config_cls = config if isinstance(config, type) else load_config(config)
    app.config.from_object(config_cls)
    app.config.update(overrides)
    config_cls.validate(app.config)
    from app.accounts.fields import parse_fields

    parse_fields(app.config["REGISTRATION_FIELDS"])  # a bad field list stops start-up
    if app.config["AUTHLIB_INSECURE_TRANSPORT"]:
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    _trust_proxies(app)

    _init_extensions(app)
    from app.oauth.server import init_oauth

    init_oauth(app)
    _register_blueprints(app)
    from app.cli import register_cli

    register_cli(app)
    from app.errors import register_error_handlers
    from app.security import init_security

    register_error_handlers(app)
    init_security(app)
    from app.messages import init_messages
    from app.outbox.in_process import init_in_process
    from app.webhooks import init_webhooks

    init_messages(app)
    init_webhooks(app)
    init_in_process(app)
    from app.dashboard import init_dashboard
    from app.observability import init_observability

    init_dashboard(app)
    init_observability(app)
    from app.extensions import drop_idle_limit_hook
    from app.oauth.published import PublishedDocuments

    drop_idle_limit_hook(app)
    # Outermost: discovery and JWKS answered from memory need no proxy headers either.
    app.wsgi_app = PublishedDocuments(app, app.wsgi_app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-*`` from PROXY_FIX_HOPS proxies, and say so at start-up:
    the client address every rate limit counts by depends on it."""
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["ENV_NAME"] == "production":
        if app.logger.level == logging.NOTSET:
            app.logger.setLevel(logging.INFO)
        app.logger.info(
            "trusting X-Forwarded-For/-Proto/-Host from %d proxy hop(s) (PROXY_FIX_HOPS)", hops
        )


def _init_extensions(app: Flask) -> None:
    from app.database import engine_options, ping_when_in_doubt, use_write_ahead_log
    from app.extensions import csrf, db, limiter, migrate

    _create_sqlite_directory(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app)
    db.init_app(app)
    with app.app_context():
        use_write_ahead_log(db.engine)
        ping_when_in_doubt(db.engine, app.config["DATABASE_IDLE_PING"])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    from app.web.i18n import init_i18n

    init_i18n(app)


def _create_sqlite_directory(url: str | None) -> None:
    """SQLite creates its file but not the folder: without this, any command run before
    ``make run`` created ``instance/`` (``flask --app wsgi db check``, ``vestibule db
    upgrade``) fails with "unable to open database file"."""
    from sqlalchemy.engine import make_url

    if not url:
        return
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _register_blueprints(app: Flask) -> None:
    from app.oauth.views import bp as oauth_bp
    from app.web.account import bp as account_bp
    from app.web.invite_links import bp as invite_links_bp
    from app.web.join import bp as join_bp
    from app.web.mfa import bp as mfa_bp
    from app.web.passkeys import bp as passkeys_bp
    from app.web.password import bp as password_bp
    from app.web.registration import bp as registration_bp
    from app.web.verification import bp as verification_bp
    from app.web.views import bp as web_bp

    app.register_blueprint(oauth_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(invite_links_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(join_bp)
    app.register_blueprint(password_bp)
    app.register_blueprint(verification_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(passkeys_bp)
    app.register_blueprint(mfa_bp)
    from app.api import init_api

    init_api(app)
    if app.config["PLAYGROUND_ENABLED"]:
        from app.playground.views import bp as playground_bp

        app.register_blueprint(playground_bp)
