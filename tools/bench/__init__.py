"""`make bench` (`python -m tools.bench`): the whole loop measured on fresh databases;
`make bench-events` (`python -m tools.bench.event_hop`): one event hop against bare kombu."""
