"""Accounts: passwords, sign-in and browser-session helpers."""
