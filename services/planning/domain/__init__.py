"""Pure domain rules of the planning service.

Nothing here touches Flask, kombu, pymongo or the clock: every function takes what it needs
(including ``today`` or ``now``) and returns values, so the rules are tested without I/O.

- ``intake_summary``: the intake as planning reads it from intake's events; clearances.
- ``intake_stage``: intake events folded in any order (newest basis, union of clearances).
- ``condition_tables``: ICD-10 condition groups -> techniques, session length, frequency.
- ``drafting``: intake summary -> plan draft, or a blocked / held outcome.
- ``plan_content``: the plan as stored; checked edits; fit with the referral.
- ``plan_lifecycle``: plan states, transitions, editable fields and version history.
- ``plan_document``: the stored plan read as domain values (referral terms, progress, sessions).
- ``scheduling``: local time -> UTC, double-booking and authorization checks, session states.
- ``session_record``: measurements scored; session notes checked against precautions.
- ``progress``: outcome-measure progress against baseline and goals; re-assessment due.
- ``referral_tracking``: visits and days remaining, which referral alerts to send once, and
  the next day a date alert may fall due.
- ``clinic_settings``: a clinic's alert thresholds and re-assessment policy (and defaults).
"""
