#!/usr/bin/env bash
# `make run`: starts mercatod with its data in DATA_DIR, pushes the built-in XGBoost image
# into the operator's account as mercato/xgboost:1 (unless it is already there), seeds the
# demo marketplace (scripts/seed_demo.py), then keeps mercatod in the foreground until Ctrl-C
# (SIGINT/SIGTERM are forwarded to it).
set -euo pipefail
BUILD_DIR=${1:-build}
DATA_DIR=${2:-./.mercato-data}
LISTEN=${3:-127.0.0.1:8600}
XGBOOST_IMAGE="${BUILD_DIR}/images/mercato-xgboost.tar"

echo "Starting mercatod on http://${LISTEN} with data in ${DATA_DIR} (Ctrl-C to stop)"
mkdir -p "${DATA_DIR}"
LOG="${DATA_DIR}/mercatod.out"
: > "${LOG}"
"${BUILD_DIR}/bin/mercatod" --data-dir "${DATA_DIR}" --listen "${LISTEN}" > >(tee -a "${LOG}") 2>&1 &
MERCATOD_PID=$!
forward() { kill -s "$1" "${MERCATOD_PID}" 2>/dev/null || true; }
trap 'forward INT' INT
trap 'forward TERM' TERM

# Wait (at most 60 s) for the listener.
for _ in $(seq 1 600); do
  grep -q "listening on" "${LOG}" && break
  kill -0 "${MERCATOD_PID}" 2>/dev/null || { wait "${MERCATOD_PID}"; exit $?; }
  sleep 0.1
done

TOKEN=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["token"])' \
  "${DATA_DIR}/admin-credentials")
CLI=("${BUILD_DIR}/bin/mercato" --endpoint "http://${LISTEN}" --token "${TOKEN}")
if [ -f "${XGBOOST_IMAGE}" ]; then
  if "${CLI[@]}" image describe mercato/xgboost:1 > /dev/null 2>&1; then
    echo "mercato/xgboost:1 is already in the operator's account"
  else
    echo "Pushing the built-in XGBoost image as mercato/xgboost:1"
    "${CLI[@]}" image push "${XGBOOST_IMAGE}" --name mercato/xgboost:1 || true
  fi
else
  echo "warning: ${XGBOOST_IMAGE} not found; the XGBoost image was not pushed" >&2
fi

# The demo marketplace: a seller with two validated, listed products and a buyer with an
# endpoint in service (scripts/seed_demo.py; seeded once per data dir).
if [ -f "${XGBOOST_IMAGE}" ]; then
  echo "Seeding the demo marketplace (first start only; about a minute) ..."
  python3 "$(dirname "$0")/seed_demo.py" "http://${LISTEN}" "${DATA_DIR}" "${XGBOOST_IMAGE}" \
    "$(cd "$(dirname "$0")/.." && pwd)" || echo "warning: seeding the demo marketplace failed" >&2
fi

echo "Operator credentials are in ${DATA_DIR}/admin-credentials"
echo "Try:  export MERCATO_TOKEN=\$(python3 -c 'import json;print(json.load(open(\"${DATA_DIR}/admin-credentials\"))[\"token\"])')"
echo "      ${BUILD_DIR}/bin/mercato --endpoint http://${LISTEN} image list"

# `wait` returns early when a trapped signal arrives; keep waiting until mercatod is gone.
status=0
while kill -0 "${MERCATOD_PID}" 2>/dev/null; do
  wait "${MERCATOD_PID}" && status=0 || status=$?
done
exit "${status}"
