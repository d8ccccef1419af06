"""Clinical rules that two services share (apart from the plumbing): outcome measures, and
their chart."""
