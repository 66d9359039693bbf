"""Dashboard: outbox health (issue 12). Per lane (email, SMS, webhooks, and each webhook
endpoint) what waits, for how long, and what went dead; endpoints the circuit breaker
parked; and, after an outage, retrying dead items in bulk once confirmed, through the
service the admin API and the CLI use (app/outbox/recovery.py)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from app.dashboard import bp, labels
from app.dashboard.access import actor, requires
from app.models import utcnow
from app.outbox import health, recovery
from app.outbox.queue import KINDS

#: How far back a bulk retry from the dashboard reaches (durations recovery reads),
#: completing "Went dead in the last ...".
SINCE = {
    "1h": _l("hour"),
    "24h": _l("24 hours"),
    "7d": lazy_pgettext("went dead in the last", "7 days"),
    "30d": lazy_pgettext("went dead in the last", "30 days"),
}


class BulkRetryForm(FlaskForm):
    """Which dead items to retry: how far back, and which lane."""

    since = SelectField(
        choices=[SelectChoice(value, label) for value, label in SINCE.items()],
        default="24h",
    )
    kind = SelectField(
        choices=[
            SelectChoice("", _l("All lanes")),
            *[SelectChoice(kind, labels.LANES[kind]) for kind in KINDS],
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
        abort(400, description=_("That choice is not one this page offers."))
    chosen = form.chosen()
    if request.method == "GET":
        return render_template(
            "dashboard/outbox/confirm.html",
            form=form,
            chosen=chosen,
            count=recovery.count_dead(chosen),
        )
    count = recovery.retry_dead(chosen, actor())
    flash(
        ngettext(
            "%(num)d dead item is pending again.", "%(num)d dead items are pending again.", count
        )
    )
    return redirect(url_for("dashboard.outbox"), 303)


def age(waited: timedelta | None) -> str:
    """A wait as people read it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    if waited is None:
        return "–"
    seconds = max(0, int(waited.total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 60:
        return _("%(n)s s", n=str(seconds))
    if minutes < 60:
        return _("%(n)s min", n=str(minutes))
    if hours < 24:
        return _("%(n)s h %(m)s min", n=str(hours), m=str(minutes % 60))
    return _("%(n)s d %(h)s h", n=str(days), h=str(hours % 24))
