#!/usr/bin/env bash
# Small-request throughput: `wrk -c32` on GET /health of mercatod versus nginx answering a
# static 200 on the same machine, in the same run. The two take turns (ROUNDS rounds of
# DURATION seconds each), so they see the same machine load; prints the medians as a
# Markdown table with the ratios mercatod/nginx.
#   MERCATO_BUILD_DIR=build bash bench/health_wrk.sh [DURATION_SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")"
DURATION=${1:-4}
ROUNDS=${2:-3}
BUILD=${MERCATO_BUILD_DIR:-../build}
WORK=$(mktemp -d)
cleanup() {
  [ -n "${MPID:-}" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# Two workers: mercatod runs one event-loop thread per core (2 here).
NGINX_PORT=$(port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NGINX_PORT; location / { return 200 '{"status":"ok"}'; } }
}
CONF
nginx -e "$WORK/nginx/error.log" -c "$WORK/nginx.conf"

"$BUILD/bin/mercatod" --data-dir "$WORK/data" --listen 127.0.0.1:0 --log-level warn \
  > "$WORK/mercatod.out" 2> "$WORK/mercatod.err" &
MPID=$!
for _ in $(seq 300); do grep -q "listening on" "$WORK/mercatod.out" 2>/dev/null && break; sleep 0.1; done
MPORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/mercatod.out")
[ -n "$MPORT" ] || { echo "mercatod did not start" >&2; cat "$WORK/mercatod.err" >&2; exit 1; }
curl -sf "http://127.0.0.1:$MPORT/health" > /dev/null
curl -sf "http://127.0.0.1:$NGINX_PORT/" > /dev/null

# One wrk run -> "requests/s p50 p99 non2xx" with latencies in ms.
run() {
  wrk -t2 -c32 -d"${DURATION}s" --latency "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
    /Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $5 } /Socket errors/ { bad = bad "+socket" }
    END { print rps, p50, p99, (bad == "" ? 0 : bad) }'
}
for _ in $(seq "$ROUNDS"); do
  echo "mercatod $(run "http://127.0.0.1:$MPORT/health")" >> "$WORK/results"
  echo "nginx $(run "http://127.0.0.1:$NGINX_PORT/")" >> "$WORK/results"
done

echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t2 -c32, $ROUNDS rounds x ${DURATION} s each, alternating; medians"
echo
python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99, bad = line.split()
    if bad != "0":
        sys.exit(f"{name}: failed requests: {line}")
    rows.setdefault(name, []).append((float(rps), float(p50), float(p99)))
med = {n: [statistics.median(r[i] for r in v) for i in range(3)] for n, v in rows.items()}
print("| server | requests/s | p50 | p99 |")
print("| --- | --- | --- | --- |")
labels = {"mercatod": "mercatod GET /health", "nginx": "nginx static 200"}
for n in ("mercatod", "nginx"):
    rps, p50, p99 = med[n]
    print(f"| {labels[n]} | {rps:.0f} | {p50:.3f} ms | {p99:.3f} ms |")
m, x = med["mercatod"], med["nginx"]
print(f"| ratio mercatod/nginx | {m[0] / x[0]:.2f} | {m[1] / x[1]:.2f} | {m[2] / x[2]:.2f} |")
PY
