"""A paused authorization request of this browser, resumed for one of its pages."""

from __future__ import annotations

from flask import Response, current_app

from app.accounts.sessions import browser_secret, current_session
from app.models import Interaction
from app.oauth import authorization
from app.oauth import interaction as pauses
from app.web.registration_pages import expired_page


def resumed(uid: str, *steps: str) -> tuple[Interaction, authorization.Step] | Response:
    """The paused request ``uid`` of this browser and the step it is at now; else the
    answer to send instead: the expired page, what resuming answered (refused,
    finished), or, when ``steps`` are named and the request is at another, back to
    the step it is at."""
    paused = pauses.load(uid, browser_secret())
    if paused is None:
        return current_app.make_response(expired_page())
    outcome = authorization.resume(paused, current_session())
    if isinstance(outcome, Response):
        return outcome
    if steps and outcome.name not in steps:
        return authorization.back_to(paused)
    return paused, outcome
