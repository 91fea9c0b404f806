# shellcheck shell=bash
# scripts/lib/emulator.sh -- helpers for running soc2-evidence against a local AWS emulator: the
# test emulator scripts/emulator/server.py (moto plus the calls moto lacks), or stock moto.
#
# Sourced, not executed:   source "$REPO/scripts/lib/emulator.sh"
# Sourcing it turns on strict mode (set -euo pipefail) in the caller and sets REPO to the
# repository root. Functions:
#   ensure_venv            create $REPO/.venv with moto[server] (and boto3) if needed; exports
#                          SOC2_MOTO_SERVER, SOC2_PYTHON and SOC2_EMULATOR_SERVER (the test
#                          emulator's server.py, run as "$SOC2_PYTHON" "$SOC2_EMULATOR_SERVER"
#                          -H 127.0.0.1 -p PORT)
#   free_port              print a free TCP port on 127.0.0.1
#   start_emulator         start the emulator on 127.0.0.1:<free port> in the background; sets
#                          EMULATOR_PID, exports EMULATOR_URL; waits until it answers. By default
#                          the test emulator (scripts/emulator/server.py, moto in-process behind a
#                          wrapper; README "The test emulator"); SOC2_EMULATOR=moto starts stock
#                          moto_server instead
#   stop_emulator          stop the emulator started by start_emulator (only that pid); idempotent
#   use_dummy_credentials  point the AWS SDKs at dummy credentials so nothing real is ever reached
#
# Callers must install the cleanup themselves, in the same shell that calls start_emulator
# (not in a subshell or command substitution, or EMULATOR_PID is lost):
#   trap stop_emulator EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
#
# Knobs (environment): PYTHON3 (interpreter used to create the venv, default python3),
# SOC2_EMULATOR_TIMEOUT (seconds to wait for readiness, default 30), SOC2_EMULATOR (`emulator`,
# the default, or `moto`).

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export REPO

MOTO_REQUIREMENT='moto[server]>=5.1,<6'

_emu_log() { printf '%s\n' "$*" >&2; }
_emu_die() {
    printf 'error: %s\n' "$*" >&2
    return 1
}

# Does the venv at $1 have a working python with moto's server, boto3 and botocore (whose
# service models the test emulator reads), and a moto_server script?
_venv_ready() {
    local venv="$1"
    [[ -x "$venv/bin/moto_server" && -x "$venv/bin/python" ]] &&
        "$venv/bin/python" -c 'import moto, moto.server, boto3, botocore, werkzeug' >/dev/null 2>&1
}

ensure_venv() {
    local venv="$REPO/.venv"
    local py="${PYTHON3:-python3}"

    if ! _venv_ready "$venv"; then
        command -v "$py" >/dev/null 2>&1 ||
            _emu_die "ensure_venv: '$py' not found; python 3.9+ is needed to install the moto emulator" ||
            return 1
        # Serialise concurrent installs into the same venv (e.g. two scripts started at once).
        local lock
        lock="${TMPDIR:-/tmp}/soc2-evidence-venv-$(printf '%s' "$venv" | cksum | cut -d' ' -f1).lock"
        (
            if command -v flock >/dev/null 2>&1; then
                exec 9>"$lock"
                flock 9
            fi
            _venv_ready "$venv" && exit 0 # another process finished it while we waited

            if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
                local venv_out
                if ! venv_out="$("$py" -m venv --clear "$venv" 2>&1)"; then
                    printf '%s\n' "$venv_out" >&2
                    _emu_die "ensure_venv: '$py -m venv $venv' failed (on Debian/Ubuntu the python3-venv package provides ensurepip)"
                    exit 1
                fi
            fi

            _emu_log "ensure_venv: installing $MOTO_REQUIREMENT into $venv (quiet; takes a minute the first time)..."
            local pip_log
            pip_log="$(mktemp "${TMPDIR:-/tmp}/soc2-pip.XXXXXX")"
            if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
                "$MOTO_REQUIREMENT" >"$pip_log" 2>&1; then
                tail -n 30 "$pip_log" >&2
                rm -f "$pip_log"
                _emu_die "ensure_venv: pip install '$MOTO_REQUIREMENT' into $venv failed (see pip output above; is PyPI reachable?)"
                exit 1
            fi
            rm -f "$pip_log"
            _venv_ready "$venv" || {
                _emu_die "ensure_venv: pip succeeded but $venv/bin/moto_server or 'import moto, moto.server, boto3, botocore, werkzeug' is still missing"
                exit 1
            }
        ) || return 1
    fi

    export SOC2_MOTO_SERVER="$venv/bin/moto_server"
    export SOC2_PYTHON="$venv/bin/python"
    export SOC2_EMULATOR_SERVER="$REPO/scripts/emulator/server.py"
}

