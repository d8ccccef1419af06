"""The patient form's tables: questionnaires by diagnosis, their wording, and the screening questions."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from services.intake.domain.checklist_flags import CONDITIONS, DATED_EVENTS, LOCAL_FINDINGS
from services.intake.web_form import questionnaires, screening_questions
from services.intake.web_form.questionnaires import QUESTIONNAIRES, load_questionnaires
from services.intake.web_form.screening_questions import QUESTIONS, load_questions
from shared.clinical.outcome_measures import MEASURES


def raw(name: str) -> dict:
    text = (resources.files(questionnaires.__package__) / name).read_text(encoding="utf-8")
    return json.loads(text)


@pytest.mark.parametrize(
    ("codes", "measures"),
    [
        (["M54.50"], ["NPRS", "ODI"]),
        (["M54.59"], ["NPRS", "ODI"]),
        (["M5450"], ["NPRS", "ODI"]),
        (["m54.41"], ["NPRS", "ODI"]),
        (["M54.2"], ["NPRS", "NDI"]),
        (["S13.4XXA"], ["NPRS", "NDI"]),
        (["M75.101"], ["NPRS", "QuickDASH"]),
        (["M77.11"], ["NPRS", "QuickDASH"]),
        (["G56.01"], ["NPRS", "QuickDASH"]),
        (["M25.561"], ["NPRS", "LEFS"]),
        (["M17.11"], ["NPRS", "LEFS"]),
        (["M72.2"], ["NPRS", "LEFS"]),
        (["M79.7"], ["NPRS", "PSFS"]),
        (["G44.209"], ["NPRS", "PSFS"]),
        (["M62.838"], ["NPRS", "PSFS"]),
        ([], ["NPRS", "PSFS"]),
        (["M54.2", "M54.50"], ["NPRS", "ODI", "NDI"]),
        (["M54.50", "M54.59", "M79.7"], ["NPRS", "ODI"]),
        (["M25.511", "M25.561"], ["NPRS", "QuickDASH", "LEFS"]),
    ],
)
def test_nprs_is_always_asked_then_the_measures_the_diagnoses_fit_else_psfs(codes, measures):
    assert QUESTIONNAIRES.measures_for(codes) == measures


def test_every_answer_a_questionnaire_offers_is_one_its_measure_scores():
    for measure, questionnaire in QUESTIONNAIRES.questionnaires.items():
        spec = MEASURES[measure]
        low, high = spec.item_count
        assert low <= len(questionnaire.items) <= high, measure
        for item in questionnaire.items:
            values = [value for value, _ in item.options]
            if item.kind == "choice":
                assert values == list(range(spec.item_range[0], spec.item_range[1] + 1)), item
            else:
                assert values == [], item


def test_every_measure_has_wording_and_field_names_are_unique():
    assert set(QUESTIONNAIRES.questionnaires) == set(MEASURES)
    names = [
        name
        for q in QUESTIONNAIRES.questionnaires.values()
        for item in q.items
        for name in (item.field, item.activity_field)
        if name
    ]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t["scales"]["lefs_0_4"].pop(), "lefs_0_4 has 4 answers"),
        (lambda t: t["questionnaires"].pop("NDI"), "no wording for NDI"),
        (lambda t: t["questionnaires"]["ODI"]["items"].pop(), "ODI: 9 items"),
        (lambda t: t["questionnaires"].update(XYZ=t["questionnaires"]["ODI"]), "unknown measure"),
    ],
    ids=["scale-too-short", "measure-without-wording", "too-few-items", "unknown-measure"],
)
def test_a_questionnaire_table_that_does_not_fit_the_measures_is_refused(change, problem):
    table = copy.deepcopy(raw("questionnaires.json"))
    change(table)
    with pytest.raises(ValueError, match=problem):
        load_questionnaires(table)


def test_the_form_asks_every_flag_the_contraindication_rules_read():
    asked = [flag for group in QUESTIONS.condition_groups for flag, _ in group.conditions]
    assert sorted(asked) == sorted(CONDITIONS)
    assert sorted(flag for flag, _ in QUESTIONS.local_findings) == sorted(LOCAL_FINDINGS)
    assert sorted(flag for flag, _ in QUESTIONS.events) == sorted(DATED_EVENTS)


def test_questions_that_miss_or_invent_a_rule_flag_are_refused():
    table = copy.deepcopy(raw("screening_questions.json"))
    table["condition_groups"][0]["conditions"].pop("fever")
    table["condition_groups"][0]["conditions"]["fevr"] = "Typo"
    table["events"]["stroke_again"] = "Also typo"
    with pytest.raises(ValueError) as refused:
        load_questions(table)
    message = str(refused.value)
    assert "condition 'fever' is not asked" in message
    assert "condition 'fevr' is unknown" in message
    assert "event 'stroke_again' is unknown" in message


def test_a_flag_asked_twice_is_refused():
    table = copy.deepcopy(raw("screening_questions.json"))
    table["condition_groups"][1]["conditions"]["fever"] = "Again"
    with pytest.raises(ValueError, match="'fever' is asked twice"):
        screening_questions.load_questions(table)
