"""Every page in Chromium at a desktop (1280 px) and a phone (390 px) width (issue 14):
a screenshot of each in test-artifacts/sweep/ for a person to look at, and on each the
checks a screenshot would show failing: nothing wider than the phone's screen, no
Content Security Policy violation or script error.

One server for the module, seeded through the services (a third-party client, groups,
invitations in every state, a person with groups, roles and registration fields); the
pages that exist only once (a link or a secret shown once, a bulk result) are taken
at both widths in the same visit. UPDATE_SCREENSHOTS=1 also rewrites the README's
picture of the registration page (docs/images/registration.png).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import create_app
from app.accounts import groups
from app.accounts.service import create_account
from app.clients.service import create_client
from app.extensions import db
from app.invitations import creation, service
from app.invitations.validation import InvitationInput
from app.models import Group, Role
from tests.e2e.conftest import _seed, free_port, serving, sign_in_page
from tests.helpers import PASSWORD, AccountInfo

WIDTHS = {"desktop": 1280, "phone": 390}
#: Pictures the README shows (docs/images), rewritten from the desktop shot when the
#: run sets UPDATE_SCREENSHOTS=1.
README_IMAGES = {"register-invitation": "registration.png"}
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SHOP_ID = "shop"
SHOP_REDIRECT = "https://shop.example/callback"
FIELDS = [
    {"name": "department", "label": {"en": "Department", "de": "Abteilung"}, "type": "text"},
    {
        "name": "team_size",
        "label": {"en": "Team size", "de": "Teamgröße"},
        "type": "select",
        "choices": ["1-10", "11-50", "51+"],
        "required": True,
    },
]


@dataclass
class Scene:
    """The running server and what was seeded into it."""

    issuer: str
    admin: AccountInfo
    inviter: AccountInfo
    person: AccountInfo
    #: Invitation links by name: "open" (to the playground), "hosted" (no client).
    links: dict[str, str]
    #: Public ids by name: "open", "accepted", "revoked", "declined".
    invitations: dict[str, str]


def _invite(app, admin_sub: str, **fields):
    return creation.create(InvitationInput(notify=False, **fields), f"account:{admin_sub}")


def _populate(app, issuer: str, admin_sub: str) -> tuple[dict, dict]:
    """A third-party client, groups and roles, and invitations in several states."""
    with app.app_context():
        create_client(
            "Shop",
            [SHOP_REDIRECT],
            client_id=SHOP_ID,
            scope="openid profile email phone offline_access",
            initiate_login_uri="https://shop.example/login",
            post_logout_redirect_uris=["https://shop.example/bye"],
        )
        for name in ("staff", "beta-testers", "partners"):
            groups.create(Group, name, "cli")
        groups.create(Role, "editor", "cli")
        playground = app.config["PLAYGROUND_CLIENT_ID"]
        opened = _invite(
            app,
            admin_sub,
            email="lin.wu@example.com",
            given_name="Lin",
            family_name="Wu",
            client_id=playground,
            groups=["staff"],
            allow_same_email=True,
        )
        hosted = _invite(app, admin_sub, email="hana@example.com", given_name="Hana")
        accepted = _invite(app, admin_sub, email="amara@example.com", client_id=playground)
        account = create_account("amara@example.com", PASSWORD, given_name="Amara")
        service.accept(accepted.invitation, account.sub, f"account:{account.sub}")
        revoked = _invite(app, admin_sub, email="pat@example.com", client_id=SHOP_ID)
        service.revoke(revoked.invitation.public_id, f"account:{admin_sub}")
        declined = _invite(app, admin_sub, email="dev@example.com", client_id=SHOP_ID)
        service.reject(declined.invitation, "invitee")
        links = {"open": opened.link, "hosted": hosted.link, "open_short": opened.short_link}
        ids = {
            "open": opened.invitation.public_id,
            "accepted": accepted.invitation.public_id,
            "revoked": revoked.invitation.public_id,
            "declined": declined.invitation.public_id,
        }
        return links, ids


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Iterator[Scene]:
    """Vestibule on a free port with public sign-up and two registration fields."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("sweep") / "vestibule.db"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        ISSUER=issuer,
        PLAYGROUND_ENABLED=True,
        PLAYGROUND_CLIENT_SECRET="e2e-playground-secret",
        SIGNUP_MODE="public",
        REGISTRATION_FIELDS=FIELDS,
    )
    person, _back_office, _admin, inviter = _seed(app, issuer)
    with app.app_context():
        admin = create_account(
            "ada.lovelace@example.com",
            PASSWORD,
            roles=["admin"],
            given_name="Ada",
            family_name="Lovelace",
            email_verified=True,
        )
        admin_info = AccountInfo(admin.sub, admin.email, PASSWORD)
    links, ids = _populate(app, issuer, admin_info.sub)
    try:
        with serving(app, port):
            yield Scene(issuer, admin_info, inviter, person, links, ids)
    finally:
        with app.app_context():
            db.engine.dispose()


