"""The patient's intake form as data: every section, group and field the web form shows (the
same questions, questionnaires, rows and field names `form_input.read_form` reads), for staff
who record an intake in the console (`GET /intakes/form`). The console renders it; it keeps no
copy of the questions.

A field: `{name, label, kind, hint?, options?, value?, id?, blank?, attrs?}` where `kind` is
text, number, decimal, date, textarea, select or checkbox (a checkbox posts `value`; several
checkboxes may share a `name`, each with its own `id`). A group: `{id, legend, hint, rows}`, each
row a list of fields shown side by side (a group without a legend is not a fieldset). Errors come
back by field `name`, or by a group's `id` for a whole questionnaire.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.intake.web_form.form_input import CONSENT_VERSION, SURGERY_ROWS, SYMPTOM_ROWS
from services.intake.web_form.questionnaires import Item, Questionnaire
from services.intake.web_form.screening_questions import QUESTIONS, ScreeningQuestions

Field = dict[str, Any]
PREGNANCY = [
    (1, "Yes: up to 3 months (first trimester)"),
    (2, "Yes: 4 to 6 months (second trimester)"),
    (3, "Yes: 7 to 9 months (third trimester)"),
]


def _field(
    name: str, label: str, kind: str = "text", hint: str | None = None, **more: Any
) -> Field:
    found: Field = {"name": name, "label": label, "kind": kind, **more}
    if hint:
        found["hint"] = hint
    return found


def _group(
    group_id: str, legend: str | None, rows: list[list[Field]], hint: str | None = None
) -> dict[str, Any]:
    return {"id": group_id, "legend": legend, "hint": hint, "rows": rows}


def _symptoms() -> list[dict[str, Any]]:
    rows = [
        [
            _field(f"symptom_{n}_description", f"Symptom {n}: what you feel", max_length=500),
            _field(f"symptom_{n}_body_area", f"Symptom {n}: where on the body", max_length=60),
            _field(
                f"symptom_{n}_severity",
                f"Symptom {n}: how bad, from 0 (not at all) to 10 (worst)",
                "number",
                min=0,
                max=10,
            ),
        ]
        for n in range(1, SYMPTOM_ROWS + 1)
    ]
    return [
        _group("symptoms", "Your symptoms", rows, "Describe up to three, most important first."),
        _group(
            "body_areas",
            "Where do you have pain or problems?",
            [
                [
                    _field("body_areas", area, "checkbox", value=area, id=f"body-area-{i}")
                    for i, area in enumerate(QUESTIONS.body_areas, 1)
                ],
                [_field("body_areas_other", "Other areas", hint="Separate several with commas.")],
            ],
            "Tick all that apply.",
        ),
    ]


def _item(item: Item, number: int) -> list[Field]:
    if item.activity_field:
        return [
            _field(item.activity_field, item.activity_label or "", max_length=100),
            _field(item.field, item.label, "number", min=0, max=10),
        ]
    if item.kind == "number":
        return [_field(item.field, item.label, "number", item.hint, min=0, max=10)]
    options = [[value, text] for value, text in item.options]
    return [_field(item.field, f"{number}. {item.label}", "select", options=options)]


def _questionnaires(questionnaires: Sequence[Questionnaire]) -> list[dict[str, Any]]:
    return [
        _group(
            q.group_id,
            f"{q.title} (required)",
            [_item(item, n) for n, item in enumerate(q.items, 1)],
            q.intro,
        )
        for q in questionnaires
    ]


def _health(questions: ScreeningQuestions) -> list[dict[str, Any]]:
    groups = [
        _group(
            f"conditions-{n}",
            g.legend,
            [
                [_field("conditions", text, "checkbox", value=flag, id=f"condition-{flag}")]
                for flag, text in g.conditions
            ],
            "Tick any that apply to you.",
        )
        for n, g in enumerate(questions.condition_groups, 1)
    ]
    medications = _field(
        "medications",
        "Medicines you take now",
        "textarea",
        "One per line, with the dose if you know it, for example: Warfarin 5 mg daily. "
        "Include blood thinners, painkillers and steroids.",
    )
    vitals = [
        [_field("temperature_c", "Your temperature today, in °C", "decimal")],
        [
            _field(
                "bp_systolic", "Blood pressure: top number (systolic)", "number", min=50, max=300
            ),
            _field(
                "bp_diastolic",
                "Blood pressure: bottom number (diastolic)",
                "number",
                min=30,
                max=200,
            ),
        ],
    ]
    pregnancy = [
        [
            _field(
                "pregnancy",
                "Are you pregnant?",
                "select",
                options=[list(o) for o in PREGNANCY],
                blank="No, or it does not apply",
            )
        ],
        [
            _field(
                "pregnancy_high_risk",
                "My doctor or midwife says my pregnancy is high-risk",
                "checkbox",
                value="yes",
            )
        ],
    ]
    surgeries = [
        [
            _field(f"surgery_{n}_date", f"Operation {n}: date", "date"),
            _field(f"surgery_{n}_area", f"Operation {n}: where on the body", max_length=60),
        ]
        for n in range(1, SURGERY_ROWS + 1)
    ]
    events = [[_field(f"event_{flag}_date", text, "date")] for flag, text in questions.events]
    findings = [
        [_field(f"finding_{flag}_area", f"{text}: where")]
        for flag, text in questions.local_findings
    ]
    notes = _field(
        "history_notes",
        "Anything else your therapist should know",
        "textarea",
        "For example other illnesses, injuries, allergies, or your work and activities.",
        max_length=5000,
    )
    return [
        *groups,
        _group("medications-group", None, [[medications]]),
        _group("vitals", "Temperature and blood pressure", vitals, "If you know them."),
        _group("pregnancy-group", "Pregnancy", pregnancy),
        _group(
            "surgeries",
            "Operations in the last 12 months",
            surgeries,
            "The date and where on the body, for each one.",
        ),
        _group("events", "Stroke", events, "Only if it happened; the date as closely as known."),
        _group(
            "findings",
            "Skin and other local problems",
            findings,
            "Say where on the body, or leave empty. Separate several places with commas.",
        ),
        _group("notes-group", None, [[notes]]),
    ]


def consent_text(clinic_name: str) -> str:
    return (
        "I confirm that the answers I have given are true and complete to the best of my "
        f"knowledge. I agree to be assessed and treated with medical massage by {clinic_name}. "
        "I understand that I may stop treatment at any time, and I will tell my therapist about "
        "any change in my health."
    )


def form_definition(
    questionnaires: Sequence[Questionnaire],
    clinic_name: str,
    questions: ScreeningQuestions = QUESTIONS,
) -> dict[str, Any]:
    """The whole form for a referral whose diagnoses ask these questionnaires."""
    contact = [
        [_field("contact_email", "You may email me", "checkbox", value="yes")],
        [_field("contact_sms", "You may send me text messages", "checkbox", value="yes")],
    ]
    signature = [
        [
            _field(
                "consent_agreed", "I have read this and I agree (required)", "checkbox", value="yes"
            )
        ],
        [
            _field(
                "signed_by",
                "Type your full name as your signature (required)",
                hint="Typing your name counts as your signature.",
                max_length=200,
            )
        ],
    ]
    return {
        "consent_version": CONSENT_VERSION,
        "consent_text": consent_text(clinic_name),
        "sections": [
            {"id": "section-symptoms", "title": "1. What brings you here", "groups": _symptoms()},
            {
                "id": "section-questionnaires",
                "title": "2. How the problem affects you",
                "groups": _questionnaires(questionnaires),
            },
            {"id": "section-health", "title": "3. Health", "groups": _health(questions)},
            {
                "id": "section-contact",
                "title": "4. How we may contact you",
                "groups": [
                    _group(
                        "contact",
                        "Messages about appointments",
                        contact,
                        "Reminders and changes only. This can be changed at any time.",
                    )
                ],
            },
            {
                "id": "section-consent",
                "title": "5. Consent and signature",
                "groups": [_group("consent", None, signature)],
            },
        ],
    }
