"""`make run` (`python -m tools.devstack`): the whole local stack under one supervisor (honcho), from the Procfile.

Checks that the ports are free, starts the MongoDB stand-in (unless MONGO_URL is given), the
development SMTP server (unless SMTP_HOST is given), each service's API and worker, and the staff
console (http://127.0.0.1:8004, over plain http: its cookie is not Secure here, and intake trusts
its X-Forwarded-For); prints where each one listens once it is ready. Staff access tokens are signed with a development key
pair under var/auth/ (made the first time) unless AUTH_PUBLIC_PEMS is given. Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

from honcho.environ import parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

from shared.token_keys import development_keys

ROOT = Path(__file__).resolve().parents[2]
APIS = {"intake": 8001, "planning": 8002, "notifications": 8003}
WORKER_METRICS = {"intake": 9101, "planning": 9102, "notifications": 9103}
CONSOLE_PORT = 8004
READY_DEADLINE_S = 90


def wanted_processes(env: dict[str, str]) -> dict[str, str]:
    processes = parse_procfile((ROOT / "Procfile").read_text()).processes
    if env.get("MONGO_URL"):
        processes.pop("mongo")
    if env.get("SMTP_HOST"):
        processes.pop("smtp")
    return dict(processes)


def ports_needed(processes: dict[str, str]) -> dict[int, str]:
    ports = {port: f"{name} API" for name, port in APIS.items()}
    ports.update({port: f"{name} worker metrics" for name, port in WORKER_METRICS.items()})
    ports[CONSOLE_PORT] = "staff console"
    if "mongo" in processes:
        ports[27017] = "MongoDB stand-in"
    if "smtp" in processes:
        ports[1025] = "development SMTP server"
    return ports


def taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def process_env(name: str, base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    service = name.split("-")[0]
    if name.endswith("-worker"):
        env["WORKER_METRICS_PORT"] = str(WORKER_METRICS[service])
        env["WORKER_HEARTBEAT_FILE"] = str(ROOT / "var" / "run" / f"{name}.heartbeat")
    return env


def readiness(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def announce_when_ready(started: float) -> None:
    pending = dict(APIS)
    while pending and time.monotonic() - started < READY_DEADLINE_S:
        for name, port in list(pending.items()):
            if readiness(f"http://127.0.0.1:{port}/readyz"):
                del pending[name]
                print(
                    f"\n  ready: {name:<13} http://127.0.0.1:{port}  (OpenAPI /openapi.json, "
                    f"docs /docs, metrics /metrics; worker metrics http://127.0.0.1:{WORKER_METRICS[name]}/)",
                    flush=True,
                )
        time.sleep(0.5)
    console = f"http://127.0.0.1:{CONSOLE_PORT}"
    while time.monotonic() - started < READY_DEADLINE_S and not readiness(f"{console}/readyz"):
        time.sleep(0.5)
    if readiness(f"{console}/readyz"):
        print(
            f"\n  ready: {'console':<13} {console}  (the staff console: sign in there)", flush=True
        )
    else:
        pending["console"] = CONSOLE_PORT
    if pending:
        print(
            f"\n  NOT ready after {READY_DEADLINE_S} s: {', '.join(pending)} (see the log lines above)",
            flush=True,
        )
    else:
        print(
            f"\n  all services ready in {time.monotonic() - started:.1f} s. "
            f"Mail received by the dev SMTP server: {ROOT / 'var' / 'mail' / 'new'}\n",
            flush=True,
        )


def main() -> int:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("CONSOLE_COOKIE_SECURE", "false")  # http on this machine only
    env.setdefault("TRUSTED_PROXIES", "127.0.0.1")  # the console forwards people's addresses
    if not env.get("AUTH_PUBLIC_PEMS"):  # a development key pair for staff tokens (never committed)
        env.update(development_keys(ROOT / "var" / "auth"))
    processes = wanted_processes(env)
    busy = {port: what for port, what in ports_needed(processes).items() if taken(port)}
    if busy:
        for port, what in busy.items():
            print(
                f"error: port {port} (for the {what}) is already taken; stop what uses it "
                f"(e.g. another `make run`) and try again.",
                file=sys.stderr,
            )
        return 1
    (ROOT / "var" / "run").mkdir(parents=True, exist_ok=True)
    manager = Manager(Printer(sys.stdout))
    for name, cmd in processes.items():
        manager.add_process(name, cmd, env=process_env(name, env), cwd=str(ROOT))
    threading.Thread(target=announce_when_ready, args=(time.monotonic(),), daemon=True).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
