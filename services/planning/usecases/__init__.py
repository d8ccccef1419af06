"""Planning's use cases: functions taking their dependencies (`bootstrap.Deps`, the principal)
as parameters; they load, decide (domain/), save once with their events, and return plain data.

- ``plans``: list, read, edit, approve, complete, discontinue; history and progress.
- ``sessions``: a plan's sessions, the calendar, cancel, no-show, complete with notes.
- ``booking``: schedule and reschedule (local time, authorization, no double booking).
- ``clinic_settings``: the clinic's alert thresholds and re-assessment policy.
- ``intake_events``: plans from intake's events (intakes, referral amendments, cancellations).
- ``referral_tracking``: referral alerts, with each write and as days pass.
- ``plan_access``, ``plan_changes``, ``answers``: what the use cases above share (the plan a
  principal may reach, one guarded write per change, the plain data they return).
"""
