"""Ops CLI of the intake service: tenants, locations, API keys, partners and first admins.

An entry point beside `app.py` and `worker.py`: it builds the same `Deps` (bootstrap.py) and
calls the same use cases as the admin API, for the tasks that span tenants.

    python -m services.intake.cli create-tenant --name "Northside Massage" --location "Main:America/New_York"
    python -m services.intake.cli create-key --tenant northside-massage --role admin --name "Dana (ops)"
    python -m services.intake.cli create-admin --tenant northside-massage --name "Dana" --email dana@northside.example
    python -m services.intake.cli create-partner --id partner-example --name "Example Referral Network" --tenant northside-massage
    python -m services.intake.cli allow-partner --partner partner-example --tenant northside-massage
    python -m services.intake.cli set-partner-status-format --partner partner-example --status-format fhir
    python -m services.intake.cli rotate-partner-secret --partner partner-example
    python -m services.intake.cli disable-partner --partner partner-example
    python -m services.intake.cli apply-broker-policies
    python -m services.intake.cli backfill-patient-search [--tenant northside-massage]

Settings come from the environment (MONGO_URL, MONGO_DB, AMQP_URL, ...), as for the services. Each
command prints one JSON object; `create-key` prints the raw key, once (only its hash is stored).
`create-partner` also makes the partner's RabbitMQ user (its id) with least privilege, and its
status queue, through the management API (RABBITMQ_MANAGEMENT_URL, an administrator's), on the
virtual host of AMQP_URL, and prints its password once (`amqp_password`); `--no-broker-user`
records the partner only, for a broker whose users are made elsewhere.
`apply-broker-policies` sets the queue length limits of `shared.events.policies` (overflow
`reject-publish`) on that virtual host, through the same management API.
`create-admin` invites a clinic's first staff admin and prints the invitation link as well as
emailing it (through notifications).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from services.intake.bootstrap import Deps, bootstrap
from services.intake.domain.partner_settings import NATIVE, STATUS_FORMATS
from services.intake.partner_queues.broker_users import (
    BrokerAdminError,
    PartnerBrokerUsers,
    vhost_of,
)
from services.intake.repository.indexes import create_indexes
from services.intake.usecases import keys, partners, patients, tenants, users
from shared.config import ConfigError, Settings, load_settings
from shared.errors import UseCaseError
from shared.events import policies
from shared.mongo import Mongo
from shared.web.auth import ROLES


def _location(value: str) -> tuple[str, str]:
    name, sep, timezone = value.rpartition(":")
    if not sep or not name or not timezone:
        raise argparse.ArgumentTypeError("expected NAME:IANA_TIME_ZONE, e.g. Main:America/New_York")
    return name, timezone


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m services.intake.cli", description=__doc__.split("\n")[0]
    )
    commands = root.add_subparsers(dest="command", required=True)
    tenant = commands.add_parser("create-tenant", help="a clinic organisation and its locations")
    tenant.add_argument("--name", required=True)
    tenant.add_argument("--id", dest="tenant_id", help="default: derived from the name")
    tenant.add_argument(
        "--location",
        dest="locations",
        action="append",
        type=_location,
        default=[],
        help="NAME:IANA_TIME_ZONE (repeatable)",
    )
    location = commands.add_parser("add-location", help="one more location of a tenant")
    location.add_argument("--tenant", required=True)
    location.add_argument("--name", required=True)
    location.add_argument("--timezone", required=True)
    key = commands.add_parser("create-key", help="an API key (printed once)")
    key.add_argument("--tenant", required=True)
    key.add_argument("--role", required=True, choices=ROLES)
    key.add_argument("--name", required=True)
    key.add_argument(
        "--location",
        dest="locations",
        action="append",
        help="limit to this location id (repeatable); default: all",
    )
    key.add_argument("--partner", dest="partner_id", help="for --role partner: the partner id")
    admin = commands.add_parser(
        "create-admin", help="invite a clinic's first admin (the link is printed and emailed)"
    )
    admin.add_argument("--tenant", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--email", required=True)
    revoke = commands.add_parser("revoke-key", help="revoke an API key by its key id")
    revoke.add_argument("--tenant", required=True)
    revoke.add_argument("--key-id", required=True)
    partner = commands.add_parser("create-partner", help="a partner (its id is its AMQP user name)")
    partner.add_argument("--id", dest="partner_id", required=True)
    partner.add_argument("--name", required=True)
    partner.add_argument(
        "--tenant",
        dest="tenants",
        action="append",
        default=[],
        help="a clinic it may refer to (repeatable)",
    )
    partner.add_argument("--status-format", choices=STATUS_FORMATS, default=NATIVE)
    partner.add_argument(
        "--no-broker-user",
        action="store_true",
        help="record the partner only: its RabbitMQ user is made elsewhere",
    )
    backfill = commands.add_parser(
        "backfill-patient-search",
        help="give patients stored before staff search (or with an older key) their search key",
    )
    backfill.add_argument("--tenant", help="only this tenant; default: every tenant")
    status_format = commands.add_parser(
        "set-partner-status-format", help="native JSON or FHIR Tasks on the partner's status queue"
    )
    status_format.add_argument("--partner", required=True)
    status_format.add_argument("--status-format", required=True, choices=STATUS_FORMATS)
    for name, help_text in (
        ("rotate-partner-secret", "a new RabbitMQ password for a partner (printed once)"),
        ("disable-partner", "remove a partner's RabbitMQ user and refuse its referrals"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--partner", required=True)
    for name, help_text in (
        ("allow-partner", "let a partner refer to a clinic"),
        ("disallow-partner", "stop a partner referring to a clinic"),
    ):
        allow = commands.add_parser(name, help=help_text)
        allow.add_argument("--partner", required=True)
        allow.add_argument("--tenant", required=True)
    commands.add_parser(
        "apply-broker-policies",
        help="queue length limits on the broker (overflow reject-publish: publishers wait)",
    )
    return root


def run(deps: Deps, args: argparse.Namespace) -> dict[str, Any]:
    match args.command:
        case "create-tenant":
            return tenants.create_tenant(
                deps, name=args.name, locations=args.locations, tenant_id=args.tenant_id
            )
        case "add-location":
            return tenants.add_location(deps, args.tenant, name=args.name, timezone=args.timezone)
        case "create-key":
            document, raw_key = keys.create_key(
                deps,
                args.tenant,
                role=args.role,
                name=args.name,
                locations=args.locations,
                partner_id=args.partner_id,
            )
            return {**{k: v for k, v in document.items() if k != "_id"}, "key": raw_key}
        case "create-admin":
            user, link = users.invite_user(
                deps, args.tenant, name=args.name, email=args.email, role="admin", invited_by="ops"
            )
            return {**user, "invitation_link": link}
        case "revoke-key":
            document = keys.revoke_key(deps, args.tenant, args.key_id)
            return {k: v for k, v in document.items() if k not in ("_id", "outbox")}
        case "create-partner" if args.no_broker_user:
            return partners.create_partner(
                deps,
                partner_id=args.partner_id,
                name=args.name,
                tenants=args.tenants,
                status_format=args.status_format,
            )
        case "set-partner-status-format":
            return partners.set_status_format(deps, args.partner, args.status_format)
        case "create-partner":
            return partners.onboard_partner(
                deps,
                _broker(deps),
                partner_id=args.partner_id,
                name=args.name,
                tenants=args.tenants,
                status_format=args.status_format,
            )
        case "backfill-patient-search":
            return {"updated": patients.backfill_search(deps, args.tenant)}
        case "rotate-partner-secret":
            return partners.rotate_partner_secret(deps, _broker(deps), args.partner)
        case "disable-partner":
            return partners.disable_partner(deps, _broker(deps), args.partner)
        case "apply-broker-policies":
            return _apply_policies(deps.settings)
        case _:
            return partners.set_partner_allowed(
                deps, args.partner, args.tenant, args.command == "allow-partner"
            )


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings or load_settings("intake")
    except ConfigError as error:
        print(f"intake cli: {error}", file=sys.stderr)
        return 2
    mongo = Mongo(settings)
    try:
        deps = bootstrap(settings, mongo)
        create_indexes(deps.db)
        result = run(deps, args)
    except UseCaseError as error:
        print(f"intake cli: {args.command}: {_explained(error)}", file=sys.stderr)
        return 1
    except (BrokerAdminError, policies.PolicyError) as error:
        print(f"intake cli: {args.command}: {error}", file=sys.stderr)
        return 1
    finally:
        mongo.close()
    print(json.dumps(result, default=str, indent=2))
    return 0


def _broker(deps: Deps) -> PartnerBrokerUsers:
    """The broker's management API; checked before anything is recorded."""
    broker = PartnerBrokerUsers.from_settings(deps.settings)
    broker.check()
    return broker


def _apply_policies(settings: Settings) -> dict[str, Any]:
    url = settings.own.rabbitmq_management_url
    if not url:
        raise BrokerAdminError(
            "RABBITMQ_MANAGEMENT_URL is not set (http://<admin>:<password>@<host>:15672)"
        )
    vhost = vhost_of(settings.amqp_url)
    return {"vhost": vhost, "policies": policies.apply(url, vhost)}


def _explained(error: UseCaseError) -> str:
    fields = "; ".join(f"{path}: {', '.join(problems)}" for path, problems in error.errors.items())
    return fields or error.message


if __name__ == "__main__":
    sys.exit(main())
