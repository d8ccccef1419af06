"""The bare HTTP endpoint the benchmark compares a real one with, under the same gunicorn settings.

    gunicorn -c python:shared.gunicorn_conf 'tools.bench.bare_app:create_app()'

`GET /referrals/<id>`: requires a bearer header, reads one document by `_id` (pymongo, read
concern majority, one client per process opened on first use) and returns it as JSON. No
authentication lookup, no schema, no audit, no logging: the least a real read does.
Settings: `MONGO_URL`, `BENCH_BARE_DB`.
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify, request
from pymongo import MongoClient
from pymongo.read_concern import ReadConcern


def create_app() -> Flask:
    app = Flask("bench_bare_app")
    client: list[MongoClient] = []

    def collection():
        if not client:
            client.append(MongoClient(os.environ["MONGO_URL"]))
        db = client[0].get_database(
            os.environ["BENCH_BARE_DB"], read_concern=ReadConcern("majority")
        )
        return db["referrals"]

    @app.get("/referrals/<referral_id>")
    def get_referral(referral_id: str):
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            abort(401)
        found = collection().find_one({"_id": referral_id})
        if found is None:
            abort(404)
        return jsonify(found)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