free_port() {
    "${SOC2_PYTHON:-${PYTHON3:-python3}}" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
'
}

# Exit 0 if $1 answers an HTTP GET (any status), non-zero otherwise.
_emu_probe() {
    "$SOC2_PYTHON" - "$1" >/dev/null 2>&1 <<'PY'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1).read()
except urllib.error.HTTPError:
    pass  # the server answered
PY
}

start_emulator() {
    [[ -n "${SOC2_MOTO_SERVER:-}" && -n "${SOC2_PYTHON:-}" ]] ||
        _emu_die "start_emulator: call ensure_venv first (SOC2_MOTO_SERVER/SOC2_PYTHON unset)" || return 1
    if [[ -n "${EMULATOR_PID:-}" ]] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
        _emu_die "start_emulator: an emulator is already running (pid $EMULATOR_PID at ${EMULATOR_URL:-?})"
        return 1
    fi

    local kind="${SOC2_EMULATOR:-emulator}"
    local -a server
    case "$kind" in
    emulator) server=("$SOC2_PYTHON" "${SOC2_EMULATOR_SERVER:-$REPO/scripts/emulator/server.py}") ;;
    moto) server=("$SOC2_MOTO_SERVER") ;;
    *)
        _emu_die "start_emulator: SOC2_EMULATOR must be 'emulator' (the default) or 'moto', not '$kind'"
        return 1
        ;;
    esac
    local name
    name="$(basename "${server[-1]}")"

    local timeout="${SOC2_EMULATOR_TIMEOUT:-30}"
    local attempt port deadline
    for attempt in 1 2 3; do
        port="$(free_port)"
        EMULATOR_LOG="$(mktemp "${TMPDIR:-/tmp}/soc2-moto.XXXXXX")"
        MOTO_EC2_LOAD_DEFAULT_AMIS=false "${server[@]}" -H 127.0.0.1 -p "$port" \
            </dev/null >"$EMULATOR_LOG" 2>&1 &
        EMULATOR_PID=$!
        export EMULATOR_URL="http://127.0.0.1:$port"

        deadline=$((SECONDS + timeout))
        while :; do
            if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
                local rc=0
                wait "$EMULATOR_PID" 2>/dev/null || rc=$?
                EMULATOR_PID=
                if [[ $attempt -lt 3 ]] && grep -qi 'address already in use' "$EMULATOR_LOG"; then
                    _emu_log "start_emulator: port $port was taken, retrying on another port"
                    rm -f "$EMULATOR_LOG"
                    continue 2
                fi
                _emu_log "--- $name log ($EMULATOR_LOG), last 40 lines ---"
                tail -n 40 "$EMULATOR_LOG" >&2 || true
                _emu_die "start_emulator: $name exited with status $rc before becoming ready on $EMULATOR_URL"
                return 1
            fi
            if _emu_probe "$EMULATOR_URL/moto-api/"; then
                _emu_log "start_emulator: $name ready at $EMULATOR_URL (pid $EMULATOR_PID, log $EMULATOR_LOG)"
                return 0
            fi
            if ((SECONDS >= deadline)); then
                _emu_log "--- $name log ($EMULATOR_LOG), last 40 lines ---"
                tail -n 40 "$EMULATOR_LOG" >&2 || true
                stop_emulator
                _emu_die "start_emulator: $name did not answer GET $EMULATOR_URL/moto-api/ within ${timeout}s"
                return 1
            fi
            sleep 0.2
        done
    done
    _emu_die "start_emulator: could not start $name after 3 attempts"
}

stop_emulator() {
    local pid="${EMULATOR_PID:-}"
    EMULATOR_PID=
    if [[ -n "$pid" ]]; then
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do # up to ~10 s for a clean exit
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            if kill -0 "$pid" 2>/dev/null; then
                _emu_log "stop_emulator: pid $pid ignored SIGTERM, sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        wait "$pid" 2>/dev/null || true
    fi
    if [[ -n "${EMULATOR_LOG:-}" ]]; then
        rm -f "$EMULATOR_LOG"
        EMULATOR_LOG=
    fi
    return 0
}

use_dummy_credentials() {
    export AWS_ACCESS_KEY_ID=testing
    export AWS_SECRET_ACCESS_KEY=testing
    unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
    export AWS_DEFAULT_REGION=us-east-1
    export AWS_REGION=us-east-1
    export AWS_EC2_METADATA_DISABLED=true
    unset AWS_PROFILE AWS_DEFAULT_PROFILE
    # Nothing else in the credential/endpoint chain may lead anywhere real.
    unset AWS_ENDPOINT_URL AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_SESSION_NAME \
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
        AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
    export AWS_CONFIG_FILE=/dev/null
    export AWS_SHARED_CREDENTIALS_FILE=/dev/null
}
