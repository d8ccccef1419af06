"""The soak's census once the system has settled: what the services stored for its clinic, the
statuses the partner heard and the emails the SMTP server took, each against what the partner
and the staff did (tools/soak/tally.py counts); then the problems of a run and its summary."""

from __future__ import annotations

from typing import Any

from testkit.smtp import Mail
from testkit.stack import SERVICES
from tools.bench.loop import Settling
from tools.soak.desk import STEPS, Desk
from tools.soak.partner_stream import PartnerStream
from tools.soak.tally import REFERRER_LETTERS_BY_STEP, Count, email_count, exactly_once

STAFF_EMAIL = "front-desk@soak.example"
PARTNER_REFERRALS_DLQ = "intake.partner-referrals.dlq"


# What the partner hears of each step of care (intake's milestones of planning's events), by the
# step a case has passed: the plan approved, the session's progress report, the discharge.
MILESTONES = (
    ("plan", "referral.plan_approved"),
    ("treat", "referral.progress_reported"),
    ("discharge", "referral.discharged"),
)


def milestones_due(desk: Desk) -> list[str]:
    """`<reference> <status type>` for each milestone the partner should have heard."""
    return [
        f"{case.reference} {kind}"
        for case in list(desk.cases.values())
        for step, kind in MILESTONES
        if STEPS.index(case.step) > STEPS.index(step)
    ]


def milestones_heard(stream: PartnerStream) -> list[str]:
    """The same for each milestone the partner heard (each distinct status event once)."""
    return [
        f"{reference} {kind}"
        for reference, heard in list(stream.heard.items())
        for _, kind in MILESTONES
        for _ in heard.get(kind, ())
    ]


def emails_due(stream: PartnerStream, desk: Desk) -> int:
    return sum(expected_mail(stream, desk).values())


def expected_mail(stream: PartnerStream, desk: Desk) -> dict[str, int]:
    """How many messages each address should have had, from how far each case came."""
    steps = {case.reference: case.step for case in desk.cases.values()}
    expected: dict[str, int] = {}
    accepted = [s for s in stream.referrals() if stream.heard[s.reference]["referral.accepted"]]
    for sent in accepted:
        expected[sent.patient_email] = 1
        step = steps.get(sent.reference, "intake")
        expected[sent.referrer_email] = REFERRER_LETTERS_BY_STEP[step]
    expected[STAFF_EMAIL] = len(accepted)
    return expected


