"""Everything wrong with a posted form at once: reading, the intake schema, and the scoring.

The schema and `scored_baseline` are the very checks `complete_intake` applies (it runs them
again); running them here first lets the patient see every problem on one page, each next to
its field, instead of one round trip per kind of mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import ValidationError

from services.intake.api.schemas import IntakeFormSchema
from services.intake.usecases.intakes import scored_baseline
from services.intake.web_form.field_errors import field_errors
from services.intake.web_form.form_input import Reading
from services.intake.web_form.questionnaires import Questionnaire
from shared.errors import Invalid
from shared.schemas import flatten


def check(
    reading: Reading, questionnaires: Sequence[Questionnaire]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The loaded intake form and no errors, or None and the errors by HTML field."""
    rule_errors: dict[str, list[str]] = {}
    loaded = None
    try:
        loaded = IntakeFormSchema().load(reading.form)
    except ValidationError as error:
        rule_errors.update(flatten(error.messages))
    try:
        scored_baseline(reading.form["baseline"])
    except Invalid as error:
        rule_errors.update(error.errors)
    by_rule = field_errors(rule_errors, reading.origins, questionnaires)
    errors = {**_without_answered_groups(by_rule, reading, questionnaires), **reading.errors}
    return (None, reading.in_page_order(errors)) if errors else (loaded, {})


def _without_answered_groups(
    errors: dict[str, str], reading: Reading, questionnaires: Sequence[Questionnaire]
) -> dict[str, str]:
    """A questionnaire whose answers already show an error does not get a second one for all."""
    quiet = {
        q.group_id
        for q in questionnaires
        if {f for i in q.items for f in (i.field, i.activity_field) if f} & reading.errors.keys()
    }
    return {field: message for field, message in errors.items() if field not in quiet}
