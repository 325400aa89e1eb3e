"""Metering: the invocation router's throughput with inference metering on versus off.

    MERCATO_BUILD_DIR=build python3 bench/router_metering.py [--duration 4] [--rounds 3]

Needs root (the sandbox) and wrk. Everything listens on 127.0.0.1.

One mercatod, one endpoint (the built-in XGBoost image with an Iris model, as in
hosting_router.py), `wrk` POSTing one CSV row at 1 and 32 connections. Between runs the
operator flips inference metering with PUT /api/v1/admin/metering {"InferenceMetering": ...}
(MERCATO_METERING=off does the same at start-up), so both modes are measured in ONE run of
the same process on the same endpoint, taking turns (on, off, off, on, ... so neither mode
always goes first); medians over rounds are reported with the ratio on/off (goal >= 0.97).

Instance-time metering (the 1 s tick) runs in both modes; only the per-request observer
differs. At the end the script reads GET /api/v1/usage and compares the inferences metered
with the 2xx responses wrk counted in the "on" runs, which shows whether the router calls the
observer at all (if it reports 0, the router is not wired to metering and the ratio
measures nothing).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config

from common import Mercatod, machine, median, row
from hosting_router import BODY, CONTAINER_ENV, IMAGE_TAR, post, train_model, wait_status


def call(server, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, method=method, data=data,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def run_wrk(url, conns, duration, script):
    out = subprocess.run(
        ["wrk", f"-t{min(conns, 2)}", f"-c{conns}", f"-d{duration}s", "--timeout", "5s",
         "-s", script, url],
        check=True, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    if re.search(r"Non-2xx or 3xx responses", out) or re.search(r"Socket errors", out):
        raise RuntimeError(f"wrk against {url} saw failures:\n{out}")
    return rps, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mercato-bench-metering-")
    server = None
    results = {}
    sent_on = 0
    try:
        _, model_tar = train_model(work)
        server = Mercatod()
        admin = server.admin["token"]
        creds = call(server, admin, "POST", "/api/v1/accounts", {"name": "bench"})
        with open(IMAGE_TAR, "rb") as f:
            post(server.url + "/api/v1/images?name=mercato-xgboost:latest", f.read(),
                 {"Authorization": "Bearer " + creds["token"], "Content-Type": "application/x-tar"},
                 timeout=300)
        session = boto3.session.Session(aws_access_key_id=creds["access_key_id"],
                                        aws_secret_access_key=creds["secret_access_key"],
                                        region_name="local")
        cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
        s3 = session.client("s3", endpoint_url=server.url, config=cfg)
        sm = session.client("sagemaker", endpoint_url=server.url, config=cfg)
        s3.create_bucket(Bucket="models")
        s3.upload_file(model_tar, "models", "iris/model.tar.gz")
        sm.create_model(ModelName="iris", PrimaryContainer={
            "Image": "mercato-xgboost:latest", "ModelDataUrl": "s3://models/iris/model.tar.gz",
            "Environment": CONTAINER_ENV})
        sm.create_endpoint_config(EndpointConfigName="iris", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "iris", "InitialInstanceCount": 1,
            "InstanceType": "ml.t2.medium"}])
        sm.create_endpoint(EndpointName="bench", EndpointConfigName="iris")
        wait_status(sm, "bench", "InService", timeout=120)
        script = os.path.join(work, "post.lua")
        with open(script, "w") as f:
            f.write(f'wrk.method = "POST"\nwrk.body = "{BODY}"\n'
                    'wrk.headers["Content-Type"] = "text/csv"\n'
                    f'wrk.headers["Authorization"] = "Bearer {creds["token"]}"\n')
        url = f"{server.url}/endpoints/bench/invocations"
        headers = {"Content-Type": "text/csv", "Authorization": "Bearer " + creds["token"]}
        post(url, BODY.encode(), headers)  # warm the connection pool
        for r in range(args.rounds):
            for conns in (1, 32):
                order = ("on", "off") if r % 2 == 0 else ("off", "on")
                for mode in order:
                    call(server, admin, "PUT", "/api/v1/admin/metering",
                         {"InferenceMetering": mode == "on"})
                    rps, total = run_wrk(url, conns, args.duration, script)
                    results.setdefault((conns, mode), []).append(rps)
                    if mode == "on":
                        sent_on += total
        call(server, admin, "PUT", "/api/v1/admin/metering", {"InferenceMetering": True})
        time.sleep(2.5)  # two ticks: the last counts are flushed
        usage = call(server, creds["token"], "GET", "/api/v1/usage")
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    metered = sum(r["Quantity"] for r in usage["Rows"] if r["Use"] == "Inference")
    print(f"machine: {machine()}\n")
    print(f"wrk, {args.rounds} rounds x {args.duration} s per mode and connection count, "
          f"medians; POST of one CSV row ({len(BODY)} bytes) to an XGBoost endpoint\n")
    print(row("connections", "metering on (req/s)", "metering off (req/s)", "on / off"))
    print(row(*["---"] * 4))
    for conns in (1, 32):
        on, off = median(results[(conns, "on")]), median(results[(conns, "off")])
        print(row(conns, f"{on:.0f}", f"{off:.0f}", f"**{on / off:.3f}**"))
    print(f"\ninferences metered: {metered} of {sent_on} requests sent with metering on"
          + ("" if metered else " (the router does not report inferences: not wired)"))


if __name__ == "__main__":
    main()
