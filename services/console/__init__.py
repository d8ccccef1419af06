"""The staff console: server-rendered pages for clinic staff, a client of the three APIs."""
