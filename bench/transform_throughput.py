"""SageMaker batch transform throughput against the same container driven directly.

    MERCATO_BUILD_DIR=build python3 bench/transform_throughput.py [--rows 1000000]
        [--objects 4] [--instances 2] [--concurrency 2] [--payload-mb 6] [--rounds 2]

Needs root (the sandbox). Everything listens on 127.0.0.1.

`--rows` CSV rows of 4 Iris-like float features (seeded, so every run sends the same bytes)
are split into `--objects` S3 objects and classified by an XGBoost model trained on Iris
(hosting_router.train_model), two ways, taking turns for `--rounds` rounds:

  mercato  create_transform_job (InstanceCount=--instances, SplitType Line, BatchStrategy
           MultiRecord, MaxPayloadInMB=--payload-mb, MaxConcurrentTransforms=--concurrency)
           -> Completed, describe_transform_job polled every 50 ms. Includes starting the
           sandboxes, reading the objects from S3 and writing the .out objects.
  direct   `--instances` mercato-xgboost serve processes on host loopback ports (the same
           binary, model and OMP_WAIT_POLICY=passive), started by this script; the objects are
           cut into the same batches as the runner cuts them (records packed up to
           MaxPayloadInMB), and POSTed with http.client over --concurrency keep-alive
           connections per server, each taking the next batch in input order regardless of
           object boundaries, as the runner does. Timed from starting the servers to the last answer ("total"), and
           from the first POST ("POST only").

Both outputs are compared line for line. Reports rows/s and mercato/direct ratios. The
sandboxed servers' CPU is sampled during one more, untimed mercato job (the sampler's /proc
scans would otherwise take CPU from the timed job only).
"""
import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

from common import Mercatod, free_port, machine, median, row
from hosting_router import IMAGE_TAR, XGBOOST, post, train_model

# Iris feature ranges (sepal length, sepal width, petal length, petal width), as in
# tests/e2e/test_sagemaker_transform.py.
RANGES = [(4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5)]
CONTAINER_ENV = {"OMP_WAIT_POLICY": "passive"}
BUCKET = "bench"


