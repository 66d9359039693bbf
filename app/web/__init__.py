"""Browser pages: sign-in, consent, account, signed-out."""
