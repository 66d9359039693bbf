"""The OAuth 2.1 / OpenID Connect protocol layer: the only package importing authlib."""
