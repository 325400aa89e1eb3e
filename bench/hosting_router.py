"""SageMaker hosting: the invocation router's overhead and an endpoint's cold start.

    MERCATO_BUILD_DIR=build python3 bench/hosting_router.py [--duration 4] [--rounds 2]
        [--cold-starts 10] [--cold-only]

Needs root (the sandbox), wrk and nginx. Everything listens on 127.0.0.1.

1. Cold start: create_endpoint -> InService (describe_endpoint polled every 20 ms) for the
   built-in XGBoost image and an Iris model, `--cold-starts` times; each endpoint is deleted
   (and gone) before the next is created. `--cold-only` runs just this part.
2. Router overhead: `wrk` POSTing one CSV row (text/csv, with a bearer token) at 1 and 32
   connections to three targets serving the same binary and model, in one run:
     direct    mercato-xgboost serve on host loopback, POST /invocations
     nginx     nginx proxy_pass with upstream keep-alive in front of `direct`
     mercatod  POST /endpoints/NAME/invocations: auth, routing, Dial into the sandbox's
               network namespace, pooled keep-alive connection to the same container
   The targets take turns (`--rounds` rounds of every target at every connection count), so
   they share the machine's load; medians over rounds are reported, with ratios to `direct`
   and to `nginx`. All three run mercato-xgboost with CONTAINER_ENV (see below).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from common import BUILD, ROOT, Mercatod, free_port, machine, median, row

IRIS = os.path.join(ROOT, "tests", "data", "iris")
IMAGE_TAR = os.path.join(BUILD, "images", "mercato-xgboost.tar")
XGBOOST = os.path.join(BUILD, "bin", "mercato-xgboost")
BODY = "5.1,3.5,1.4,0.2"
# The same container settings for all three targets. OMP_WAIT_POLICY=passive: XGBoost's
# OpenMP threads otherwise spin after every prediction, and on a 2-core machine two idle-
# spinning servers (the sandboxed and the host one) stall each other for 16-40 ms. 64 workers:
# the server gives each keep-alive connection a worker of its own, and nginx's upstream pool
# opens more connections than the default 2 workers, which starves some for seconds.
CONTAINER_ENV = {"OMP_WAIT_POLICY": "passive", "SAGEMAKER_MODEL_SERVER_WORKERS": "64"}


def train_model(work):
    ml = os.path.join(work, "ml")
    os.makedirs(os.path.join(ml, "input", "config"))
    os.makedirs(os.path.join(ml, "input", "data", "train"))
    with open(os.path.join(ml, "input", "config", "hyperparameters.json"), "w") as f:
        json.dump({"objective": "multi:softmax", "num_class": "3", "num_round": "20"}, f)
    with open(os.path.join(ml, "input", "config", "inputdataconfig.json"), "w") as f:
        json.dump({"train": {"ContentType": "text/csv"}}, f)
    shutil.copy(os.path.join(IRIS, "train.csv"), os.path.join(ml, "input", "data", "train"))
    subprocess.run([XGBOOST, "--prefix", ml, "train"], check=True, capture_output=True,
                   timeout=120)
    path = os.path.join(work, "model.tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        for name in os.listdir(os.path.join(ml, "model")):
            tar.add(os.path.join(ml, "model", name), arcname=name)
    return ml, path


def post(url, data, headers, timeout=60):
    req = urllib.request.Request(url, method="POST", data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


def wait_status(sm, name, want, timeout=60):
    """Polls describe_endpoint every 20 ms until EndpointStatus is `want` ("gone" = deleted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = sm.describe_endpoint(EndpointName=name)["EndpointStatus"]
        except ClientError:
            status = "gone"
        if status == want:
            return
        if status == "Failed":
            raise RuntimeError(f"endpoint {name} failed")
        time.sleep(0.02)
    raise RuntimeError(f"endpoint {name} not {want} after {timeout} s")


def wait_http(url, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def run_wrk(url, conns, duration, script):
    out = subprocess.run(
        ["wrk", f"-t{min(conns, 2)}", f"-c{conns}", f"-d{duration}s", "--latency",
         "--timeout", "5s", "-s", script, url],
        check=True, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise RuntimeError(f"wrk against {url} saw failures:\n{out}")
    return rps, p50, p99


NGINX_CONF = """worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx; proxy_temp_path {work}/nginx;
  fastcgi_temp_path {work}/nginx; uwsgi_temp_path {work}/nginx; scgi_temp_path {work}/nginx;
  upstream model {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://model;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def report_cold(cold):
    print(f"machine: {machine()}")
    print(f"\nendpoint cold start, create_endpoint -> InService, {len(cold)} times: "
          f"median {median(cold):.3f} s, min {min(cold):.3f} s, max {max(cold):.3f} s\n")
    print("cold starts (s): " + " ".join(f"{c:.3f}" for c in cold))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cold-starts", type=int, default=10)
    ap.add_argument("--cold-only", action="store_true",
                    help="measure only the cold starts (no wrk, nginx or host server)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mercato-bench-hosting-")
    os.makedirs(os.path.join(work, "nginx"))
    server = host = nginx = None
    try:
        ml, model_tar = train_model(work)
        server = Mercatod()
        status, raw = post(server.url + "/api/v1/accounts", json.dumps({"name": "bench"}).encode(),
                           {"Authorization": "Bearer " + server.admin["token"],
                            "Content-Type": "application/json"})
        creds = json.loads(raw)
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

        # 1. Cold starts.
        cold = []
        for i in range(args.cold_starts):
            start = time.perf_counter()
            sm.create_endpoint(EndpointName=f"cold-{i}", EndpointConfigName="iris")
            wait_status(sm, f"cold-{i}", "InService")
            cold.append(time.perf_counter() - start)
            sm.delete_endpoint(EndpointName=f"cold-{i}")
            wait_status(sm, f"cold-{i}", "gone")

        if args.cold_only:
            return report_cold(cold)

        # 2. Router overhead.
        sm.create_endpoint(EndpointName="bench", EndpointConfigName="iris")
        wait_status(sm, "bench", "InService")
        host_port, nginx_port = free_port(), free_port()
        host = subprocess.Popen(
            [XGBOOST, "--prefix", ml, "serve"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **CONTAINER_ENV, "SAGEMAKER_BIND_TO_PORT": str(host_port),
                 "MERCATO_BIND_HOST": "127.0.0.1"})
        wait_http(f"http://127.0.0.1:{host_port}/ping")
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(work=work, upstream=host_port, port=nginx_port))
        subprocess.run(["nginx", "-e", os.path.join(work, "nginx-error.log"), "-c",
                        os.path.join(work, "nginx.conf")], check=True)
        nginx = True
        wait_http(f"http://127.0.0.1:{nginx_port}/ping")
        script = os.path.join(work, "post.lua")
        with open(script, "w") as f:
            f.write(f'wrk.method = "POST"\nwrk.body = "{BODY}"\n'
                    'wrk.headers["Content-Type"] = "text/csv"\n'
                    f'wrk.headers["Authorization"] = "Bearer {creds["token"]}"\n')
        targets = {
            "direct": f"http://127.0.0.1:{host_port}/invocations",
            "nginx": f"http://127.0.0.1:{nginx_port}/invocations",
            "mercatod": f"{server.url}/endpoints/bench/invocations",
        }
        headers = {"Content-Type": "text/csv", "Authorization": "Bearer " + creds["token"]}
        answers = {name: post(url, BODY.encode(), headers)[1] for name, url in targets.items()}
        if len(set(answers.values())) != 1:
            raise RuntimeError(f"targets answer differently: {answers}")
        results = {}
        for _ in range(args.rounds):
            for conns in (1, 32):
                for name, url in targets.items():
                    results.setdefault((conns, name), []).append(
                        run_wrk(url, conns, args.duration, script))
    finally:
        if nginx:
            with open(os.path.join(work, "nginx.pid")) as f:
                os.kill(int(f.read()), 15)
        if host:
            host.terminate()
            host.wait(timeout=10)
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    report_cold(cold)
    print(f"wrk, {args.rounds} rounds x {args.duration} s per target and connection count, "
          f"medians; POST of one CSV row ({len(BODY)} bytes) answered by mercato-xgboost "
          f"({answers['direct'].decode().strip()!r})\n")
    print(row("connections", "target", "requests/s", "p50", "p99", "rps vs direct",
              "p50 vs direct", "p99 vs direct", "rps vs nginx", "p50 vs nginx", "p99 vs nginx"))
    print(row(*["---"] * 11))
    for conns in (1, 32):
        med = {name: [median([r[k] for r in results[(conns, name)]]) for k in range(3)]
               for name in targets}
        for name in targets:
            rps, p50, p99 = med[name]
            d, n = med["direct"], med["nginx"]
            print(row(conns, name, f"{rps:.0f}", f"{p50:.3f} ms", f"{p99:.3f} ms",
                      f"{rps / d[0]:.2f}", f"{p50 / d[1]:.2f}", f"{p99 / d[2]:.2f}",
                      f"{rps / n[0]:.2f}", f"{p50 / n[1]:.2f}", f"{p99 / n[2]:.2f}"))


if __name__ == "__main__":
    main()
