"""Rate limits as deployed: counted in Redis (shared by every gunicorn worker) under the
deployment's own key prefix, per client address, also behind the proxy."""

from __future__ import annotations

from tests.production.deployment import rate_limit_keys
from tests.production.https_servers import PROXY_SOURCE_ADDRESS


def test_sign_in_attempts_are_counted_per_client_in_redis(deployment):
    """A sign-in POST counts in Redis for the client's address (127.0.0.1), never for
    the proxy's: behind the proxy, X-Forwarded-For is believed (PROXY_FIX_HOPS=1)."""
    answer = deployment.client().sign_in(deployment.person)
    assert answer.status == 303, answer.text
    keys = rate_limit_keys(deployment.rate_limit_prefix)
    assert any("/127.0.0.1/web.sign_in/" in key for key in keys), keys
    assert not any(PROXY_SOURCE_ADDRESS in key for key in keys), keys
