"""The built-in playground relying party (spec §7.4).

It is an ordinary OAuth client of this very server: it starts authorization-code
flows with PKCE from its ``initiate_login_uri`` (``/playground/login``), receives the
callback, redeems the code and verifies the ID token over real HTTP against the
configured ``ISSUER``, exactly as an outside relying party would. Nothing here
imports authlib; the protocol is spoken from the client's side with joserfc and the
standard library.

Because the callback calls ``/token``, ``/jwks.json`` and ``/userinfo`` on the same
server while the browser's request is still open, the server must serve requests
concurrently: Flask's development server is threaded by default, but gunicorn needs
more than one worker or thread (``--workers 2`` or ``--threads 4``), or the callback
waits for itself until the back-channel timeout.
"""
