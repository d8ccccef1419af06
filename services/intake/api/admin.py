"""Admin API: the clinic's own tenant, its locations, API keys, and the partners that may refer to it.

Creating tenants and partners, and allowing a partner to refer to a clinic, are ops tasks
(`python -m services.intake.cli`): they span tenants.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from services.intake.api.common import View, db
from services.intake.api.schemas import (
    KeyInSchema,
    KeySchema,
    LocationInSchema,
    LocationSchema,
    NewKeySchema,
    PartnerSchema,
    TenantSchema,
)
from services.intake.usecases import tenants as access
from shared.web.auth import current_principal, requires

blp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    description="The clinic's locations, API keys and partners (admins only)",
)


def _tenant() -> str:
    return current_principal().tenant_id


@blp.route("/tenant")
class Tenant(View):
    @requires("admin")
    @blp.response(200, TenantSchema)
    def get(self):
        """The clinic and its locations."""
        return access.get_tenant(db(), _tenant())


@blp.route("/locations")
class Locations(View):
    @requires("admin")
    @blp.arguments(LocationInSchema)
    @blp.response(201, LocationSchema)
    def post(self, body):
        """Add a location (its id is derived from the name); emits `tenant.location_upserted`."""
        return access.add_location(db(), _tenant(), **body)


@blp.route("/locations/<string:location_id>")
class Location(View):
    @requires("admin")
    @blp.arguments(LocationInSchema)
    @blp.response(200, LocationSchema)
    def put(self, body, location_id):
        """Rename a location, or change its time zone or address; emits `tenant.location_upserted`."""
        return access.update_location(db(), _tenant(), location_id, **body)


@blp.route("/keys")
class Keys(View):
    @requires("admin")
    @blp.response(200, KeySchema(many=True))
    def get(self):
        """The clinic's API keys (never the keys themselves)."""
        return access.list_keys(db(), _tenant())

    @requires("admin")
    @blp.arguments(KeyInSchema)
    @blp.response(201, NewKeySchema)
    def post(self, body):
        """Create an API key for staff (a role, optionally limited to locations) or a partner.

        The answer holds the key itself, once; only its hash is stored.
        """
        document, raw_key = access.create_key(db(), _tenant(), **body)
        return {**document, "key": raw_key}


@blp.route("/keys/<string:key_id>")
class Key(View):
    @requires("admin")
    @blp.response(200, KeySchema)
    def delete(self, key_id):
        """Revoke a key (it stops working within seconds everywhere); emits `access.principal_revoked`."""
        return access.revoke_key(db(), _tenant(), key_id)


@blp.route("/partners")
class Partners(View):
    @requires("admin")
    @blp.response(200, PartnerSchema(many=True))
    def get(self):
        """The partners that may refer patients to this clinic."""
        return access.partners_of(db(), _tenant())
