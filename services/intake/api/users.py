"""Admin API: the clinic's staff users (invite, list, read, change role and locations, disable)
and how they sign in. Admins only; every call is audited under the admin's name.

The first admin of a clinic comes from the ops CLI (`cli.py create-admin`).
"""

from __future__ import annotations

from flask_smorest import Blueprint

from services.intake.api.schemas import (
    InvitedUserSchema,
    SignInPolicySchema,
    UserAccessEditSchema,
    UserCreateSchema,
    UserQuerySchema,
    UserSchema,
)
from services.intake.usecases import tenants, users
from shared.web.auth import requires
from shared.web.paging import page_request, page_schema
from shared.web.views import View, audited, deps, principal

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/admin",
    description="The clinic's staff users and how they sign in (admins only)",
)


def _tenant() -> str:
    return principal().tenant_id


@blp.route("/users")
class UserCollection(View):
    @requires("admin")
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, page_schema(UserSchema))
    def get(self, args):
        """The clinic's users, by name."""
        page, filters = page_request(args)
        with audited("user.list", "user"):
            return users.list_users(deps(), _tenant(), filters, page)

    @requires("admin")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, InvitedUserSchema)
    def post(self, body):
        """Invite a user: they get an email with a single-use link (72 hours) to set a password;
        emits `user.invited`."""
        with audited("user.invite", "user") as call:
            user, link = users.invite_user(deps(), _tenant(), **body, invited_by=principal().actor)
            call.object_id = user["_id"]
        return {**user, "invitation_link": link}


@blp.route("/users/<string:user_id>")
class User(View):
    @requires("admin")
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One user."""
        with audited("user.read", "user", user_id):
            return users.get_user(deps(), _tenant(), user_id)

    @requires("admin")
    @blp.arguments(UserAccessEditSchema)
    @blp.response(200, UserSchema)
    def put(self, body, user_id):
        """Change a user's role and locations (409 if it changed since `version`); their older
        tokens are refused within seconds everywhere (`access.user_updated`)."""
        with audited("user.change", "user", user_id):
            return users.change_access(deps(), _tenant(), user_id, **body, actor=principal().actor)


@blp.route("/users/<string:user_id>/disable")
class UserDisabling(View):
    @requires("admin")
    @blp.response(200, UserSchema)
    def post(self, user_id):
        """Disable a user for good: their sessions and tokens stop working within seconds in
        every service (`access.user_updated`)."""
        with audited("user.disable", "user", user_id):
            return users.disable_user(deps(), _tenant(), user_id, actor=principal().actor)


@blp.route("/users/<string:user_id>/invitation")
class UserInvitation(View):
    @requires("admin")
    @blp.response(200, UserSchema)
    def post(self, user_id):
        """Send a user who has not accepted yet a new invitation (the earlier link stops working)."""
        with audited("user.invite", "user", user_id):
            return users.resend_invitation(deps(), _tenant(), user_id)


@blp.route("/sign-in-policy")
class SignInPolicy(View):
    @requires("admin")
    @blp.response(200, SignInPolicySchema)
    def get(self):
        """Whether every user must have a second factor, and the idle timeout of sessions."""
        return tenants.sign_in_policy(deps(), _tenant())

    @requires("admin")
    @blp.arguments(SignInPolicySchema)
    @blp.response(200, SignInPolicySchema)
    def put(self, body):
        """Change them; they apply at each session's next refresh."""
        with audited("tenant.sign_in_policy", "tenant", _tenant()):
            return tenants.set_sign_in_policy(deps(), _tenant(), **body)
