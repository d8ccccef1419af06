"""`make demo` (`python -m tools.demo`): one referral through the whole loop, public interfaces only."""
