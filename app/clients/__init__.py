"""Registering and managing OAuth clients."""
