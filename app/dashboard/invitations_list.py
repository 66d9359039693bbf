"""The dashboard's invitations list (spec §7.4, issue 6): newest first, filtered, a page
at a time, under the funnel chart of how invitations end."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.dashboard import bp
from app.dashboard.access import requires
from app.dashboard.funnel import duration, funnel
from app.dashboard.i18n import add_messages
from app.dashboard.invitation_forms import LISTED_AS, InvitationFilterForm
from app.invitations import queries, service
from app.pagination import InvalidCursor, encode_cursor
from app.web.i18n import translate as t

#: Invitations per list page.
PAGE_SIZE = 25

add_messages(
    {
        "en": {
            "dash.inv.invite": "Invite someone",
            "dash.inv.bulk": "Invite from a CSV file",
            "dash.inv.state.initiated": "Initiated",
            "dash.inv.state.reinitiated": "Resent",
            "dash.inv.state.accepted": "Accepted",
            "dash.inv.state.revoked": "Revoked",
            "dash.inv.state.rejected": "Declined",
            "dash.inv.state.expired": "Expired",
            # the funnel
            "dash.inv.funnel": "How invitations end",
            "dash.inv.funnel_client": "How invitations to client {client} end",
            "dash.inv.funnel_group": "How invitations into group {group} end",
            "dash.inv.funnel_desc": "Bar chart of the invitations by stage.",
            "dash.inv.stage.invited": "Invited",
            "dash.inv.stage.pending": "Still open",
            "dash.inv.stage.accepted": "Accepted",
            "dash.inv.stage.rejected": "Declined",
            "dash.inv.stage.revoked": "Revoked",
            "dash.inv.stage.expired": "Expired",
            "dash.inv.acceptance_rate": "Acceptance rate",
            "dash.inv.acceptance_rate_hint": "accepted, of those no longer open",
            "dash.inv.median": "Median time to accept",
            "dash.inv.percent": "{n}%",
            "dash.inv.minutes": "{n} min",
            "dash.inv.hours": "{n} h",
            "dash.inv.days": "{n} days",
            "dash.inv.not_yet": "not yet known",
            # filters and table
            "dash.inv.filters": "Filter the invitations",
            "dash.inv.search": "Search",
            "dash.inv.search_hint": "Part of an email, mobile number or name",
            "dash.inv.state": "State",
            "dash.inv.client": "Client",
            "dash.inv.group": "Group",
            "dash.inv.any_state": "Any state",
            "dash.inv.any_client": "Any client",
            "dash.inv.any_group": "Any group",
            "dash.inv.filter": "Show",
            "dash.inv.clear": "Clear the filters",
            "dash.inv.address": "Email or mobile",
            "dash.inv.name": "Name",
            "dash.inv.groups": "Groups",
            "dash.inv.roles": "Roles",
            "dash.inv.created_at": "Created",
            "dash.inv.expires_at": "Expires",
            "dash.inv.hosted": "none (Vestibule)",
            "dash.inv.empty": "No invitation matches.",
            "dash.inv.next": "Next page",
            "dash.inv.first": "First page",
            "dash.inv.bad_cursor": "That page link no longer works; here is the first page.",
        },
        "de": {
            "dash.inv.invite": "Person einladen",
            "dash.inv.bulk": "Aus CSV-Datei einladen",
            "dash.inv.state.initiated": "Angelegt",
            "dash.inv.state.reinitiated": "Erneut gesendet",
            "dash.inv.state.accepted": "Angenommen",
            "dash.inv.state.revoked": "Widerrufen",
            "dash.inv.state.rejected": "Abgelehnt",
            "dash.inv.state.expired": "Abgelaufen",
            "dash.inv.funnel": "Was aus den Einladungen wird",
            "dash.inv.funnel_client": "Was aus den Einladungen zum Client {client} wird",
            "dash.inv.funnel_group": "Was aus den Einladungen in die Gruppe {group} wird",
            "dash.inv.funnel_desc": "Balkendiagramm der Einladungen nach Stand.",
            "dash.inv.stage.invited": "Eingeladen",
            "dash.inv.stage.pending": "Noch offen",
            "dash.inv.stage.accepted": "Angenommen",
            "dash.inv.stage.rejected": "Abgelehnt",
            "dash.inv.stage.revoked": "Widerrufen",
            "dash.inv.stage.expired": "Abgelaufen",
            "dash.inv.acceptance_rate": "Annahmequote",
            "dash.inv.acceptance_rate_hint": "angenommen, von den nicht mehr offenen",
            "dash.inv.median": "Median bis zur Annahme",
            "dash.inv.percent": "{n} %",
            "dash.inv.minutes": "{n} Min.",
            "dash.inv.hours": "{n} Std.",
            "dash.inv.days": "{n} Tage",
            "dash.inv.not_yet": "noch unbekannt",
            "dash.inv.filters": "Einladungen filtern",
            "dash.inv.search": "Suche",
            "dash.inv.search_hint": "Teil einer E-Mail-Adresse, Mobilnummer oder eines Namens",
            "dash.inv.state": "Stand",
            "dash.inv.client": "Client",
            "dash.inv.group": "Gruppe",
            "dash.inv.any_state": "Jeder Stand",
            "dash.inv.any_client": "Jeder Client",
            "dash.inv.any_group": "Jede Gruppe",
            "dash.inv.filter": "Anzeigen",
            "dash.inv.clear": "Filter zurücksetzen",
            "dash.inv.address": "E-Mail oder Mobilnummer",
            "dash.inv.name": "Name",
            "dash.inv.groups": "Gruppen",
            "dash.inv.roles": "Rollen",
            "dash.inv.created_at": "Erstellt",
            "dash.inv.expires_at": "Läuft ab",
            "dash.inv.hosted": "keiner (Vestibule)",
            "dash.inv.empty": "Keine Einladung passt.",
            "dash.inv.next": "Nächste Seite",
            "dash.inv.first": "Erste Seite",
            "dash.inv.bad_cursor": "Dieser Seitenlink funktioniert nicht mehr; hier ist die erste "
            "Seite.",
        },
    }
)


@bp.get("/invitations")
@requires("invitations.read")
def invitations():
    """Invitations newest first, filtered, a page at a time, under the funnel chart."""
    form = InvitationFilterForm(request.args)
    try:
        criteria = form.criteria(request.args.get("cursor"), PAGE_SIZE)
    except InvalidCursor:
        # A page link from another server key or list: start on the first page.
        flash(t("dash.inv.bad_cursor"), "error")
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
        duration=duration,
    )


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
