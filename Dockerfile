# syntax=docker/dockerfile:1
#
# One image for every clinic backend process. The command selects the process:
#   API:    gunicorn -c python:shared.gunicorn_conf "services.<name>.app:create_app()"
#   worker: python -m services.<name>.worker
# with <name> one of intake, planning, notifications (see docker-compose.yml).

ARG PYTHON_IMAGE=python:3.13-slim

# --- build stage: install the project and its pinned dependencies into a venv ---
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
WORKDIR /src

# Dependencies first (their own layer, re-used while only the code changes).
# Names come from [project].dependencies; versions are pinned by constraints.txt.
COPY pyproject.toml constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb')).get('project', {}).get('dependencies', []); print('\n'.join(deps))" \
        > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt

# Then the project itself (shared/ and services/; .dockerignore keeps the rest out).
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -c constraints.txt . \
 && pip check

# --- runtime stage: just the venv on a clean base, as an unprivileged user ---
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="clinic-backend" \
      org.opencontainers.image.description="Intake, planning and notifications services (API and worker) for medical massage clinics"

# XDG_RUNTIME_DIR: gunicorn puts its control socket there; /tmp is the only
# writable path when the container runs with a read-only root filesystem.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    XDG_RUNTIME_DIR=/tmp \
    BIND=0.0.0.0:8000 \
    WORKER_HEARTBEAT_FILE=/tmp/worker-heartbeat

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

WORKDIR /home/app
# Numeric so that orchestrators can verify "runs as non-root" without /etc/passwd.
USER 10001:10001

EXPOSE 8000

# No sensible default process: compose (or `docker run ... <command>`) picks one.
CMD ["python", "-c", "import sys; sys.exit('clinic-backend: give a command, e.g. gunicorn -c python:shared.gunicorn_conf \"services.intake.app:create_app()\" or python -m services.intake.worker')"]
