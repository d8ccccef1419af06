"""`make soak`: the whole system under traffic and chaos for N minutes, then every effect counted."""
