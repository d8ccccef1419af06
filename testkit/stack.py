"""The whole system as real processes, for end-to-end tests and the benchmark.

`LocalStack` runs each service's API (gunicorn) and worker against one MongoDB (a database per
service under a fresh prefix), one RabbitMQ vhost, an SMTP server and an SMS provider given by
the caller, with a staff-token key pair of its own (under its log directory) unless given one;
and the staff console (a seventh process, a client of the three APIs: `console_url`), which
intake trusts as a proxy and points its account links at.
`ops(...)` runs the intake ops CLI against the same stores, as ops would.
Each worker serves its metrics on a port of its own (`Worker.metrics_url`); `restart_worker`
stops one (SIGTERM) and starts another in its place, with more environment if asked (e.g. a
`testkit.pause.PausePoint`); `all_logs()` is the whole output of every process started so far.
`readiness_problems(urls)` says what keeps a stack (this one or `make run`'s) from being used.
`own_stack(...)` is a started stack on stores of its own with the SMTP inbox it sends to, all of
it removed afterwards: the one way the fixtures that share one system per module or package, the
benchmarks (tools/bench) and the soak (tools/soak) start one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pymongo
import requests

from shared.token_keys import development_keys
from testkit.ops import OpsCli
from testkit.processes import Api, Worker, free_port, python_env
from testkit.rabbit import RabbitAdmin, amqp_url
from testkit.smtp import SmtpInbox, smtp_server
from testkit.waiting import wait_until

SERVICES = ("intake", "planning", "notifications")


class LocalStack:
    def __init__(
        self,
        *,
        mongo_url: str,
        db_prefix: str,
        amqp_url: str,
        log_dir: Path,
        vhost: str = "",
        smtp_port: int,
        sms_base_url: str = "http://127.0.0.1:9",
        extra_env: Mapping[str, str] | None = None,
        api_workers: int = 1,
        start_timeout_s: float = 180.0,
    ) -> None:
        self.mongo_url, self.db_prefix, self.amqp_url = mongo_url, db_prefix, amqp_url
        self.vhost = vhost  # amqp_url's, when the caller says (own_stack does)
        self.log_dir = log_dir
        self.common = {
            "MONGO_URL": mongo_url,
            "AMQP_URL": amqp_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMS_BASE_URL": sms_base_url,
            "OUTBOX_POLL_INTERVAL_S": "0.2",
            "SCHEDULER_POLL_INTERVAL_S": "0.2",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        if "AUTH_PUBLIC_PEMS" not in self.common:  # a staff-token key pair of this stack's own
            self.common.update(development_keys(log_dir / "auth-keys"))
        self.api_workers = api_workers
        self.start_timeout_s = start_timeout_s  # per process: a loaded machine starts them slowly
        self.apis: dict[str, Api] = {}
        self.workers: dict[str, Worker] = {}
        self.retired: list[Worker] = []  # stopped or killed workers, kept for their logs
        self.console: Api | None = None

    def env(self, service: str) -> dict[str, str]:
        return {**python_env(), **self.common, "MONGO_DB": f"{self.db_prefix}_{service}"}

    def start(self) -> LocalStack:
        ports = {service: free_port() for service in (*SERVICES, "console")}
        self.common.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{ports['intake']}")
        self.common.setdefault(
            "NOTIFICATIONS_PUBLIC_URL", f"http://127.0.0.1:{ports['notifications']}"
        )
        self.common.setdefault("CONSOLE_PUBLIC_URL", f"http://127.0.0.1:{ports['console']}")
        self.common.setdefault("TRUSTED_PROXIES", "127.0.0.1")  # the console forwards for people
        for service in SERVICES:
            self.start_worker(service)
        for service in SERVICES:
            self.apis[service] = Api(
                service,
                self.env(service),
                self.log_dir,
                workers=self.api_workers,
                port=ports[service],
            )
        self.console = Api("console", self.console_env(), self.log_dir, port=ports["console"])
        for api in [*self.apis.values(), self.console]:
            api.wait_live(self.start_timeout_s)
        for worker in self.workers.values():
            wait_until(
                worker.heartbeat.exists,
                timeout=self.start_timeout_s,
                message=f"{worker.name} to start",
            )
        return self

    def start_worker(self, service: str, **extra_env: str) -> Worker:
        """A worker of `service` (the one before it, if any, must have ended: it is retired)."""
        if service in self.workers:
            self.retired.append(self.workers.pop(service))
        started = sum(w.name.startswith(f"{service}-worker") for w in self.retired)
        env = {"WORKER_METRICS_PORT": str(free_port()), **self.env(service), **extra_env}
        name = f"{service}-worker" + (f"-{started + 1}" if started else "")
        self.workers[service] = Worker(service, env, self.log_dir, name=name)
        return self.workers[service]

    def restart_worker(self, service: str, timeout: float = 90, **extra_env: str) -> Worker:
        """Stop the service's worker (SIGTERM, if it still runs) and start another, once it
        declared its queues and runs (its heartbeat)."""
        self.workers[service].stop()
        worker = self.start_worker(service, **extra_env)
        wait_until(worker.heartbeat.exists, timeout=timeout, message=f"{worker.name} to start")
        return worker

    def console_env(self) -> dict[str, str]:
        urls = {f"{s.upper()}_API_URL": self.apis[s].url for s in SERVICES}
        return {**self.env("console"), **urls, "CONSOLE_COOKIE_SECURE": "false"}

    @property
    def console_url(self) -> str:
        assert self.console is not None, "start() the stack first"
        return self.console.url

    def url(self, service: str) -> str:
        return self.apis[service].url

    @property
    def urls(self) -> dict[str, str]:
        """Each service's API, by service name."""
        return {service: api.url for service, api in self.apis.items()}

    @property
    def ops(self) -> OpsCli:
        """The intake ops CLI against the same stores, as ops would run it."""
        return OpsCli(self.env("intake"))

    def logs(self) -> str:
        parts = [
            f"--- {p.name} ---\n{p.log()[-4000:]}"
            for p in [*self.apis.values(), *self.workers.values(), *self._console()]
        ]
        return "\n".join(parts)

    def all_logs(self) -> str:
        """The whole output of every process started so far (retired workers included)."""
        processes = [*self.apis.values(), *self.retired, *self.workers.values(), *self._console()]
        return "\n".join(f"--- {p.name} ---\n{p.log()}" for p in processes)

    def _console(self) -> list[Api]:
        return [self.console] if self.console else []

    def stop(self) -> None:
        processes = [*self._console(), *self.apis.values(), *self.workers.values()]
        for process in processes:  # all told at once, then each awaited: they end side by side
            process.terminate()
        for process in processes:
            process.stop()


