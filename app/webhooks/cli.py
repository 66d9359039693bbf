"""``vestibule webhooks``: register and manage webhook endpoints."""

from __future__ import annotations

import click


@click.group()
def webhooks():
    """Register webhook endpoints, list deliveries, replay one."""
