#!/usr/bin/env bash
# Idempotent set-up for `make run` and `make test` on a fresh Debian machine (as root):
#   1. finds Python 3.13, creates .venv, installs the pinned dependencies (only when they changed);
#   2. unless AMQP_URL is given (or --no-broker), installs RabbitMQ from the OS packages when
#      missing, starts it when it is not running (recording that we started it), and enables the
#      management plugin;
#   3. with --with-browser, installs Debian's chromium when missing and axe-core (npm ci, from
#      testkit/package-lock.json) for the browser tests.
# Usage: scripts/bootstrap.sh [--no-broker] [--with-browser]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/run var/log

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

find_python() {
  local candidates=(python3.13)
  local root="${PYENV_ROOT:-$HOME/.pyenv}"
  candidates+=("$root"/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13)
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
      command -v "$c" 2>/dev/null || echo "$c"; return 0
    fi
  done
  return 1
}

setup_venv() {
  local py stamp want
  py=$(find_python) || die "Python 3.13 is required but no working python3.13 was found (tried PATH, pyenv and /usr/local/bin). Install it, e.g. 'pyenv install 3.13', and run again."
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
    say "creating .venv with $py"
    rm -rf .venv
    "$py" -m venv .venv
  fi
  want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
  stamp=.venv/.installed
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing pinned dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev,test]' || die "dependency installation failed (see above)"
    echo "$want" > "$stamp"
  fi
}

rabbit_running() { timeout 15 rabbitmqctl -q status >/dev/null 2>&1; }

setup_rabbitmq() {
  if [ -n "${AMQP_URL:-}" ]; then say "using RabbitMQ at AMQP_URL (not managing a local one)"; return 0; fi
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    is_root || die "RabbitMQ is not installed and this is not root: install the 'rabbitmq-server' package, run as root, or set AMQP_URL to a broker."
    say "installing rabbitmq-server from the OS packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq rabbitmq-server >/dev/null \
      || die "apt-get install rabbitmq-server failed"
  fi
  if ! rabbit_running; then
    is_root || die "RabbitMQ is not running and this is not root: start it (rabbitmq-server -detached) or set AMQP_URL."
    if ss -ltn 2>/dev/null | grep -q ':5672 '; then
      die "port 5672 is taken by something that is not a local RabbitMQ node; free it or set AMQP_URL."
    fi
    say "starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do rabbit_running && break; sleep 1; done
    rabbit_running || die "RabbitMQ did not start within 60 s (see /var/log/rabbitmq/)"
    timeout 60 rabbitmqctl -q await_startup || die "RabbitMQ did not finish starting"
    date +%s > "${RABBIT_STARTED_MARKER:-var/run/rabbitmq.started-by-us}"
  fi
  if ! rabbitmq-plugins -q list -e 2>/dev/null | grep -q 'rabbitmq_management\b'; then
    say "enabling the RabbitMQ management plugin (HTTP API on 127.0.0.1:15672)"
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  fi
}

setup_browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    is_root || die "chromium is not installed and this is not root: install Debian's 'chromium' package."
    say "installing Debian's chromium (for the browser tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null || die "apt-get install chromium failed"
  fi
  if [ ! -f testkit/node_modules/axe-core/axe.min.js ]; then
    if ! command -v npm >/dev/null 2>&1; then
      is_root || die "npm is not installed and this is not root: install Debian's 'npm' package."
      say "installing Debian's npm (for axe-core, the accessibility checks of the browser tests)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null && apt-get install -y -qq npm >/dev/null || die "apt-get install npm failed"
    fi
    say "installing axe-core from testkit/package-lock.json (npm ci)"
    npm ci --prefix testkit --no-audit --no-fund >/dev/null || die "npm ci in testkit/ failed"
  fi
}

broker=1 browser=0
for arg in "$@"; do
  case "$arg" in
    --no-broker) broker=0 ;;
    --with-browser) browser=1 ;;
    *) die "unknown option $arg (usage: scripts/bootstrap.sh [--no-broker] [--with-browser])" ;;
  esac
done
setup_venv
if [ "$broker" = 1 ]; then setup_rabbitmq; fi
if [ "$browser" = 1 ]; then setup_browser; fi
