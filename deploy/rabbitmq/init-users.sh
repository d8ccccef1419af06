#!/usr/bin/env bash
# Set the passwords of the AMQP users declared in definitions.json.
#
# Why: definitions.json is committed, so its users carry no password (empty
# password_hash, i.e. they cannot log in). This one-shot runs in the
# `rabbitmq-init` compose service (same rabbitmq image) after the broker is
# healthy and sets each password from an environment variable (.env), with
# `rabbitmqctl change_password`. rabbitmqctl authenticates to the node with the
# Erlang cookie, which it reads from the broker's data volume (mounted
# read-only at $HOME=/var/lib/rabbitmq); the script runs as the `rabbitmq` user,
# the owner of the cookie file.
#
# Usage: init-users.sh USER=ENV_VAR [USER=ENV_VAR ...]
#   e.g. init-users.sh intake=INTAKE_AMQP_PASSWORD partner-example=PARTNER_EXAMPLE_AMQP_PASSWORD
# Env:   TARGET_NODE  node to configure (default rabbit@rabbitmq)
#
# Idempotent: re-running just sets the same passwords again. Passwords are
# passed on stdin (not argv); rabbitmqctl trims surrounding whitespace.
set -euo pipefail

node="${TARGET_NODE:-rabbit@rabbitmq}"

if [ "$#" -eq 0 ]; then
    echo "usage: $0 USER=ENV_VAR [USER=ENV_VAR ...]" >&2
    exit 64
fi

ctl() {
    rabbitmqctl --node "$node" --quiet "$@"
}

echo "rabbitmq-init: waiting for ${node} to finish booting (definitions import included)"
ctl await_startup --timeout 120

failed=0
for pair in "$@"; do
    user="${pair%%=*}"
    var="${pair#*=}"
    if [ -z "$user" ] || [ "$user" = "$pair" ] || ! [[ "$var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        echo "rabbitmq-init: bad argument '${pair}', expected USER=ENV_VAR" >&2
        failed=1
        continue
    fi
    password="${!var:-}"
    if [ -z "$password" ]; then
        echo "rabbitmq-init: ${var} is empty; user '${user}' keeps no password" >&2
        failed=1
        continue
    fi
    # The user comes from the definitions import; retry briefly in case the
    # import is still running.
    ok=0
    for _ in $(seq 1 15); do
        if printf '%s\n' "$password" | ctl change_password "$user" >/dev/null; then
            ok=1
            break
        fi
        sleep 2
    done
    if [ "$ok" -eq 1 ]; then
        echo "rabbitmq-init: password set for user '${user}'"
    else
        echo "rabbitmq-init: could not set the password of user '${user}' (is it in definitions.json?)" >&2
        failed=1
    fi
done

exit "$failed"
