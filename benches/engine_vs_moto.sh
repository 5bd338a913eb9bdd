#!/usr/bin/env bash
# StartExecution throughput through the Step Functions JSON API, with durable writes,
# stepgate's local engine vs moto server, in the same run with the same load generator
# (the `engine` bench binary in loadgen mode: raw keep-alive HTTP/1.1 on one thread).
#
#   benches/engine_vs_moto.sh            # 3 rounds of 5 s per server, 64 concurrent clients
#   ROUNDS=5 SECONDS_PER_RUN=4 CONCURRENCY=256 benches/engine_vs_moto.sh
#   BASELINE=/dir benches/engine_vs_moto.sh   # also runs /dir/stepgate (an older build)
#   BINARIES=/dir benches/engine_vs_moto.sh   # no build: /dir/stepgate and /dir/loadgen
#
# All servers run at once; each round gives every server one slice of load in turn, so
# changes in the machine's load reach all alike. Per slice it prints starts per second,
# the server's CPU per start (utime+stime of the server process from /proc/<pid>/stat
# over the slice, executions included) and the load generator's CPU per request; at the
# end the per-round ratios to moto and their median. It then kills each stepgate with
# kill -9 and counts the executions on disk (at least the acknowledged starts).
#
# Needs: cargo, moto (`pip install "moto[server]>=5.2.5"`), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-5}"
ROUNDS="${ROUNDS:-3}"
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

# start_stepgate LABEL BINARY: a stepgate server with a durable store (WAL +
# synchronous=FULL, group commit); sets PID_<label> and URL_<label>.
start_stepgate() {
  local label=$1 binary=$2 pid
  "$binary" sfn --listen 127.0.0.1:0 --data-dir "$WORK/data-$label" \
    --state-machine "Bench=$WORK/machine.json" > "$WORK/$label.out" 2> "$WORK/$label.err" &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do grep -q listening "$WORK/$label.out" && break; sleep 0.1; done
  printf -v "PID_${label//-/_}" '%s' "$pid"
  printf -v "URL_${label//-/_}" '%s' "$(sed -n 's/^listening on //p' "$WORK/$label.out")/"
}

LABELS=()
if [ -n "${BASELINE:-}" ]; then
  cp "$BASELINE/stepgate" "$WORK/stepgate-baseline"
  start_stepgate stepgate-baseline "$WORK/stepgate-baseline"
  LABELS+=(stepgate-baseline)
fi
start_stepgate stepgate "$WORK/stepgate"
LABELS+=(stepgate)
STEPGATE_ARN=arn:aws:states:us-east-1:123456789012:stateMachine:Bench

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

# Interleaved rounds: every server gets one slice of load per round, so a change in the
# machine's load (other processes) reaches all of them alike; ratios are per round.
: > "$WORK/lines"
for round in $(seq "$ROUNDS"); do
  for label in "${LABELS[@]}"; do
    pid_var="PID_${label//-/_}"; url_var="URL_${label//-/_}"
    line="$(run_load "$label" "${!pid_var}" "${!url_var}" "$STEPGATE_ARN")"
    echo "round $round $line" | tee -a "$WORK/lines"
  done
  line="$(run_load moto "$MOTO_PID" "$MOTO_URL" "$MOTO_ARN")"
  echo "round $round $line" | tee -a "$WORK/lines"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Durability: kill -9, then count what is on disk.
for label in "${LABELS[@]}"; do
  pid_var="PID_${label//-/_}"
  kill -9 "${!pid_var}"; wait "${!pid_var}" 2>/dev/null || true
  echo "$label executions on disk after kill -9: $(python3 - "$WORK/data-$label/stepgate-engine.sqlite3" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from executions").fetchone()[0])
PY
) (acknowledged: $(awk -v l="$label" '$3 == l {split($4, a, "="); s += a[2]} END {print s}' "$WORK/lines"))"
done

python3 - "$WORK/lines" <<'PY'
import statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    _, r, label, rest = line.split(" ", 3)
    rounds.setdefault(int(r), {})[label] = dict(kv.split("=") for kv in rest.split())
labels = [l for l in next(iter(rounds.values())) if l != "moto"]
for label in labels:
    ratios = [float(f[label]["per_second"]) / float(f["moto"]["per_second"]) for f in rounds.values()]
    rates = [float(f[label]["per_second"]) for f in rounds.values()]
    cpus = [float(f[label]["server_cpu_us_per_start"]) for f in rounds.values()]
    motos = [float(f["moto"]["per_second"]) for f in rounds.values()]
    print(f"{label}: {statistics.median(rates):.0f}/s median ({min(rates):.0f}-{max(rates):.0f}), "
          f"{statistics.median(cpus):.1f} us server CPU per start median; moto {statistics.median(motos):.0f}/s median; "
          f"ratio {label}/moto per round: {', '.join(f'{x:.1f}x' for x in ratios)}; "
          f"median {statistics.median(ratios):.1f}x (goal >= 50x)")
PY
