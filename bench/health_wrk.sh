#!/usr/bin/env bash
# Small-request throughput: `wrk -c32` on GET /health of mercatod versus nginx answering a
# static 200 on the same machine, in the same run. Prints a Markdown table.
#   bash bench/health_wrk.sh [DURATION_SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
DURATION=${1:-10}
BUILD=${MERCATO_BUILD_DIR:-../build}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

NGINX_PORT=$(port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx.conf" <<CONF
worker_processes auto;
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
nginx -c "$WORK/nginx.conf"

"$BUILD/bin/mercatod" --data-dir "$WORK/data" --listen 127.0.0.1:0 --log-level warn > "$WORK/mercatod.out" &
for _ in $(seq 100); do grep -q "listening on" "$WORK/mercatod.out" 2>/dev/null && break; sleep 0.1; done
MPORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/mercatod.out")

run() { wrk -t2 -c32 -d"${DURATION}s" --latency "$1" | awk '/Requests\/sec/{rps=$2} /50%/{p50=$2} /99%/{p99=$2} END{print rps, p50, p99}'; }
read -r M_RPS M_P50 M_P99 < <(run "http://127.0.0.1:$MPORT/health")
read -r N_RPS N_P50 N_P99 < <(run "http://127.0.0.1:$NGINX_PORT/")
echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "| server | requests/s | p50 | p99 |"
echo "| --- | --- | --- | --- |"
echo "| mercatod GET /health | $M_RPS | $M_P50 | $M_P99 |"
echo "| nginx static 200 | $N_RPS | $N_P50 | $N_P99 |"
python3 -c "print(f'| ratio mercatod/nginx | {float(\"$M_RPS\")/float(\"$N_RPS\"):.2f} | | |')"
