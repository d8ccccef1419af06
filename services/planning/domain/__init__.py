"""Pure domain rules of the planning service.

Nothing here touches Flask, kombu, pymongo or the clock: every function takes what it needs
(including ``today`` or ``now``) and returns values, so the rules are tested without I/O.

- ``drafting``: intake summary -> plan draft, or a blocked / held outcome.
- ``plan_lifecycle``: plan states, transitions, editable fields and version history.
- ``scheduling``: local time -> UTC, double-booking and authorization checks, session states.
- ``progress``: outcome-measure progress against baseline and goals; re-assessment due.
- ``referral_tracking``: visits and days remaining, and which referral alerts to send once.
"""
