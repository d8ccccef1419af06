"""The console's pure rules: what a role is offered, how times are shown, what a page shows of
a referral. No Flask, no HTTP: the pages call these with what the APIs answered."""
