"""(c) Registration cost with the production argon2id parameters: the hash alone, and a
whole invited registration in the browser (``GET /authorize`` with the invitation →
registration page → ``POST /registration`` → the redirect to the client with a code)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask

from app.accounts.passwords import hash_password
from bench.harness import Latency, progress
from config import Config
from tests.helpers import (
    INITIATE_LOGIN_URI,
    NEW_PASSWORD,
    ClientInfo,
    Factory,
    csrf_token,
    finish_at_client,
    form_action,
    invite,
    registration_page,
    start_authorization,
)

#: Config's argon2id parameters (the testing config's are deliberately cheap).
PRODUCTION_ARGON2 = {
    "ARGON2_TIME_COST": Config.ARGON2_TIME_COST,
    "ARGON2_MEMORY_COST": Config.ARGON2_MEMORY_COST,
    "ARGON2_PARALLELISM": Config.ARGON2_PARALLELISM,
}
CLIENT_ID = "bench-shop"


@dataclass
class RegistrationTimes:
    """Seconds per argon2id hash, per ``POST /registration``, and per whole journey."""

    hashes: Latency
    submits: Latency
    journeys: Latency


def argon2_label() -> str:
    """The parameters measured, e.g. ``t=3, m=64 MiB, p=4``."""
    return (
        f"t={Config.ARGON2_TIME_COST}, m={Config.ARGON2_MEMORY_COST // 1024} MiB, "
        f"p={Config.ARGON2_PARALLELISM}"
    )


def run(app: Flask, hashes: int, registrations: int) -> RegistrationTimes:
    """Time ``hashes`` password hashes, then ``registrations`` invited registrations."""
    for name, value in PRODUCTION_ARGON2.items():
        if app.config[name] != value:
            raise RuntimeError(f"{name} is {app.config[name]}, not the production {value}")
    hash_samples = []
    with app.app_context():
        for _ in range(hashes):
            started = time.perf_counter()
            hash_password(NEW_PASSWORD)
            hash_samples.append(time.perf_counter() - started)
    rp = Factory(app).client(client_id=CLIENT_ID, initiate_login_uri=INITIATE_LOGIN_URI)
    submits, journeys = [], []
    for number in range(registrations):
        progress(f"registration: {number + 1}/{registrations}")
        submit, journey = _register(app, rp, number)
        submits.append(submit)
        journeys.append(journey)
    return RegistrationTimes(Latency(hash_samples), Latency(submits), Latency(journeys))


def _register(app: Flask, rp: ClientInfo, number: int) -> tuple[float, float]:
    """One invited person registers in a fresh browser: (POST seconds, journey seconds).

    The invitation is created before the clock starts; the journey runs from
    ``GET /authorize`` to the redirect to the client.
    """
    invitation = invite(app, email=f"bench.invitee{number}@example.com", client_id=CLIENT_ID)
    browser = app.test_client()
    journey_started = time.perf_counter()
    started = start_authorization(browser, rp, invite_id=invitation.token, view_type="register")
    html = registration_page(browser, started).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "password": NEW_PASSWORD}
    submit_started = time.perf_counter()
    response = browser.post(form_action(html, "registration"), data=form)
    submitted = time.perf_counter()
    finish_at_client(browser, response, rp, started)
    return submitted - submit_started, time.perf_counter() - journey_started
