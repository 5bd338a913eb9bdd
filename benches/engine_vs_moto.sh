#!/usr/bin/env bash
# StartExecution throughput through the Step Functions JSON API, with durable writes,
# stepgate's local engine vs moto server, in the same run with the same load generator
# (the `engine` bench binary in loadgen mode).
#
#   benches/engine_vs_moto.sh            # 10 s per server, 64 concurrent clients
#   SECONDS_PER_RUN=5 CONCURRENCY=32 benches/engine_vs_moto.sh
#
# Needs: cargo, moto (`pip install "moto[server]>=5.2.5"`), curl.
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
BENCH="$WORK/loadgen"

cat > "$WORK/machine.json" <<'JSON'
{"StartAt": "Accept", "States": {"Accept": {"Type": "Pass", "Result": {"accepted": true}, "End": true}}}
JSON

# --- stepgate (durable store: WAL + synchronous=FULL, group commit) ---
"$WORK/stepgate" sfn --listen 127.0.0.1:0 --data-dir "$WORK/data" \
  --state-machine "Bench=$WORK/machine.json" > "$WORK/stepgate.out" 2> "$WORK/stepgate.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/stepgate.out" && break; sleep 0.1; done
STEPGATE_URL="$(sed -n 's/^listening on //p' "$WORK/stepgate.out")/"
echo "stepgate: $STEPGATE_URL" >&2
STEPGATE_RESULT="$(ENGINE_LOADGEN_URL="$STEPGATE_URL" ENGINE_LOADGEN_SECONDS="$SECONDS_PER_RUN" \
  ENGINE_LOADGEN_CONCURRENCY="$CONCURRENCY" \
  ENGINE_LOADGEN_STATE_MACHINE_ARN=arn:aws:states:us-east-1:123456789012:stateMachine:Bench "$BENCH")"
echo "stepgate $STEPGATE_RESULT"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
EXECUTIONS=$(python3 - "$WORK/data/stepgate-engine.sqlite3" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from executions").fetchone()[0])
PY
)
echo "stepgate executions on disk after shutdown: $EXECUTIONS"

# --- moto ---
MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$MOTO_PORT" > "$WORK/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null && break; sleep 0.2; done
MOTO_URL="http://127.0.0.1:$MOTO_PORT/"
AUTH='AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0'
MOTO_ARN=$(curl -s "$MOTO_URL" -H 'content-type: application/x-amz-json-1.0' \
  -H 'x-amz-target: AWSStepFunctions.CreateStateMachine' -H "authorization: $AUTH" \
  -d "$(python3 -c 'import json,sys; print(json.dumps({"name":"Bench","definition":open(sys.argv[1]).read(),"roleArn":"arn:aws:iam::123456789012:role/bench"}))' "$WORK/machine.json")" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')
MOTO_RESULT="$(ENGINE_LOADGEN_URL="$MOTO_URL" ENGINE_LOADGEN_SECONDS="$SECONDS_PER_RUN" \
  ENGINE_LOADGEN_CONCURRENCY="$CONCURRENCY" ENGINE_LOADGEN_STATE_MACHINE_ARN="$MOTO_ARN" "$BENCH")"
echo "moto $MOTO_RESULT"

python3 - "$STEPGATE_RESULT" "$MOTO_RESULT" <<'PY'
import sys
rate = lambda s: float(dict(kv.split("=") for kv in s.split())["per_second"])
a, b = rate(sys.argv[1]), rate(sys.argv[2])
print(f"ratio stepgate/moto = {a / b:.1f}x (goal >= 50x)")
PY