def census(
    tenant_id: str,
    settling: Settling,
    stream: PartnerStream,
    desk: Desk,
    mails: list[Mail],
    dead: dict[str, int],
) -> dict[str, Any]:
    """What the services stored, said and sent for the soak's clinic, against what the partner
    and the staff did: each count expected / found / lost / doubled, and their sums."""
    intake, planning = settling.db("intake"), settling.db("planning")
    referrals = stream.referrals()
    references = [s.reference for s in referrals]
    found = list(intake.referrals.find({"tenant_id": tenant_id}, {"partner_referral_id": 1}))
    stored = [r["partner_referral_id"] for r in found]
    referral_ids = {r["partner_referral_id"]: r["_id"] for r in found}
    passed = {case.reference: STEPS.index(case.step) for case in desk.cases.values()}

    def past(step: str) -> list[str]:
        return [referral_ids.get(ref, ref) for ref, at in passed.items() if at > STEPS.index(step)]

    plans = list(planning.plans.find({"tenant_id": tenant_id}, {"referral_id": 1, "sessions": 1, "status": 1}))  # fmt: skip
    counts: dict[str, Count] = {
        "referrals stored": exactly_once(references, stored),
        "referrals accepted": exactly_once(
            references,
            [ref for ref in references for _ in stream.heard[ref]["referral.accepted"]],
        ),
        "poison refused": exactly_once(
            [p.reference for p in stream.poison()],
            [p.reference for p in stream.poison() for _ in stream.heard[p.reference]["referral.rejected"]],
        ),
        "intakes": exactly_once(
            past("intake"),
            [i["referral_id"] for i in intake.intakes.find({"tenant_id": tenant_id}, {"referral_id": 1})],
        ),
        "plans": exactly_once(past("intake"), [p["referral_id"] for p in plans]),
        "plans approved": exactly_once(
            past("plan"), [p["referral_id"] for p in plans if p["status"] != "draft"]
        ),
        "sessions": exactly_once(
            past("book"),
            [p["referral_id"] for p in plans for s in p.get("sessions") or [] if s],
        ),
        "sessions completed": exactly_once(
            past("treat"),
            [p["referral_id"] for p in plans for s in p.get("sessions") or [] if s.get("status") == "completed"],
        ),
        "discharges": exactly_once(
            past("discharge"), [p["referral_id"] for p in plans if p["status"] == "completed"]
        ),
    }  # fmt: skip
    counts["partner milestones"] = exactly_once(milestones_due(desk), milestones_heard(stream))
    emails, email_detail = email_count(mails, expected_mail(stream, desk))
    counts["emails"] = emails
    poison = len(stream.poison())
    unexpected_dead = sum(dead.values()) - min(dead.get(PARTNER_REFERRALS_DLQ, 0), poison)
    outboxes = [s for s in SERVICES if settling.outbox_pending(settling.db(s))]
    deliveries = settling.db("notifications").deliveries
    statuses = {
        d["_id"]: n
        for d in deliveries.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])
        for n in [d["n"]]
    }
    return dict(
        referrals={
            "published": len(referrals),
            "native": sum(s.kind == "native" for s in referrals),
            "fhir": sum(s.kind == "fhir" for s in referrals),
            "accepted": sum(bool(stream.heard[r]["referral.accepted"]) for r in references),
            "publish_retries": stream.publish_failures,
            "status_messages_taken": stream.status_deliveries,
        },
        poison={
            "published": poison,
            "rejected": sum(bool(stream.heard[p.reference]["referral.rejected"]) for p in stream.poison()),
            "dead_lettered": dead.get(PARTNER_REFERRALS_DLQ, 0),
        },
        intakes=counts["intakes"].found,
        plans=counts["plans"].found,
        sessions=counts["sessions"].found,
        discharges=counts["discharges"].found,
        emails={**counts["emails"].to_json(), **email_detail},
        deliveries_by_status=statuses,
        dead_letters=dead,
        dead_letters_unexpected=unexpected_dead,
        outboxes_not_empty=outboxes,
        counts={name: count.to_json() for name, count in counts.items()},
        lost=sum(c.lost for c in counts.values()),
        doubled=sum(c.doubled for c in counts.values()),
    )  # fmt: skip


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of a run on one screen (the rest of the JSON says how they came about)."""
    chaos, http = report.get("chaos") or {}, report.get("http") or {}
    return {
        "referrals": (report.get("referrals") or {}).get("published"),
        "poison": (report.get("poison") or {}).get("published"),
        "intakes": report.get("intakes"),
        "plans": report.get("plans"),
        "sessions": report.get("sessions"),
        "discharges": report.get("discharges"),
        "emails": (report.get("emails") or {}).get("found"),
        "worker_kills": chaos.get("worker_kills"),
        "api_process_kills": chaos.get("api_process_kills"),
        "broker_stops": chaos.get("broker_stops"),
        "store_restarts": chaos.get("store_restarts"),
        "lost": report.get("lost"),
        "doubled": report.get("doubled"),
        "5xx_by_code": http.get("5xx_by_code"),
        "5xx_from_the_stand_in": http.get("not_503_from_the_stand_in"),
        "settled_in_s": report.get("settled_in_s"),
        "problems": report.get("problems"),
    }


def problems(report: dict[str, Any]) -> list[str]:
    found = []
    if report.get("lost"):
        found.append(f"{report['lost']} effects lost")
    if report.get("doubled"):
        found.append(f"{report['doubled']} effects doubled")
    if report.get("settled_in_s") is None:
        found.append("the system did not settle in time")
    if report.get("dead_letters_unexpected"):
        found.append(f"{report['dead_letters_unexpected']} dead letters beside the poison")
    if (report.get("emails") or {}).get("to_unexpected_addresses"):
        found.append(
            f"emails to unexpected addresses: {report['emails']['to_unexpected_addresses']}"
        )
    if report.get("outboxes_not_empty"):
        found.append(f"outboxes not empty: {report['outboxes_not_empty']}")
    if (report.get("chaos") or {}).get("faults_failed"):
        found.append(f"{report['chaos']['faults_failed']} faults could not be made (chaos_log)")
    http = report.get("http") or {}
    ours = (http.get("not_503") or 0) - (http.get("not_503_from_the_stand_in") or 0)
    if ours:
        found.append(f"{ours} 5xx answers other than 503 (http.not_503_causes)")
    if (report.get("desk") or {}).get("stopped"):
        found.append(f"{len(report['desk']['stopped'])} cases refused by an API")
    return found
