#!/usr/bin/env bash
# CPU per request of stepgate vs a hyper hello-world, loaded by the same tool (wrk) in one
# run. stepgate serves benches/gateway_load/ (route + parameter validation + request
# template + mock integration + response template + response parameters).
#
#   benches/gateway_load.sh [SECONDS] [CONNECTIONS]
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
# CPU is the server process's utime+stime from /proc/<pid>/stat, before and after the load.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
CONNECTIONS="${2:-32}"
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

# run NAME URL -- COMMAND...: starts the server, loads it, prints one result line.
run() {
  local name="$1" port="$2"; shift 2
  "$@" >/dev/null 2>&1 &
  local pid=$!
  wait_port "$port"
  wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port/orders/42" >/dev/null   # warm-up
  local before; before=$(cpu_ticks "$pid")
  local out; out=$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$port/orders/42")
  local after; after=$(cpu_ticks "$pid")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local requests; requests=$(echo "$out" | awk '/requests in/ {print $1}')
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p99; p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  local us; us=$(awk -v t=$((after - before)) -v hz="$TICKS" -v n="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  printf '%-28s %10s req  %10s req/s  p99 %8s  CPU %7s us/req%s\n' "$name" "$requests" "$rps" "$p99" "$us" "${non2xx:+  NON-2XX: $non2xx}" >&2
  echo "$us"
}

echo "load: wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_RUN}s, $(nproc) cores"
P=$(free_port); HELLO_US=$(run "hyper hello-world" "$P" "$HELLO" "127.0.0.1:$P")
P=$(free_port); HELLO_MI_US=$(run "hello-world (mimalloc)" "$P" "$HELLO_MI" "127.0.0.1:$P")
P=$(free_port); QUIET_US=$(run "stepgate (access log off)" "$P" env RUST_LOG=warn "$STEPGATE" serve benches/gateway_load/stepgate.yaml --listen "127.0.0.1:$P" --sfn-listen off)
P=$(free_port); LOG_US=$(run "stepgate (access log on)" "$P" env RUST_LOG=info "$STEPGATE" serve benches/gateway_load/stepgate.yaml --listen "127.0.0.1:$P" --sfn-listen off)
if [ -n "${BASELINE:-}" ]; then
  cp "$BASELINE" "$BIN_DIR/baseline"
  P=$(free_port); BASE_US=$(run "baseline (access log off)" "$P" env RUST_LOG=warn "$BIN_DIR/baseline" serve benches/gateway_load/stepgate.yaml --listen "127.0.0.1:$P" --sfn-listen off)
  awk -v h="$HELLO_US" -v b="$BASE_US" -v q="$QUIET_US" 'BEGIN {
    printf "baseline: %.2fx hello-world; this build uses %.0f%% of the baseline CPU per request\n", b / h, 100 * q / b }'
fi
awk -v h="$HELLO_US" -v m="$HELLO_MI_US" -v q="$QUIET_US" -v l="$LOG_US" 'BEGIN {
  printf "CPU per request vs the stock hello-world: %.2fx (access log off), %.2fx (access log on); goal <= 2x\n", q / h, l / h
  printf "CPU per request vs the mimalloc hello-world: %.2fx (access log off), %.2fx (access log on)\n", q / m, l / m }'
