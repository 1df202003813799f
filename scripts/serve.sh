#!/usr/bin/env bash
# `make serve`: run the hourly schedule for real on this machine.
#
# Starts a local Prefect server on 127.0.0.1 (background, log in data/prefect-server.log),
# creates the `newsflow-process` work pool if missing, deploys everything in prefect.yaml (the
# hourly ingest, the backfill fan-out's shard and commit deployments) and
# runs a process worker until Ctrl-C, which stops the worker (and any run in progress) and
# then the server.
#
# Prefect's state for this instance (its SQLite database, profiles) lives in
# data/prefect-home, so the user's ~/.prefect is never touched.
#
# Environment:
#   NEWSFLOW_PREFECT_PORT   server port (default 4200)
#   NEWSFLOW_PREFECT_HOME   Prefect home for the served instance (default data/prefect-home)
#   NEWSFLOW_PREFECT_LOG    server log file (default data/prefect-server.log)
#   NEWSFLOW_*              passed through to the flow runs (see schemas/settings.py)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${VENV:-.venv}"
PREFECT="$ROOT/$VENV/bin/prefect"
PYTHON="$ROOT/$VENV/bin/python"
PORT="${NEWSFLOW_PREFECT_PORT:-4200}"
POOL="newsflow-process"
LOG="${NEWSFLOW_PREFECT_LOG:-$ROOT/data/prefect-server.log}"
STARTUP_TIMEOUT="${NEWSFLOW_PREFECT_STARTUP_TIMEOUT:-120}"

if [[ ! -x "$PREFECT" ]]; then
    echo "serve: $PREFECT not found; run 'make venv' first" >&2
    exit 1
fi

mkdir -p "$ROOT/data" "$(dirname "$LOG")"
export PREFECT_HOME="${NEWSFLOW_PREFECT_HOME:-$ROOT/data/prefect-home}"
mkdir -p "$PREFECT_HOME"
export PREFECT_API_URL="http://127.0.0.1:${PORT}/api"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export DO_NOT_TRACK=1
# The CLI must never prompt: this script runs unattended.
export PREFECT_CLI_PROMPT=false

api_healthy() {
    "$PYTHON" - "$PREFECT_API_URL/health" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as resp:
    sys.exit(0 if resp.status == 200 else 1)
PY
}

if api_healthy; then
    echo "serve: something already answers on 127.0.0.1:${PORT}; stop it or set NEWSFLOW_PREFECT_PORT" >&2
    exit 1
fi

SERVER_PID=""
WORKER_PID=""

# Wait up to $2 seconds for process $1 to end; true if it did.
wait_gone() {
    local pid=$1 ticks=$(($2 * 5))
    while ((ticks-- > 0)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    ! kill -0 "$pid" 2>/dev/null
}

# Stop a process group we started (leader $1): signal $3 to the leader, then TERM and at last
# KILL to the whole group, so a flow run the worker spawned goes too.
stop_group() {
    local pid=$1 what=$2 first=$3
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
        return 0
    fi
    echo "serve: stopping $what (pid $pid)"
    kill "-$first" "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 20; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 5; then
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    fi
    kill -TERM -- "-$pid" 2>/dev/null || true # stragglers left in the group
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_group "$WORKER_PID" "worker" INT
    stop_group "$SERVER_PID" "Prefect server" TERM
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Server and worker each run in their own process group (job control on just for the
# launch): Ctrl-C reaches only this script, whose trap stops the worker first, gracefully,
# and the server last. It also keeps bash from starting them with SIGINT ignored.
echo "serve: starting Prefect server on 127.0.0.1:${PORT} (log: ${LOG#"$ROOT"/})"
set -m
"$PREFECT" server start --host 127.0.0.1 --port "$PORT" >>"$LOG" 2>&1 &
SERVER_PID=$!
set +m

deadline=$((SECONDS + STARTUP_TIMEOUT))
until api_healthy; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "serve: Prefect server exited during start-up; last lines of $LOG:" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "serve: Prefect server not healthy after ${STARTUP_TIMEOUT}s; see $LOG" >&2
        exit 1
    fi
    sleep 1
done
echo "serve: server ready at http://127.0.0.1:${PORT} (UI and API)"

# Prefect's own output for the set-up steps (its boxes, hints and any traceback) goes to the
# deploy log; this script prints one line per step.
DEPLOY_LOG="${NEWSFLOW_PREFECT_DEPLOY_LOG:-$(dirname "$LOG")/prefect-deploy.log}"
: >"$DEPLOY_LOG"

if ! "$PREFECT" work-pool inspect "$POOL" >/dev/null 2>&1; then
    if ! "$PREFECT" work-pool create "$POOL" --type process >>"$DEPLOY_LOG" 2>&1; then
        echo "serve: could not create work pool '$POOL'; last lines of $DEPLOY_LOG:" >&2
        tail -n 15 "$DEPLOY_LOG" >&2 || true
        exit 1
    fi
    echo "serve: created work pool '$POOL' (process)"
fi

# prefect 3.8.8 + fastapi 0.154: after creating a deployment, `prefect deploy` asks for the
# pool's online workers to print a hint, the server rejects that request (422, null
# limit/offset) and the command exits 1 with a traceback, which stays in the deploy log; with
# `--all` it stops there, after the first deployment. So each deployment of prefect.yaml is
# deployed by name, and exactly that 422 is tolerated; anything else fails.
NAMES="$("$PYTHON" -c 'import sys, yaml; print(" ".join(d["name"] for d in yaml.safe_load(open(sys.argv[1]))["deployments"]))' prefect.yaml)"
DEPLOYED=()
for name in $NAMES; do
    STEP_LOG="$(mktemp)"
    if COLUMNS=300 "$PREFECT" --no-prompt deploy --name "$name" >"$STEP_LOG" 2>&1 \
        || { grep -q "successfully created" "$STEP_LOG" && grep -q "workers/filter" "$STEP_LOG"; }; then
        DEPLOYED+=("$(sed -n "s/.*Deployment '\([^']*\)' successfully created.*/\1/p" "$STEP_LOG" | head -n 1)")
        cat "$STEP_LOG" >>"$DEPLOY_LOG"
        rm -f "$STEP_LOG"
    else
        cat "$STEP_LOG" >>"$DEPLOY_LOG"
        rm -f "$STEP_LOG"
        echo "serve: prefect deploy of '$name' failed; last lines of $DEPLOY_LOG:" >&2
        tail -n 15 "$DEPLOY_LOG" >&2 || true
        exit 1
    fi
done
printf -v LISTED '%s, ' "${DEPLOYED[@]}"
echo "serve: deployed ${LISTED%, } (prefect's output in $DEPLOY_LOG; its known 422 on a worker hint ignored)"

echo "serve: worker polling '$POOL'; hourly-ingest runs at minute 0 (UTC). Ctrl-C to stop."
set -m
"$PREFECT" worker start --pool "$POOL" --type process &
WORKER_PID=$!
set +m
wait "$WORKER_PID"