class Camera:
    """Takes a page at both widths and checks what a screenshot would show wrong."""

    def __init__(self, page, folder: Path):
        self.page, self.folder, self.problems = page, folder, []
        page.on(
            "console",
            lambda msg: (
                self.problems.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        page.on("pageerror", lambda exc: self.problems.append(str(exc)))

    def shoot(self, name: str) -> None:
        """Screenshot the page as it is now at each width; at each, nothing may stick
        out sideways (a page wider than the screen scrolls sideways on a phone): a
        problem reported when the test ends, after every picture is taken."""
        for label, width in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": 900})
            overflow = self.page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            self.page.screenshot(path=self.folder / f"{name}-{label}.png", full_page=True)
            if label == "desktop" and name in README_IMAGES:
                _update_readme_image(self.folder / f"{name}-{label}.png", README_IMAGES[name])
            if overflow > 0:
                self.problems.append(f"{name} is {overflow}px wider than {width}px")
        self.page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def _update_readme_image(shot: Path, image: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, IMAGES / image)


@pytest.fixture(scope="module")
def folder(artifacts) -> Path:
    """test-artifacts/sweep/, emptied of an earlier run's pictures."""
    path = artifacts / "sweep"
    path.mkdir(exist_ok=True)
    for old in path.glob("*.png"):
        old.unlink()
    return path


@pytest.fixture
def camera(chromium, folder) -> Iterator[Camera]:
    """A fresh browser (empty cookie jar) with a Camera on its page."""
    context = chromium.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    shots = Camera(context.new_page(), folder)
    yield shots
    context.close()
    assert shots.problems == []


def _signed_in(camera: Camera, scene: Scene, who: AccountInfo):
    sign_in_page(camera.page, scene, who)  # type: ignore[arg-type]  # has issuer
    return camera.page


@pytest.mark.browser
def test_pages_for_people_signed_out(camera, scene):
    """Sign-in (also with a wrong password), forgotten password, a dead reset link,
    signed out, a 404, /authorize without its parameters and for an unknown client."""
    from playwright.sync_api import expect

    page, issuer = camera.page, scene.issuer
    page.goto(f"{issuer}/login")
    camera.shoot("sign-in")
    page.fill("#email", scene.person.email)
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    camera.shoot("sign-in-wrong-password")
    page.goto(f"{issuer}/password/forgot")
    camera.shoot("password-forgot")
    page.fill("#email", scene.person.email)
    page.get_by_role("button", name="Send the link").click()
    camera.shoot("password-sent")
    page.goto(f"{issuer}/password/reset/not-a-real-token")
    camera.shoot("password-link-unusable")
    page.goto(f"{issuer}/signed-out")
    camera.shoot("signed-out")
    assert page.goto(f"{issuer}/no/such/page").status == 404
    camera.shoot("not-found")
    assert page.goto(f"{issuer}/authorize").status == 400
    camera.shoot("authorize-without-parameters")
    page.goto(f"{issuer}/authorize?client_id=nobody&response_type=code&scope=openid")
    camera.shoot("authorize-unknown-client")
    page.goto(f"{issuer}/authorize?client_id={SHOP_ID}&redirect_uri=https://evil.example/cb")
    camera.shoot("authorize-unregistered-redirect")


@pytest.mark.browser
def test_registration_pages(camera, scene):
    """The invitation's registration form (who invited, to what), its errors all at once,
    the decline confirmation; the hosted form; self-service; a dead short link."""
    from playwright.sync_api import expect

    page, issuer = camera.page, scene.issuer
    page.goto(scene.links["open"])
    page.wait_for_url(re.compile(r".*/interaction/"))
    expect(page.locator("form#registration")).to_be_visible()
    camera.shoot("register-invitation")
    page.fill("#given_name", "")
    page.fill("#password", "short")
    page.get_by_role("button", name="Create account", exact=True).click()
    camera.shoot("register-invitation-errors")
    page.locator("details.decline summary").click()
    camera.shoot("register-decline-confirm")
    page.goto(scene.links["hosted"])
    camera.shoot("register-hosted-invitation")
    page.goto(f"{issuer}/register")
    camera.shoot("register-self-service")
    page.goto(f"{issuer}/i/not-a-real-code")
    camera.shoot("short-link-invalid")


@pytest.mark.browser
def test_pages_of_a_signed_in_person(camera, scene):
    """The consent screen of a third-party client, the sign-out confirmation, the
    playground signed in (claims with dates), its code page."""
    from playwright.sync_api import expect

    page, issuer = camera.page, scene.issuer
    page.goto(f"{issuer}/playground/")
    camera.shoot("playground-signed-out")
    page.get_by_role("link", name="Sign in").click()
    page.fill("#email", scene.person.email)
    page.fill("#password", scene.person.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{issuer}/playground/")
    expect(page.locator("#id-token-claims")).to_be_visible()
    camera.shoot("playground-signed-in")
    page.goto(f"{issuer}/playground/code?code=abc123&state=xyz&iss={issuer}")
    camera.shoot("playground-code")
    query = (
        f"response_type=code&client_id={SHOP_ID}&redirect_uri={SHOP_REDIRECT}"
        "&scope=openid%20profile%20email%20phone%20offline_access&state=s1&nonce=n1"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
    page.goto(f"{issuer}/authorize?{query}")
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    camera.shoot("consent")
    page.goto(f"{issuer}/logout")
    camera.shoot("sign-out-confirm")
    page.goto(f"{issuer}/account")
    camera.shoot("account")


@pytest.mark.browser
def test_dashboard_invitation_pages(camera, scene):
    """The list, the invite form (empty and refused), a link shown once, an invitation's
    page with its history, resend and revoke confirmations, the bulk upload in its three
    steps, links downloaded and gone, an unknown invitation."""
    from playwright.sync_api import expect

    page, issuer = _signed_in(camera, scene, scene.admin), scene.issuer
    page.goto(f"{issuer}/admin/")
    camera.shoot("dashboard-home")
    page.goto(f"{issuer}/admin/invitations")
    camera.shoot("dashboard-invitations")
    page.goto(f"{issuer}/admin/invitations/new")
    camera.shoot("dashboard-invite")
    page.get_by_label("Email", exact=True).fill("not an address")
    page.get_by_label("Expires in (days)").fill("0")
    page.get_by_role("button", name="Create the invitation").click()
    camera.shoot("dashboard-invite-errors")
    page.get_by_label("Email", exact=True).fill("zoe@example.com")
    page.get_by_label("Expires in (days)").fill("14")
    page.get_by_label("Send the invitation now").uncheck()
    page.get_by_role("button", name="Create the invitation").click()
    camera.shoot("dashboard-invite-link-once")
    for name in ("open", "accepted", "declined"):
        page.goto(f"{issuer}/admin/invitations/{scene.invitations[name]}")
        camera.shoot(f"dashboard-invitation-{name}")
    page.goto(f"{issuer}/admin/invitations/{scene.invitations['open']}/resend")
    camera.shoot("dashboard-invitation-resend")
    page.goto(f"{issuer}/admin/invitations/{scene.invitations['open']}/revoke")
    camera.shoot("dashboard-invitation-revoke")
    page.goto(f"{issuer}/admin/invitations/no-such-id")
    camera.shoot("dashboard-invitation-unknown")
    page.goto(f"{issuer}/admin/invitations/bulk")
    camera.shoot("dashboard-bulk")
    people = (
        "email,mobile_number,given_name,family_name,client_id,groups,notify\n"
        "margaret@example.com,,Margaret,Hamilton,shop,staff;beta-testers,false\n"
        ",+4915112345678,Radia,Perlman,,,false\n"
        "katherine@example.com,,Katherine,Johnson,shop,no-such-group,false\n"
        "dorothy.vaughan.with.a.rather.long.address@example.com,,Dorothy,Vaughan,,,true\n"
    )
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": people.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    camera.shoot("dashboard-bulk-preview")
    page.get_by_role("button", name="Create 3 invitations").click()
    camera.shoot("dashboard-bulk-results")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the links (CSV)").click()
    assert "invite_id=" in Path(download.value.path()).read_text()
    page.get_by_role("button", name="Download the links (CSV)").click()  # a second time
    expect(page.get_by_role("heading", name="These links are no longer available")).to_be_visible()
    camera.shoot("dashboard-bulk-links-gone")


@pytest.mark.browser
def test_dashboard_admin_pages(camera, scene):
    """Users (list, a person, disable confirmation, a set-password link), groups and roles
    (lists, members), clients (list, form, refused form, secret once, detail, edit,
    rotate), the outbox and its retry confirmation."""
    from playwright.sync_api import expect

    page, issuer = _signed_in(camera, scene, scene.admin), scene.issuer
    page.goto(f"{issuer}/admin/users")
    camera.shoot("dashboard-users")
    page.goto(f"{issuer}/admin/users/{scene.person.sub}")
    camera.shoot("dashboard-user")
    page.goto(f"{issuer}/admin/users/{scene.person.sub}/disable")
    camera.shoot("dashboard-user-disable")
    page.goto(f"{issuer}/admin/users/{scene.person.sub}")
    page.get_by_role("button", name=re.compile("link", re.I)).last.click()
    camera.shoot("dashboard-user-password-link")
    page.goto(f"{issuer}/admin/groups")
    camera.shoot("dashboard-groups")
    page.goto(f"{issuer}/admin/groups/staff")
    camera.shoot("dashboard-group-members")
    page.goto(f"{issuer}/admin/roles/admin")
    camera.shoot("dashboard-role-members")
    page.goto(f"{issuer}/admin/clients")
    camera.shoot("dashboard-clients")
    page.get_by_role("link", name="Register a client").click()
    camera.shoot("dashboard-client-new")
    page.get_by_label("Name", exact=True).fill("Wiki")
    page.get_by_label("Redirect URIs", exact=True).fill("not a uri")
    page.get_by_role("button", name="Register").click()
    camera.shoot("dashboard-client-new-errors")
    page.get_by_label("Redirect URIs", exact=True).fill("https://wiki.example/cb")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#client-secret")).to_be_visible()
    camera.shoot("dashboard-client-secret")
    page.goto(f"{issuer}/admin/clients/{SHOP_ID}")
    camera.shoot("dashboard-client")
    page.goto(f"{issuer}/admin/clients/{SHOP_ID}/edit")
    camera.shoot("dashboard-client-edit")
    page.goto(f"{issuer}/admin/clients/{SHOP_ID}/rotate-secret")
    camera.shoot("dashboard-client-rotate")
    page.goto(f"{issuer}/admin/outbox")
    camera.shoot("dashboard-outbox")
    page.goto(f"{issuer}/admin/outbox/retry")
    camera.shoot("dashboard-outbox-retry")


@pytest.mark.browser
def test_dashboard_refusal_page(camera, scene):
    """A person who may only invite opens the users section: the 403 page."""
    page = _signed_in(camera, scene, scene.inviter)
    assert page.goto(f"{scene.issuer}/admin/users").status == 403
    camera.shoot("dashboard-forbidden")
