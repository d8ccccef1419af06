"""The local development stack of `make run`: honcho over the Procfile (`python -m tools.devstack`),
the MongoDB stand-in, the development SMTP server and the worker respawner it starts."""
