#!/usr/bin/env bash
# StartExecution throughput through the Step Functions JSON API, with durable writes,
# stepgate's local engine vs moto server, in the same run with the same load generator
# (the `engine` bench binary in loadgen mode: raw keep-alive HTTP/1.1 on one thread).
#
#   benches/engine_vs_moto.sh            # 10 s per server, 64 concurrent clients
#   SECONDS_PER_RUN=5 CONCURRENCY=32 benches/engine_vs_moto.sh
#   BASELINE=/dir benches/engine_vs_moto.sh   # also runs /dir/stepgate (an older build)
#   BINARIES=/dir benches/engine_vs_moto.sh   # no build: /dir/stepgate and /dir/loadgen
#
# For each server it prints starts per second, the server's CPU per start (utime+stime
# of the server process from /proc/<pid>/stat over the run, executions included) and the
# load generator's CPU per request. For stepgate it then counts the executions on disk
# after kill -9 (they must be at least the acknowledged starts).
#
# Needs: cargo, moto (`pip install "moto[server]>=5.2.5"`), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
CONCURRENCY="${CONCURRENCY:-64}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${BINARIES:-}" ]; then
  cp "$BINARIES/stepgate" "$WORK/stepgate"
  cp "$BINARIES/loadgen" "$WORK/loadgen"
else
  # One build for both binaries; copy them at once (the target dir may be shared).
  cargo build --release --bin stepgate --bench engine --message-format=json-render-diagnostics \
    | python3 -c '
import json, sys, shutil
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        kind = m["target"]["kind"][0]
        if (kind, m["target"]["name"]) in (("bin", "stepgate"), ("bench", "engine")):
            shutil.copy(m["executable"], sys.argv[1] + ("/stepgate" if kind == "bin" else "/loadgen"))
' "$WORK"
fi
BENCH="$WORK/loadgen"

cat > "$WORK/machine.json" <<'JSON'
{"StartAt": "Accept", "States": {"Accept": {"Type": "Pass", "Result": {"accepted": true}, "End": true}}}
JSON

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_load LABEL PID URL ARN: the load, then "LABEL <loadgen line> server_cpu_us_per_start=<c>".
run_load() {
  local label=$1 pid=$2 url=$3 arn=$4 before after result started
  before=$(cpu_ticks "$pid")
  result="$(ENGINE_LOADGEN_URL="$url" ENGINE_LOADGEN_SECONDS="$SECONDS_PER_RUN" \
    ENGINE_LOADGEN_CONCURRENCY="$CONCURRENCY" ENGINE_LOADGEN_STATE_MACHINE_ARN="$arn" "$BENCH")"
  after=$(cpu_ticks "$pid")
  started=$(sed -n 's/.*started=\([0-9]*\).*/\1/p' <<<"$result")
  echo "$label $result server_cpu_us_per_start=$(python3 -c "print(f'{($after - $before) * 1e4 / max($started, 1):.1f}')")"
}

# stepgate_run LABEL BINARY: one stepgate server (durable store: WAL + synchronous=FULL,
# group commit), the load, kill -9, executions on disk.
stepgate_run() {
  local label=$1 binary=$2 data="$WORK/data-$1" pid url line
  "$binary" sfn --listen 127.0.0.1:0 --data-dir "$data" \
    --state-machine "Bench=$WORK/machine.json" > "$WORK/$label.out" 2> "$WORK/$label.err" &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do grep -q listening "$WORK/$label.out" && break; sleep 0.1; done
  url="$(sed -n 's/^listening on //p' "$WORK/$label.out")/"
  line="$(run_load "$label" "$pid" "$url" arn:aws:states:us-east-1:123456789012:stateMachine:Bench)"
  echo "$line"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  echo "$label executions on disk after kill -9: $(python3 - "$data/stepgate-engine.sqlite3" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from executions").fetchone()[0])
PY
)"
  RESULTS+=("$line")
}

RESULTS=()
if [ -n "${BASELINE:-}" ]; then
  cp "$BASELINE/stepgate" "$WORK/stepgate-baseline"
  stepgate_run stepgate-baseline "$WORK/stepgate-baseline"
fi
stepgate_run stepgate "$WORK/stepgate"

# --- moto ---
MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$MOTO_PORT" > "$WORK/moto.log" 2>&1 &
MOTO_PID=$!
PIDS+=("$MOTO_PID")
for _ in $(seq 100); do curl -s "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null && break; sleep 0.2; done
MOTO_URL="http://127.0.0.1:$MOTO_PORT/"
AUTH='AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0'
MOTO_ARN=$(curl -s "$MOTO_URL" -H 'content-type: application/x-amz-json-1.0' \
  -H 'x-amz-target: AWSStepFunctions.CreateStateMachine' -H "authorization: $AUTH" \
  -d "$(python3 -c 'import json,sys; print(json.dumps({"name":"Bench","definition":open(sys.argv[1]).read(),"roleArn":"arn:aws:iam::123456789012:role/bench"}))' "$WORK/machine.json")" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')
MOTO_LINE="$(run_load moto "$MOTO_PID" "$MOTO_URL" "$MOTO_ARN")"
echo "$MOTO_LINE"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$MOTO_LINE" "${RESULTS[@]}" <<'PY'
import sys
def fields(s):
    label, rest = s.split(" ", 1)
    return label, dict(kv.split("=") for kv in rest.split())
_, moto = fields(sys.argv[1])
for line in sys.argv[2:]:
    label, f = fields(line)
    ratio = float(f["per_second"]) / float(moto["per_second"])
    print(f"{label}: {f['per_second']}/s, {f['server_cpu_us_per_start']} us server CPU per start; "
          f"ratio {label}/moto = {ratio:.1f}x (goal >= 50x)")
PY