def make_objects(rows, objects, seed=1):
    """`objects` CSV bodies holding `rows` seeded rows in total, as bytes."""
    rng = random.Random(seed)
    lines = ["%.2f,%.2f,%.2f,%.2f\n" % tuple(rng.uniform(lo, hi) for lo, hi in RANGES)
             for _ in range(rows)]
    per = -(-rows // objects)
    return ["".join(lines[i:i + per]).encode() for i in range(0, rows, per)]


def batches_of(body, max_bytes):
    """The runner's MultiRecord batching (jobs/transform_job_data.cc MakeBatches): whole
    lines packed while the payload stays within max_bytes."""
    out, cur, size = [], [], 0
    for line in body.splitlines(keepends=True):
        if cur and size + len(line) > max_bytes:
            out.append(b"".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line)
    if cur:
        out.append(b"".join(cur))
    return out


def wait_ping(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"mercato-xgboost on port {port} did not answer /ping")


def run_direct(ml, objects, args):
    """Returns (total seconds, POST-only seconds, outputs in object order, the servers' CPU
    seconds)."""
    batched = [batches_of(o, args.payload_mb << 20) for o in objects]
    outputs = [None] * len(objects)
    start = time.perf_counter()
    ports = [free_port() for _ in range(args.instances)]
    procs = [subprocess.Popen(
        [XGBOOST, "serve"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, **CONTAINER_ENV, **batch_env(args), "MERCATO_ML_PREFIX": ml,
             "SAGEMAKER_BIND_TO_PORT": str(port), "MERCATO_BIND_HOST": "127.0.0.1"})
        for port in ports]
    try:
        for port in ports:
            wait_ping(port)
        posting = time.perf_counter()
        # Every (object, batch) in order, taken by whichever connection is free next.
        work = iter([(i, b) for i in range(len(objects)) for b in range(len(batched[i]))])
        for i in range(len(objects)):
            outputs[i] = [None] * len(batched[i])
        lock = threading.Lock()
        errors = []

        def slot(port):
            # One keep-alive connection per concurrent slot, as the runner keeps.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            while not errors:
                with lock:
                    item = next(work, None)
                if item is None:
                    break
                i, b = item
                try:
                    conn.request("POST", "/invocations", body=batched[i][b],
                                 headers={"Content-Type": "text/csv"})
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"status {resp.status}: {data[:200]}")
                    outputs[i][b] = data
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(e)
            conn.close()

        threads = [threading.Thread(target=slot, args=(p,))
                   for p in ports for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        end = time.perf_counter()
        cpu = sum(proc_cpu_seconds(p.pid) for p in procs)
        if errors:
            raise RuntimeError(f"direct POST failed: {errors[0]}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
    return end - start, end - posting, outputs, cpu


def batch_env(args):
    """What the runner sets for a transform job's containers (transform_job_execution.cc)."""
    return {"SAGEMAKER_BATCH": "true", "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(args.payload_mb),
            "SAGEMAKER_BATCH_STRATEGY": "MULTI_RECORD",
            "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": str(args.concurrency)}


class ContainerCpu:
    """Samples every 10 ms the CPU time of all mercato-xgboost processes (the sandboxed
    ones are visible from the host's pid namespace): the last figure seen per pid, summed."""

    def __init__(self):
        self.seen, self.stop = {}, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(0.01):
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/comm") as f:
                        if f.read().strip() != "mercato-xgboost":
                            continue
                    self.seen[pid] = proc_cpu_seconds(pid)
                except OSError:
                    pass

    def total(self):
        self.stop.set()
        self.thread.join()
        return sum(self.seen.values())


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lines_of(answers):
    """An object's output as a list of lines (one prediction per input row)."""
    out = []
    for a in answers:
        out.extend(a.decode().splitlines())
    return out


def run_mercato(sm, s3, name, n_objects, args):
    start = time.perf_counter()
    sm.create_transform_job(
        TransformJobName=name, ModelName="iris",
        BatchStrategy="MultiRecord", MaxPayloadInMB=args.payload_mb,
        MaxConcurrentTransforms=args.concurrency,
        TransformInput={"DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/in/"}},
            "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/out/{name}", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": args.instances})
    deadline = time.monotonic() + args.timeout
    while True:
        d = sm.describe_transform_job(TransformJobName=name)
        if d["TransformJobStatus"] != "InProgress":
            break
        if time.monotonic() > deadline:
            sm.stop_transform_job(TransformJobName=name)
            raise RuntimeError(f"{name} still InProgress after {args.timeout} s")
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    if d["TransformJobStatus"] != "Completed":
        raise RuntimeError(f"{name}: {d['TransformJobStatus']} {d.get('FailureReason')}")
    outputs = []
    for i in range(n_objects):
        body = s3.get_object(Bucket=BUCKET, Key=f"out/{name}/part-{i}.csv.out")["Body"].read()
        outputs.append(body.decode().splitlines())
    return elapsed, outputs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--objects", type=int, default=4)
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=2, help="MaxConcurrentTransforms")
    ap.add_argument("--payload-mb", type=int, default=6, help="MaxPayloadInMB")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per transform job")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mercato-bench-transform-")
    server = None
    try:
        t = time.perf_counter()
        objects = make_objects(args.rows, args.objects)
        gen_s = time.perf_counter() - t
        ml, model_tar = train_model(work)
        server = Mercatod()
        _, raw = post(server.url + "/api/v1/accounts", json.dumps({"name": "bench"}).encode(),
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
        cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                     read_timeout=300)
        s3 = session.client("s3", endpoint_url=server.url, config=cfg)
        sm = session.client("sagemaker", endpoint_url=server.url, config=cfg)
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(model_tar, BUCKET, "model/model.tar.gz")
        for i, body in enumerate(objects):
            s3.put_object(Bucket=BUCKET, Key=f"in/part-{i}.csv", Body=body,
                          ContentType="text/csv")
        sm.create_model(ModelName="iris", PrimaryContainer={
            "Image": "mercato-xgboost:latest", "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz",
            "Environment": CONTAINER_ENV})

        results = {"mercato": [], "direct": [], "direct POST only": []}
        loads = []
        cpu = {"mercatod": [], "sandboxed servers (sampled)": [], "direct servers": []}
        for r in range(args.rounds):
            total, posting, direct_out, server_cpu = run_direct(ml, objects, args)
            cpu["direct servers"].append(server_cpu)
            results["direct"].append(total)
            results["direct POST only"].append(posting)
            before = server.cpu_seconds()
            elapsed, mercato_out = run_mercato(sm, s3, f"bench-{r}", len(objects), args)
            cpu["mercatod"].append(server.cpu_seconds() - before)
            results["mercato"].append(elapsed)
            loads.append(open("/proc/loadavg").read().split()[0])
            direct_lines = [lines_of(a) for a in direct_out]
            if direct_lines != mercato_out:
                raise RuntimeError("mercato's .out objects differ from the direct answers")
            if sum(len(x) for x in mercato_out) != args.rows:
                raise RuntimeError("wrong number of output lines")
        # The sandboxed servers' CPU comes from an extra, untimed job: the sampler scans /proc
        # every 10 ms, which on 2 cores costs the containers time they would otherwise have.
        sampler = ContainerCpu()
        run_mercato(sm, s3, "bench-cpu", len(objects), args)
        cpu["sandboxed servers (sampled)"].append(sampler.total())
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    n_batches = sum(len(batches_of(o, args.payload_mb << 20)) for o in objects)
    print(f"machine: {machine()}")
    print(f"\n{args.rows} rows ({sum(len(o) for o in objects) / 1e6:.1f} MB CSV, generated in "
          f"{gen_s:.1f} s) in {len(objects)} objects, {n_batches} batches of <= "
          f"{args.payload_mb} MiB; {args.instances} instances x {args.concurrency} concurrent "
          f"requests; {args.rounds} rounds (direct, then mercato), medians; load average "
          f"after each round: {', '.join(loads)}. Outputs identical.\n")
    print(row("run", "seconds", "rows/s", "mercato / this (rows/s)", "all rounds (s)"))
    print(row(*["---"] * 5))
    m = median(results["mercato"])
    for name, times in results.items():
        s = median(times)
        print(row(name, f"{s:.2f}", f"{args.rows / s:.0f}", f"{s / m:.2f}",
                  " ".join(f"{x:.2f}" for x in times)))
    print("\nCPU seconds per round (median): " + ", ".join(
        f"{k} {median(v):.2f}" for k, v in cpu.items()) +
        " (mercatod's includes reading the job's output objects back for the check)")


if __name__ == "__main__":
    main()
