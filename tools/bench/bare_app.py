"""The bare HTTP endpoints the benchmark compares real ones with, under the same gunicorn settings.

    gunicorn -c python:shared.gunicorn_conf 'tools.bench.bare_app:create_app()'

`GET /referrals/<id>`: requires a bearer header, reads one document by `_id` and returns it as
JSON. `PUT /patients/<id>/consent`: requires a bearer header, sets the JSON body as the
document's `consent` and counts its `version` up in one `find_one_and_update`, and returns the
document. pymongo with read concern majority, one client per process opened on first use; no
authentication lookup, no schema, no audit, no logging: the least a real read and a real write
do. With `MONGO_COMMAND_LOG` set, its commands are recorded as the services' are
(`shared.command_log`, as service `bare`): the capture's cost is on both sides of the comparison.
Settings: `MONGO_URL`, `BENCH_BARE_DB`, `MONGO_COMMAND_LOG`.
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify, request
from pymongo import MongoClient, ReturnDocument
from pymongo.read_concern import ReadConcern

from shared import command_log


def create_app() -> Flask:
    app = Flask("bench_bare_app")
    client: list[MongoClient] = []

    def database():
        if not client:
            listeners = command_log.from_environment("bare")
            client.append(MongoClient(os.environ["MONGO_URL"], event_listeners=listeners))
        return client[0].get_database(
            os.environ["BENCH_BARE_DB"], read_concern=ReadConcern("majority")
        )

    def bearer() -> None:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            abort(401)

    @app.get("/referrals/<referral_id>")
    def get_referral(referral_id: str):
        bearer()
        found = database()["referrals"].find_one({"_id": referral_id})
        if found is None:
            abort(404)
        return jsonify(found)

    @app.put("/patients/<patient_id>/consent")
    def put_consent(patient_id: str):
        bearer()
        changed = database()["patients"].find_one_and_update(
            {"_id": patient_id},
            {"$set": {"consent": request.get_json()}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if changed is None:
            abort(404)
        return jsonify(changed)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
