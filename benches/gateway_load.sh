#!/usr/bin/env bash
# CPU per request of stepgate vs a hyper hello-world, loaded by the same tool (wrk) in one
# run. stepgate serves benches/gateway_load/ (route + parameter validation + request
# template + mock integration + response template + response parameters).
#
#   benches/gateway_load.sh [SECONDS] [CONNECTIONS]            # ROUNDS=3 by default
#   BASELINE=/path/to/older/stepgate benches/gateway_load.sh   # also loads an older build
#                                                              # (before/after in one run)
#   BINARIES=/dir benches/gateway_load.sh   # no build: /dir holds stepgate, hello_hyper and
#                                           # hello_hyper_mimalloc
#
# stepgate is built with its default `mimalloc` feature (mimalloc as global allocator), so the
# script loads two hello-worlds: the stock one (system allocator; the baseline of the issue's
# goal) and the same server with mimalloc, and prints the ratio against each.
#
# Needs wrk (apt-get install wrk). Builds in release into $CARGO_TARGET_DIR (default target/).
# CPU is the server process's utime+stime from /proc/<pid>/stat, before and after each load;
# the servers are loaded in turn, ROUNDS times, and the figures are totals over the rounds.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
CONNECTIONS="${2:-32}"
ROUNDS="${ROUNDS:-3}"
TARGET="${CARGO_TARGET_DIR:-target}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

BIN_DIR=$(mktemp -d)
trap 'rm -rf "$BIN_DIR"' EXIT
if [ -n "${BINARIES:-}" ]; then
  # Already built (a directory holding stepgate and hello_hyper).
  cp "$BINARIES/stepgate" "$BINARIES/hello_hyper" "$BINARIES/hello_hyper_mimalloc" "$BIN_DIR/"
else
  cargo build --release --quiet --bin stepgate --example hello_hyper --example hello_hyper_mimalloc
  # Copy the binaries at once: a shared target dir may be rebuilt from another checkout.
  cp "$TARGET/release/stepgate" "$TARGET/release/examples/hello_hyper" \
    "$TARGET/release/examples/hello_hyper_mimalloc" "$BIN_DIR/"
fi
STEPGATE="$BIN_DIR/stepgate"
HELLO="$BIN_DIR/hello_hyper"
HELLO_MI="$BIN_DIR/hello_hyper_mimalloc"
"$STEPGATE" serve --help | grep -q -- --sfn-listen || { echo "$STEPGATE is not this checkout's build" >&2; exit 1; }
TICKS=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2; return 1
}

# start NAME PORT COMMAND...: starts a server in the background and registers it.
NAMES=(); PORTS=(); PIDS=()
start() {
  local name="$1" port="$2"; shift 2
  "$@" >/dev/null 2>&1 &
  PIDS+=("$!"); NAMES+=("$name"); PORTS+=("$port")
  wait_port "$port"
}
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$BIN_DIR"
}
trap cleanup EXIT

P=$(free_port); start "hyper hello-world" "$P" "$HELLO" "127.0.0.1:$P"
P=$(free_port); start "hello-world (mimalloc)" "$P" "$HELLO_MI" "127.0.0.1:$P"
P=$(free_port); start "stepgate (access log off)" "$P" env RUST_LOG=warn "$STEPGATE" serve benches/gateway_load/stepgate.yaml --listen "127.0.0.1:$P" --sfn-listen off
P=$(free_port); start "stepgate (access log on)" "$P" env RUST_LOG=info "$STEPGATE" serve benches/gateway_load/stepgate.yaml --listen "127.0.0.1:$P" --sfn-listen off
if [ -n "${BASELINE:-}" ]; then
  cp "$BASELINE" "$BIN_DIR/baseline"
  P=$(free_port); start "baseline (access log off)" "$P" env RUST_LOG=warn "$BIN_DIR/baseline" serve benches/gateway_load/stepgate.yaml --listen "127.0.0.1:$P" --sfn-listen off
fi

# All servers run at once (idle ones cost nothing); each round loads each server in turn, so
# load from other processes on the machine falls on every server alike.
echo "load: wrk -t1 -c$CONNECTIONS, $ROUNDS interleaved rounds of ${SECONDS_PER_RUN}s per server, $(nproc) cores"
N=${#PIDS[@]}
declare -a TICKS_USED REQUESTS P99
for i in $(seq 0 $((N - 1))); do
  TICKS_USED[i]=0; REQUESTS[i]=0
  wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:${PORTS[i]}/orders/42" >/dev/null   # warm-up
done
for _ in $(seq 1 "$ROUNDS"); do
  for i in $(seq 0 $((N - 1))); do
    before=$(cpu_ticks "${PIDS[i]}")
    out=$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:${PORTS[i]}/orders/42")
    after=$(cpu_ticks "${PIDS[i]}")
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    [ -z "$non2xx" ] || { echo "${NAMES[i]}: $non2xx non-2xx answers" >&2; exit 1; }
    TICKS_USED[i]=$((TICKS_USED[i] + after - before))
    REQUESTS[i]=$((REQUESTS[i] + $(echo "$out" | awk '/requests in/ {print $1}')))
    P99[i]=$(echo "$out" | awk '$1=="99%" {print $2}')
  done
done

declare -a US
for i in $(seq 0 $((N - 1))); do
  US[i]=$(awk -v t="${TICKS_USED[i]}" -v hz="$TICKS" -v n="${REQUESTS[i]}" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  rps=$(awk -v n="${REQUESTS[i]}" -v s=$((ROUNDS * SECONDS_PER_RUN)) 'BEGIN {printf "%.0f", n / s}')
  printf '%-28s %10s req  %8s req/s  p99 (last round) %8s  CPU %7s us/req\n' "${NAMES[i]}" "${REQUESTS[i]}" "$rps" "${P99[i]}" "${US[i]}"
done
HELLO_US=${US[0]}; HELLO_MI_US=${US[1]}; QUIET_US=${US[2]}; LOG_US=${US[3]}
if [ -n "${BASELINE:-}" ]; then
  awk -v h="$HELLO_US" -v b="${US[4]}" -v q="$QUIET_US" 'BEGIN {
    printf "baseline: %.2fx the stock hello-world; this build uses %.0f%% of the baseline CPU per request\n", b / h, 100 * q / b }'
fi
awk -v h="$HELLO_US" -v m="$HELLO_MI_US" -v q="$QUIET_US" -v l="$LOG_US" 'BEGIN {
  printf "CPU per request vs the stock hello-world: %.2fx (access log off), %.2fx (access log on); goal <= 2x\n", q / h, l / h
  printf "CPU per request vs the mimalloc hello-world: %.2fx (access log off), %.2fx (access log on)\n", q / m, l / m }'
