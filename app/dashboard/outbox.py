"""Dashboard: outbox health (issue 12). Per lane (email, SMS, webhooks, and each webhook
endpoint) what waits, for how long, and what went dead; endpoints the circuit breaker
parked; and, after an outage, retrying dead items in bulk once confirmed, through the
service the admin API and the CLI use (app/outbox/recovery.py)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from app.dashboard import bp
from app.dashboard.access import actor, requires
from app.dashboard.i18n import add_messages
from app.models import utcnow
from app.outbox import health, recovery
from app.outbox.queue import KINDS
from app.web.i18n import translate as t

#: How far back a bulk retry from the dashboard reaches (durations recovery reads).
SINCE = ("1h", "24h", "7d", "30d")

add_messages(
    {
        "en": {
            "dash.outbox": "Outbox",
            "dash.outbox.lanes": "Delivery lanes",
            "dash.outbox.lane": "Lane",
            "dash.outbox.lane.email": "Email",
            "dash.outbox.lane.sms": "SMS",
            "dash.outbox.lane.webhook": "Webhooks",
            "dash.outbox.pending": "Pending",
            "dash.outbox.oldest": "Oldest pending waits",
            "dash.outbox.dead": "Dead",
            "dash.outbox.endpoints": "Webhook endpoints",
            "dash.outbox.endpoint": "Endpoint",
            "dash.outbox.breaker": "Circuit breaker",
            "dash.outbox.parked": "Parked until {time} UTC after repeated failures",
            "dash.outbox.delivering": "Delivering",
            "dash.outbox.no_endpoints": "No webhook endpoint has deliveries waiting or dead.",
            "dash.outbox.retry": "Retry dead items",
            "dash.outbox.retry_hint": "After an outage: deliver again every item that went "
            "dead in the chosen time, with fresh attempts. You confirm on the next page.",
            "dash.outbox.since": "Went dead in the last",
            "dash.outbox.since_1h": "hour",
            "dash.outbox.since_24h": "24 hours",
            "dash.outbox.since_7d": "7 days",
            "dash.outbox.since_30d": "30 days",
            "dash.outbox.kind": "Lane",
            "dash.outbox.all_lanes": "All lanes",
            "dash.outbox.review": "Review",
            "dash.outbox.bad_filter": "That choice is not one this page offers.",
            "dash.outbox.retry_question": "Retry {count} dead items?",
            "dash.outbox.retry_explain": "They went dead since {since} UTC ({lane}). Each is "
            "delivered again from now, with its attempts back to zero; receivers see the same "
            "message id as before. Deliveries to disabled webhook endpoints stay dead.",
            "dash.outbox.nothing": "No dead item matches: there is nothing to retry.",
            "dash.outbox.yes_retry": "Retry them",
            "dash.outbox.back": "Back to the outbox",
            "dash.outbox.retried": "{count} dead items are pending again.",
            "dash.outbox.age_s": "{n} s",
            "dash.outbox.age_m": "{n} min",
            "dash.outbox.age_h": "{n} h {m} min",
            "dash.outbox.age_d": "{n} d {h} h",
        },
        "de": {
            "dash.outbox": "Postausgang",
            "dash.outbox.lanes": "Zustellwege",
            "dash.outbox.lane": "Weg",
            "dash.outbox.lane.email": "E-Mail",
            "dash.outbox.lane.sms": "SMS",
            "dash.outbox.lane.webhook": "Webhooks",
            "dash.outbox.pending": "Wartend",
            "dash.outbox.oldest": "Ältester wartet seit",
            "dash.outbox.dead": "Aufgegeben",
            "dash.outbox.endpoints": "Webhook-Empfänger",
            "dash.outbox.endpoint": "Empfänger",
            "dash.outbox.breaker": "Schutzschalter",
            "dash.outbox.parked": "Pausiert bis {time} UTC nach wiederholten Fehlern",
            "dash.outbox.delivering": "Stellt zu",
            "dash.outbox.no_endpoints": "Kein Webhook-Empfänger hat wartende oder "
            "aufgegebene Zustellungen.",
            "dash.outbox.retry": "Aufgegebene erneut zustellen",
            "dash.outbox.retry_hint": "Nach einem Ausfall: alles, was im gewählten Zeitraum "
            "aufgegeben wurde, mit neuen Versuchen erneut zustellen. Sie bestätigen auf der "
            "nächsten Seite.",
            "dash.outbox.since": "Aufgegeben in den letzten",
            "dash.outbox.since_1h": "Stunde",
            "dash.outbox.since_24h": "24 Stunden",
            "dash.outbox.since_7d": "7 Tagen",
            "dash.outbox.since_30d": "30 Tagen",
            "dash.outbox.kind": "Weg",
            "dash.outbox.all_lanes": "Alle Wege",
            "dash.outbox.review": "Prüfen",
            "dash.outbox.bad_filter": "Diese Auswahl bietet die Seite nicht an.",
            "dash.outbox.retry_question": "{count} aufgegebene Zustellungen erneut versuchen?",
            "dash.outbox.retry_explain": "Sie wurden seit {since} UTC aufgegeben ({lane}). "
            "Jede wird ab jetzt erneut zugestellt, die Versuche beginnen bei null; Empfänger "
            "sehen dieselbe Nachrichten-ID wie zuvor. Zustellungen an deaktivierte "
            "Webhook-Empfänger bleiben aufgegeben.",
            "dash.outbox.nothing": "Keine aufgegebene Zustellung passt: Es gibt nichts zu "
            "wiederholen.",
            "dash.outbox.yes_retry": "Erneut zustellen",
            "dash.outbox.back": "Zurück zum Postausgang",
            "dash.outbox.retried": "{count} aufgegebene Zustellungen warten wieder.",
            "dash.outbox.age_s": "{n} s",
            "dash.outbox.age_m": "{n} Min.",
            "dash.outbox.age_h": "{n} Std. {m} Min.",
            "dash.outbox.age_d": "{n} T. {h} Std.",
        },
    }
)


class BulkRetryForm(FlaskForm):
    """Which dead items to retry: how far back, and which lane."""

    since = SelectField(
        choices=[SelectChoice(value, f"dash.outbox.since_{value}") for value in SINCE],
        default="24h",
    )
    kind = SelectField(
        choices=[
            SelectChoice("", "dash.outbox.all_lanes"),
            *[SelectChoice(kind, f"dash.outbox.lane.{kind}") for kind in KINDS],
        ],
        default="",
    )

    def chosen(self) -> recovery.RetryFilter:
        """The filter for the recovery service."""
        return recovery.retry_filter("dead", self.since.data, kind=self.kind.data or None)


@bp.get("/outbox")
@requires("outbox.read")
def outbox():
    """Each lane's pending count, oldest pending age and dead count; parked endpoints."""
    kinds, endpoints = health.lanes()
    return render_template(
        "dashboard/outbox/health.html",
        kinds=kinds,
        endpoints=endpoints,
        now=utcnow(),
        age=age,
        form=BulkRetryForm(formdata=None, meta={"csrf": False}),
    )


@bp.route("/outbox/retry", methods=["GET", "POST"])
@requires("outbox.write")
def outbox_retry():
    """Ask first, saying how many dead items the filter matches; then retry them."""
    if request.method == "GET":
        form = BulkRetryForm(request.args, meta={"csrf": False})
    else:
        form = BulkRetryForm()
    if not form.validate():
        abort(400, description=t("dash.outbox.bad_filter"))
    chosen = form.chosen()
    if request.method == "GET":
        return render_template(
            "dashboard/outbox/confirm.html",
            form=form,
            chosen=chosen,
            count=recovery.count_dead(chosen),
        )
    count = recovery.retry_dead(chosen, actor())
    flash(t("dash.outbox.retried", count=str(count)))
    return redirect(url_for("dashboard.outbox"), 303)


def age(waited: timedelta | None) -> str:
    """A wait as people read it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    if waited is None:
        return "–"
    seconds = max(0, int(waited.total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 60:
        return t("dash.outbox.age_s", n=str(seconds))
    if minutes < 60:
        return t("dash.outbox.age_m", n=str(minutes))
    if hours < 24:
        return t("dash.outbox.age_h", n=str(hours), m=str(minutes % 60))
    return t("dash.outbox.age_d", n=str(days), h=str(hours % 24))