def readiness_problems(urls: Mapping[str, str]) -> list[str]:
    """What keeps the stack from being used: a service that does not answer or is not ready."""
    problems = []
    for service, url in urls.items():
        try:
            response = requests.get(f"{url}/readyz", timeout=5)
        except requests.RequestException:
            problems.append(f"{service} does not answer at {url}")
            continue
        if response.status_code != 200:
            problems.append(f"{service} at {url} is not ready: {response.text[:300]}")
    return problems


@contextmanager
def own_stack(
    mongo_url: str,
    rabbit_admin: RabbitAdmin,
    log_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    *,
    api_workers: int = 1,
    db_prefix: str | None = None,
    stack_type: Callable[..., LocalStack] = LocalStack,
    keep_databases: bool = False,
) -> Iterator[tuple[LocalStack, SmtpInbox]]:
    """A started stack on a vhost and databases of its own, sending email to the inbox given with
    it; the vhost and the databases (every one named `<db_prefix>_...`) are removed afterwards,
    the databases unless `keep_databases`. The one way the fixtures that share a system, the
    benchmarks and the soak start a stack.

    `db_prefix`: a fresh `t_<hex>` unless given (the vhost is named after it: `stack.vhost`);
    `stack_type`: `LocalStack` or a subclass (a `functools.partial` of one, for arguments of
    its own), called with LocalStack's keyword arguments."""
    prefix = db_prefix or f"t_{uuid.uuid4().hex[:12]}"
    log_dir.mkdir(parents=True, exist_ok=True)
    vhost = rabbit_admin.create_vhost(prefix.replace("_", "-"))
    try:
        with smtp_server() as (inbox, smtp_port):
            stack = stack_type(
                mongo_url=mongo_url,
                db_prefix=prefix,
                amqp_url=amqp_url(vhost),
                vhost=vhost,
                log_dir=log_dir,
                smtp_port=smtp_port,
                extra_env=dict(extra_env or {}),
                api_workers=api_workers,
            )
            try:
                yield stack.start(), inbox
            finally:
                stack.stop()
    finally:
        rabbit_admin.delete_vhost(vhost)
        if not keep_databases:
            drop_databases(mongo_url, prefix)


def drop_databases(mongo_url: str, prefix: str) -> None:
    """Every database whose name starts with `prefix`."""
    client = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
    finally:
        client.close()
