"""Admin API: the clinic's own tenant, its locations, API keys, and the partners that may refer to it.

Creating tenants and partners, and allowing a partner to refer to a clinic, are ops tasks
(`python -m services.intake.cli`): they span tenants. None of this is patient data: these
calls are not audited (the keys' and locations' changes are events).
"""

from __future__ import annotations

from flask_smorest import Blueprint

from services.intake.api.schemas import (
    KeyCreateSchema,
    KeySchema,
    LocationCreateSchema,
    LocationEditSchema,
    LocationSchema,
    NewKeySchema,
    PartnerSchema,
    TenantEditSchema,
    TenantSchema,
)
from services.intake.usecases import keys, partners, tenants
from shared.web.auth import STAFF_ROLES, requires
from shared.web.paging import PageQuerySchema, page_request, page_schema
from shared.web.views import View, deps, principal

blp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    description="The clinic's locations, API keys and partners (admins only)",
)


def _tenant() -> str:
    return principal().tenant_id


@blp.route("/tenant")
class Tenant(View):
    @requires("admin")
    @blp.response(200, TenantSchema)
    def get(self):
        """The clinic, its locations and its settings."""
        return tenants.get_tenant(deps(), _tenant())

    @requires("admin")
    @blp.arguments(TenantEditSchema)
    @blp.response(200, TenantSchema)
    def patch(self, body):
        """Change the clinic's settings (`referral_validity_days`), naming the version read."""
        return tenants.update_settings(deps(), _tenant(), **body)


@blp.route("/locations")
class LocationCollection(View):
    @requires("admin")
    @blp.arguments(LocationCreateSchema)
    @blp.response(201, LocationSchema)
    def post(self, body):
        """Add a location (its id is derived from the name); emits `tenant.location_upserted`."""
        return tenants.add_location(deps(), _tenant(), **body)


@blp.route("/locations/<string:location_id>")
class Location(View):
    @requires("admin")
    @blp.arguments(LocationEditSchema)
    @blp.response(200, LocationSchema)
    def put(self, body, location_id):
        """Rename a location, or change its time zone or address; emits `tenant.location_upserted`."""
        return tenants.update_location(deps(), _tenant(), location_id, **body)


@blp.route("/keys")
class KeyCollection(View):
    @requires("admin")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(KeySchema))
    def get(self, args):
        """The clinic's API keys, oldest first (never the keys themselves)."""
        page, _ = page_request(args)
        return keys.list_keys(deps(), _tenant(), page)

    @requires("admin")
    @blp.arguments(KeyCreateSchema)
    @blp.response(201, NewKeySchema)
    def post(self, body):
        """Create an API key for staff (a role, optionally limited to locations) or a partner.

        The answer holds the key itself, once; only its hash is stored.
        """
        document, raw_key = keys.create_key(deps(), _tenant(), **body)
        return {**document, "key": raw_key}


@blp.route("/keys/<string:key_id>")
class Key(View):
    @requires("admin")
    @blp.response(200, KeySchema)
    def delete(self, key_id):
        """Revoke a key (it stops working within seconds everywhere); emits `access.principal_revoked`."""
        return keys.revoke_key(deps(), _tenant(), key_id)


@blp.route("/partners")
class PartnerCollection(View):
    @requires(*STAFF_ROLES)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(PartnerSchema))
    def get(self, args):
        """The partners that may refer patients to this clinic, by id (every staff role: the
        referral inbox filters by partner)."""
        page, _ = page_request(args)
        return partners.partners_of(deps(), _tenant(), page)
