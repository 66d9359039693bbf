"""The `vestibule invitations` commands."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations import queries
from app.models import Event, Group, Invitation, Role, utcnow
from tests.helpers import INITIATE_LOGIN_URI, ISSUER, invite, row_counts, update_rows


@pytest.fixture
def rp(factory):
    """A relying party invitations can target."""
    return factory.client(client_id="shop", initiate_login_uri=INITIATE_LOGIN_URI)


@pytest.fixture
def catalogue(app):
    """The groups and roles the invitations may name."""
    with app.app_context():
        db.session.add_all([Group(name="staff"), Group(name="beta"), Role(name="user_invite")])
        db.session.commit()


@pytest.fixture
def cli(app):
    """``cli("invitations", "list", ...)``: run a command, return the click result."""
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(args=list(args), **kw)


def field(output: str, name: str) -> str:
    """The value printed on the ``name:`` line."""
    match = re.search(rf"^{name}:\s+(\S.*)$", output, re.MULTILINE)
    assert match, f"no {name} in:\n{output}"
    return match.group(1)


def counts(app) -> tuple[int, int]:
    """(invitations, events) stored."""
    rows = row_counts(app)
    return rows["invitations"], rows["events"]


def stored(app, public_id: str) -> dict:
    """The stored invitation as plain values."""
    with app.app_context():
        row = db.session.scalar(select(Invitation).where(Invitation.public_id == public_id))
        return {
            "state": row.state,
            "email": row.email,
            "invited_by": row.invited_by,
            "groups": sorted(g.name for g in row.groups),
            "roles": sorted(r.name for r in row.roles),
            "notify": row.notify,
            # Whole seconds: the service stamps created_at and expires_at a moment apart.
            "lifetime": round((row.expires_at - row.created_at).total_seconds()),
            "lang": row.lang,
        }


def write_csv(tmp_path, text: str) -> str:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_create_prints_id_state_and_links(app, cli, client, rp, catalogue):
    """`invitations create` stores the invitation as the CLI's and prints both links."""
    result = cli(
        "invitations", "create", "--email", "Ada@Example.com", "--given-name", "Ada",
        "--client-id", "shop", "--group", "staff", "--group", "beta", "--role", "user_invite",
        "--lang", "de", "--expires-in", "3600", "--no-notify",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    public_id = field(result.output, "id")
    assert field(result.output, "state") == "initiated"
    link, short_link = field(result.output, "link"), field(result.output, "short_link")
    assert link.startswith(INITIATE_LOGIN_URI + "&invite_id=") and link.endswith(
        "&view_type=register"
    )
    assert short_link.startswith(f"{ISSUER}/i/")
    assert client.get(short_link.removeprefix(ISSUER)).location == link
    assert stored(app, public_id) == {
        "state": "initiated",
        "email": "ada@example.com",
        "invited_by": "cli",
        "groups": ["beta", "staff"],
        "roles": ["user_invite"],
        "notify": False,
        "lifetime": 3600,
        "lang": "de",
    }
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert (event.type, event.actor) == ("invitation.created", "cli")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--email", "a@example.com", "--client-id", "shop", "--group", "nope"],
            "unknown groups: nope",
        ),
        (["--given-name", "Nobody"], "an email or a mobile_number is required"),
        (["--email", "a@example.com", "--client-id", "ghost"], "unknown client 'ghost'"),
        (["--mobile-number", "0151 123"], "E.164"),
        (["--email", "a@example.com", "--expires-in", "-5"], "expires_in"),
        (["--email", "a@example.com", "--lang", "xx"], "no 'invite_user' template in 'xx'"),
        (["--email", "a@example.com", "--role", "bad\udcffrole"], "not valid UTF-8"),
    ],
)
def test_create_refusal_is_a_clean_error_and_writes_nothing(app, cli, rp, args, message):
    """A domain refusal exits non-zero with its description and writes no row."""
    before = row_counts(app)
    result = cli("invitations", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert row_counts(app) == before and before["invitations"] == 0


def test_create_conflict_names_the_pending_invitation_problem(app, cli, rp):
    """A second pending invitation for the same address and client is refused."""
    first = cli("invitations", "create", "--email", "a@example.com", "--client-id", "shop")
    assert first.exit_code == 0, first.output
    second = cli("invitations", "create", "--email", "a@example.com", "--client-id", "shop")
    assert second.exit_code != 0 and "pending invitation" in second.output
    assert counts(app) == (1, 1)


def test_create_conflict_prints_the_pending_invitations_id(app, cli, rp, tmp_path):
    """A duplicate names the pending invitation's id, as the API's 409 does, in `create`
    and in a bulk row alike."""
    first = cli("invitations", "create", "--email", "a@example.com", "--client-id", "shop")
    pending = field(first.output, "id")
    second = cli("invitations", "create", "--email", "a@example.com", "--client-id", "shop")
    assert second.exit_code == 1
    assert f"(invitation_id: {pending})" in second.output
    bulk = cli("invitations", "bulk", write_csv(tmp_path, "email,client_id\na@example.com,shop\n"))
    assert (
        f"line 2: error: a pending invitation for this address and client exists "
        f"(invitation_id: {pending})" in bulk.output
    )


def test_list_quiet_prints_only_ids(app, cli, rp):
    """`invitations list --quiet` prints one id per line, no header, for scripts."""
    old = invite(app, email="old@example.com", client_id="shop")
    new = invite(app, email="new@example.com", client_id="shop")
    update_rows(app, Invitation, {"public_id": old.id}, created_at=utcnow() - timedelta(days=2))
    assert cli("invitations", "list", "--quiet").output.split() == [new.id, old.id]
    by_email = cli("invitations", "list", "--email", "old@example.com", "-q")
    assert by_email.output == f"{old.id}\n"


def test_list_filters_and_orders_newest_first(app, cli, rp):
    """`invitations list` shows a table filtered by state, client and email, newest first."""
    old = invite(app, email="old@example.com", client_id="shop")
    new = invite(app, email="new@example.com", client_id="shop")
    solo = invite(app, email="solo@example.com")
    update_rows(app, Invitation, {"public_id": old.id}, created_at=utcnow() - timedelta(days=2))
    cli("invitations", "revoke", solo.id)

    everything = cli("invitations", "list")
    assert everything.exit_code == 0, everything.output
    lines = everything.output.splitlines()
    assert lines[0].split() == ["id", "state", "address", "client", "created_at", "expires_at"]
    assert [line.split()[0] for line in lines[1:]] == [solo.id, new.id, old.id]

    revoked = cli("invitations", "list", "--state", "revoked").output.splitlines()[1:]
    assert [line.split()[:2] for line in revoked] == [[solo.id, "revoked"]]
    shop = cli("invitations", "list", "--client-id", "shop").output.splitlines()[1:]
    assert [line.split()[0] for line in shop] == [new.id, old.id]
    by_email = cli("invitations", "list", "--email", "OLD@example.com").output.splitlines()[1:]
    assert [line.split()[2] for line in by_email] == ["old@example.com"]
    limited = cli("invitations", "list", "--limit", "1").output.splitlines()[1:]
    assert [line.split()[0] for line in limited] == [solo.id]


def test_list_pages_through_the_search_up_to_the_limit(app, cli, rp, monkeypatch):
    """--limit larger than one search page is filled by following the cursor."""
    made = [invite(app, email=f"p{i}@example.com") for i in range(4)]
    monkeypatch.setattr(queries, "MAX_LIMIT", 1)
    listed = cli("invitations", "list", "--limit", "3").output.splitlines()[1:]
    assert [line.split()[0] for line in listed] == [m.id for m in reversed(made)][:3]


def test_list_state_expired_includes_pending_past_expiry(app, cli, rp):
    """--state expired finds a pending invitation whose expiry has passed; initiated does not."""
    due = invite(app, email="due@example.com")
    fresh = invite(app, email="fresh@example.com")
    update_rows(app, Invitation, {"public_id": due.id}, expires_at=utcnow() - timedelta(hours=1))
    expired = cli("invitations", "list", "--state", "expired").output.splitlines()[1:]
    assert [line.split()[:2] for line in expired] == [[due.id, "expired"]]
    initiated = cli("invitations", "list", "--state", "initiated").output.splitlines()[1:]
    assert [line.split()[0] for line in initiated] == [fresh.id]


def test_show_prints_fields_and_event_history(app, cli, rp, catalogue):
    """`invitations show` prints the invitation and each event with actor and transition."""
    invitation = invite(app, email="ada@example.com", client_id="shop", groups=["staff"])
    assert cli("invitations", "resend", invitation.id).exit_code == 0
    assert cli("invitations", "revoke", invitation.id).exit_code == 0
    result = cli("invitations", "show", invitation.id)
    assert result.exit_code == 0, result.output
    assert field(result.output, "state") == "revoked"
    assert field(result.output, "client_id") == "shop"
    assert field(result.output, "groups") == "staff"
    assert field(result.output, "resent_count") == "1"
    assert field(result.output, "invited_by") == "test"
    history = result.output.split("events:")[1].splitlines()
    rows = [line.split() for line in history if line.startswith("20")]
    assert [row[1:] for row in rows] == [
        ["invitation.created", "test", "-", "→", "initiated"],
        ["invitation.resent", "cli", "initiated", "→", "reinitiated"],
        ["invitation.revoked", "cli", "reinitiated", "→", "revoked"],
    ]


def test_show_unknown_id_is_a_clean_error(cli, app):
    """An unknown id exits non-zero with 'no invitation'."""
    result = cli("invitations", "show", "no-such-id")
    assert result.exit_code != 0 and "no invitation no-such-id" in result.output


def test_resend_prints_a_new_link_and_the_old_one_dies(app, cli, client, rp):
    """`invitations resend` prints fresh links; the old short link no longer redirects."""
    invitation = invite(app, email="ada@example.com", client_id="shop")
    result = cli("invitations", "resend", invitation.id)
    assert result.exit_code == 0, result.output
    assert field(result.output, "state") == "reinitiated"
    link, short_link = field(result.output, "link"), field(result.output, "short_link")
    assert link != invitation.link and short_link != invitation.short_link
    assert client.get(invitation.short_link.removeprefix(ISSUER)).status_code == 404
    fresh = client.get(short_link.removeprefix(ISSUER))
    assert fresh.status_code == 302 and fresh.location == link


def test_revoke_then_revoke_again(app, cli, client, rp):
    """`invitations revoke` revokes once; a second revoke is refused and changes nothing."""
    invitation = invite(app, email="ada@example.com", client_id="shop")
    result = cli("invitations", "revoke", invitation.id)
    assert result.exit_code == 0 and f"revoked {invitation.id}" in result.output
    assert stored(app, invitation.id)["state"] == "revoked"
    assert client.get(invitation.short_link.removeprefix(ISSUER)).status_code == 410
    before = row_counts(app)
    again = cli("invitations", "revoke", invitation.id)
    assert again.exit_code != 0 and "the invitation is revoked" in again.output
    assert row_counts(app) == before


def test_expire_marks_due_invitations(app, cli, rp):
    """`invitations expire` marks pending invitations past expiry and prints how many."""
    due = [invite(app, email=f"due{i}@example.com") for i in range(2)]
    fresh = invite(app, email="fresh@example.com")
    for item in due:
        update_rows(app, Invitation, {"public_id": item.id}, expires_at=utcnow())
    result = cli("invitations", "expire")
    assert result.exit_code == 0, result.output
    assert "expired 2 invitation(s)" in result.output
    assert [stored(app, item.id)["state"] for item in due] == ["expired", "expired"]
    assert stored(app, fresh.id)["state"] == "initiated"
    assert "expired 0 invitation(s)" in cli("invitations", "expire").output


def test_bulk_one_bad_row_does_not_sink_the_others(app, cli, rp, catalogue, tmp_path):
    """A bad row is reported and skipped; good rows are created; the exit code is 1."""
    path = write_csv(
        tmp_path,
        "email,given_name,client_id,groups,roles,lang,expires_in,notify\n"
        "ada@example.com,Ada,shop,staff;beta,user_invite,de,7200,false\n"
        "bob@example.com,Bob,shop,nope,,,,\n"
        "cy@example.com,Cy,,,,,,true\n",
    )
    result = cli("invitations", "bulk", path)
    assert result.exit_code == 1, result.output
    ok = re.findall(r"^line (\d+): ok (\S+)$", result.stdout, re.MULTILINE)
    assert [line for line, _ in ok] == ["2", "4"]
    assert re.search(r"^line 3: error: unknown groups: nope$", result.stdout, re.MULTILINE)
    assert "created 2, failed 1" in result.stdout
    ada, cy = (stored(app, public_id) for _, public_id in ok)
    assert (ada["email"], ada["groups"], ada["roles"]) == (
        "ada@example.com",
        ["beta", "staff"],
        ["user_invite"],
    )
    assert (ada["notify"], ada["lifetime"], ada["lang"]) == (False, 7200, "de")
    assert (cy["email"], cy["notify"], cy["invited_by"]) == ("cy@example.com", True, "cli")
    assert counts(app) == (2, 2)


def test_bulk_reports_unparseable_values_per_row(app, cli, rp, tmp_path):
    """Bad expires_in, notify, NUL and extra values fail their rows only, without a crash."""
    path = write_csv(
        tmp_path,
        "email,given_name,expires_in,notify\n"
        "a@example.com,,soon,\n"
        "b@example.com,,,maybe\n"
        "c@example.com,,²,\n"
        "d@example.com,Nu\x00l,,\n"
        "e@example.com,,,,surplus\n"
        "f@example.com,,-5,\n"
        "g@example.com,,3600,no\n",
    )
    result = cli("invitations", "bulk", path)
    assert result.exit_code == 1, result.output
    assert "line 2: error: expires_in: not a whole number of seconds: 'soon'" in result.stdout
    assert "line 3: error: notify: expected true or false, not 'maybe'" in result.stdout
    assert "line 4: error: expires_in: not a whole number of seconds: '²'" in result.stdout
    assert "line 5: error: row: contains a NUL character" in result.stdout
    assert "line 6: error: row: more values than columns" in result.stdout
    assert "line 7: error: expires_in: must be between" in result.stdout
    assert re.search(r"^line 8: ok \S+$", result.stdout, re.MULTILINE)
    assert counts(app) == (1, 1)


def test_bulk_all_good_exits_zero(app, cli, rp, tmp_path):
    """A clean file exits 0 and shows progress on stderr."""
    rows = "".join(f"person{i}@example.com,shop\n" for i in range(5))
    result = cli("invitations", "bulk", write_csv(tmp_path, "email,client_id\n" + rows))
    assert result.exit_code == 0, result.output
    assert "created 5, failed 0" in result.stdout
    assert "Creating invitations" in result.stderr
    assert counts(app) == (5, 5)


def test_bulk_refuses_unknown_columns_before_writing(app, cli, rp, tmp_path):
    """A header with an unknown column (a typo) is refused and nothing is written."""
    path = write_csv(tmp_path, "email,group\nada@example.com,staff\n")
    before = row_counts(app)
    result = cli("invitations", "bulk", path)
    assert result.exit_code != 0 and "unknown column(s) group" in result.output
    assert row_counts(app) == before


# -- invitations for people who already have an account (issue 15) -----------------------


def test_create_join_invites_the_account(app, cli, rp, catalogue, factory):
    """--join: created for the account's email; show says so."""
    factory.account("member@example.com")
    result = cli(
        "invitations", "create", "--email", "member@example.com", "--client-id", "shop", "--join"
    )
    assert result.exit_code == 0, result.output
    shown = cli("invitations", "show", field(result.output, "id"))
    assert field(shown.output, "existing_account") == "join"


def test_create_for_an_account_without_join_names_it(app, cli, rp, factory):
    """Without --join: refused, naming the account's sub and the flag; nothing written."""
    member = factory.account("member@example.com")
    before = counts(app)
    result = cli("invitations", "create", "--email", "member@example.com")
    assert result.exit_code == 1
    assert f"(sub: {member.sub})" in result.output and "--join" in result.output
    assert counts(app) == before


def test_create_join_without_an_account_is_refused(app, cli, rp):
    """--join for an address nobody has: refused, nothing written."""
    before = counts(app)
    result = cli("invitations", "create", "--email", "nobody@example.com", "--join")
    assert result.exit_code == 1 and "no account has this email" in result.output
    assert counts(app) == before


def test_bulk_existing_account_column(app, cli, rp, factory, tmp_path):
    """The CSV column existing_account takes join; anything else is that row's error."""
    member = factory.account("member@example.com")
    factory.account("other@example.com")
    path = write_csv(
        tmp_path,
        "email,client_id,existing_account\n"
        "member@example.com,shop,join\n"
        "other@example.com,shop,\n"
        "third@example.com,shop,maybe\n",
    )
    result = cli("invitations", "bulk", path)
    assert result.exit_code == 1
    assert "line 2: ok" in result.output
    assert "line 3: error: this address already belongs to an account (sub: " in result.output
    assert "line 4: error: existing_account: expected join or nothing" in result.output
    with app.app_context():
        (joined,) = db.session.scalars(select(Invitation).where(Invitation.existing_account))
        assert joined.email == member.email
