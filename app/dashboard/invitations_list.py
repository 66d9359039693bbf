"""The dashboard's invitations list (spec §7.4, issue 6): newest first, filtered, a page
at a time, under the funnel chart of how invitations end."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app.dashboard import bp
from app.dashboard.access import requires
from app.dashboard.funnel import duration, funnel
from app.dashboard.invitation_forms import LISTED_AS, InvitationFilterForm
from app.invitations import queries, service
from app.pagination import InvalidCursor, encode_cursor

#: Invitations per list page.
PAGE_SIZE = 25


@bp.get("/invitations")
@requires("invitations.read")
def invitations():
    """Invitations newest first, filtered, a page at a time, under the funnel chart."""
    form = InvitationFilterForm(request.args)
    try:
        criteria = form.criteria(request.args.get("cursor"), PAGE_SIZE)
    except InvalidCursor:
        # A page link from another server key or list: start on the first page.
        flash(_("That page link no longer works; here is the first page."), "error")
        return redirect(url_for(".invitations"), 303)
    page = queries.search(criteria)
    scope, tally = _funnel_scope(form.filters())
    cursor = encode_cursor(LISTED_AS, page.next_after)
    next_url = url_for(".invitations", **form.filters(), cursor=cursor) if cursor else None
    return render_template(
        "dashboard/invitations/list.html",
        form=form,
        page=page,
        chart=funnel(tally),
        scope=scope,
        paged=bool(request.args.get("cursor")),
        next_url=next_url,
        state_of=service.state_of,
        how_long=how_long,
    )


def how_long(seconds: float) -> str:
    """The median time to accept as the funnel shows it: 40 min, 5 h, 3 days."""
    unit, n = duration(seconds)
    if unit == "minutes":
        return _("%(n)s min", n=n)
    if unit == "hours":
        return _("%(n)s h", n=n)
    return ngettext("%(num)d day", "%(num)d days", n)


def _funnel_scope(filters: dict[str, str]) -> tuple[dict[str, str], queries.Tally]:
    """The stats that match the filters: one client's, one group's, or all of them."""
    stats = queries.stats()
    if "client_id" in filters:
        return {"client": filters["client_id"]}, _tally(stats.by_client, filters["client_id"])
    if "group" in filters:
        return {"group": filters["group"]}, _tally(stats.by_group, filters["group"])
    return {}, stats.overall


def _tally(tallies: dict, key: str) -> queries.Tally:
    return tallies.get(key) or queries.Tally()
