"""What the console offers each role: the pages in the navigation and the actions on a page.

The same rules the APIs enforce (their `@requires`): what a role may not do is not offered at
all, and the API still refuses it if asked. A page not built yet is listed and links to a page
that says it is coming.
"""

from __future__ import annotations

from dataclasses import dataclass

STAFF = frozenset({"admin", "front_desk", "therapist"})
DESK = frozenset({"admin", "front_desk"})
CLINICIANS = frozenset({"admin", "therapist"})
ADMINS = frozenset({"admin"})


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    roles: frozenset[str]
    endpoint: str
    """The page's Flask endpoint (`coming.page` until it is built)."""
    covers: str = ""
    """The pages of the issue it leads to, for the "coming" page."""


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("referrals", "Referrals", STAFF, "inbox.inbox", "the referral inbox and each referral"),
    NavItem(
        "patients", "Patients", STAFF, "patient_search.search", "patient search, chart, intake"
    ),
    NavItem("calendar", "Calendar", STAFF, "calendar.show", "day and week views, and each session"),
    NavItem("plans", "Plans", STAFF, "plans.plans", "treatment plans, outcomes and discharge"),
    NavItem("messages", "Messages", STAFF, "messages.log", "the delivery log of every message"),
    NavItem(
        "settings",
        "Clinic settings",
        ADMINS,
        "staff_settings.settings",
        "locations, staff, messages",
    ),
)

ACTIONS: dict[str, frozenset[str]] = {
    "referral.cancel": DESK,
    "referral.review": DESK,
    "referral.decline": DESK,
    "session.book": STAFF,
    "session.reschedule": STAFF,
    "session.cancel": STAFF,
    "session.no_show": STAFF,
    "session.record": CLINICIANS,
    "plan.edit": CLINICIANS,
    "plan.approve": CLINICIANS,
    "plan.discharge": CLINICIANS,
    "plan.outcomes": CLINICIANS,
    "intake.record": STAFF,
    "intake.clearance": CLINICIANS,
    "clinic.settings": ADMINS,
}
"""Each action a page may offer -> the roles whose APIs allow it."""


def navigation_for(role: str) -> list[NavItem]:
    return [item for item in NAVIGATION if role in item.roles]


def nav_item(key: str) -> NavItem | None:
    return next((item for item in NAVIGATION if item.key == key), None)


def may(role: str, action: str) -> bool:
    """Whether the role is offered the action (an unknown action is offered to no one)."""
    return role in ACTIONS.get(action, frozenset())
