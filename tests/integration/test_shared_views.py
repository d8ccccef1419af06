"""The view base every service builds on, in a real app on the real store: the one error table,
the audit of every call (refused ones too), and a page of a tenant's documents."""

from __future__ import annotations

import pytest
from flask_smorest import Blueprint
from marshmallow import fields

from shared.errors import Conflict, Invalid, NotFound
from shared.schemas import Strict
from shared.tenancy import TenantScoped
from shared.web import build_app
from shared.web.auth import hash_key, requires
from shared.web.paging import PageQuerySchema, page_request, page_schema
from shared.web.views import View, audited, db, principal

KEY = "ck_k1_secret-of-the-test-key-0000000000000"
blp = Blueprint("things", __name__, url_prefix="/things")
PROBLEMS = {
    "gone": NotFound("no thing 'gone'"),
    "busy": Conflict("the thing is booked"),
    "bad": Invalid.one("colour", "must be a colour of the clinic"),
}


class ThingSchema(Strict):
    thing_id = fields.String(attribute="_id")
    name = fields.String()


class ThingQuerySchema(PageQuerySchema):
    name = fields.String()


@blp.route("")
class Things(View):
    @requires("admin")
    @blp.arguments(ThingQuerySchema, location="query")
    @blp.response(200, page_schema(ThingSchema))
    def get(self, args):
        request, filters = page_request(args)
        with audited("thing.list", "thing"):
            things = TenantScoped(db().things, principal().tenant_id)
            return things.find_page(filters, request, sort=[("_id", 1)])


@blp.route("/<string:thing_id>")
class Thing(View):
    @requires("admin")
    @blp.response(200, ThingSchema)
    def get(self, thing_id):
        with audited("thing.read", "thing", thing_id):
            if thing_id in PROBLEMS:
                raise PROBLEMS[thing_id]
            return {"_id": thing_id, "name": "a thing"}


@pytest.fixture
def client(make_settings):
    settings = make_settings("planning", max_page_size=3)
    app = build_app(settings, title="Things", description="test", blueprints=[blp])
    database = app.extensions["mongo"].db
    database.principals.insert_one(
        {"_id": hash_key(KEY), "key_id": "k1", "tenant_id": "clinic-a", "role": "admin"}
    )
    for i in range(5):
        database.things.insert_one({"_id": f"t{i}", "tenant_id": "clinic-a", "name": "n"})
    database.things.insert_one({"_id": "other", "tenant_id": "clinic-b", "name": "n"})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {KEY}"
    yield client, database


@pytest.mark.parametrize(
    ("thing_id", "status", "outcome"),
    [("gone", 404, "not_found"), ("busy", 409, "refused"), ("bad", 422, "refused")],
)
def test_use_case_errors_answer_their_status_in_the_one_shape_and_are_audited(
    client, thing_id, status, outcome
):
    http, database = client
    response = http.get(f"/things/{thing_id}")
    assert response.status_code == status
    assert response.json["message"] == PROBLEMS[thing_id].message
    if status == 422:
        assert response.json["errors"] == {"json": {"colour": ["must be a colour of the clinic"]}}
    record = database.audit.find_one({"object.id": thing_id})
    assert record["outcome"] == outcome and record["actor"] == "admin:k1"


def test_a_successful_call_is_audited_ok(client):
    http, database = client
    assert http.get("/things/t1").json == {"thing_id": "t1", "name": "a thing"}
    assert database.audit.find_one({"object.id": "t1"})["outcome"] == "ok"


def test_a_list_answers_a_capped_page_of_the_callers_tenant_with_the_total(client):
    http, _ = client
    first = http.get("/things?page_size=50").json
    assert first["page_size"] == 3 and first["total"] == 5 and first["page"] == 1
    assert [t["thing_id"] for t in first["items"]] == ["t0", "t1", "t2"]
    second = http.get("/things?page=2&page_size=50").json
    assert [t["thing_id"] for t in second["items"]] == ["t3", "t4"]
    assert second["total"] == 5


def test_paging_arguments_out_of_range_are_422_and_unknown_ones_are_never_filters(client):
    http, _ = client
    response = http.get("/things?page=0")
    assert response.status_code == 422 and "page" in response.json["errors"]["query"]
    ignored = http.get("/things?tenant_id=clinic-b&_id[$ne]=x").json
    assert ignored["total"] == 5 and "other" not in [t["thing_id"] for t in ignored["items"]]
