"""S3 PUT and GET of a large object through boto3 against mercatod, compared in the same run
with `cp` (+ sync) of the same file on the same disk and with `sha256sum` of it, plus
mercatod's peak RSS and where the CPU time goes.

    MERCATO_BUILD_DIR=build python3 bench/s3_transfer.py [--mib 512] [--rounds 3]
        [--env MALLOC_ARENA_MAX=2]

Each round runs cp, PUT and GET back to back, so the three see the same machine load; the
medians over the rounds are reported. The file lives in a temporary directory on the same
file system as mercatod's data dir. Over plain HTTP botocore signs the payload (SHA-256 of
the body, SigV4) and adds a CRC32 checksum; mercatod verifies both, encrypts (AES-256-GCM,
1 MiB chunks) and fsyncs. sha256sum shows what one pass of hashing costs on this CPU.
"""
import argparse
import hashlib
import os
import resource
import subprocess
import tempfile
import threading
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from common import Mercatod, machine, median, row


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def own_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class RssSampler:
    """Samples the server's RSS every 20 ms to find the peak during a window (VmHWM covers the
    whole life of the process, start-up included)."""

    def __init__(self, server):
        self.server, self.peak, self._stop = server, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.status_kib("VmRSS"))
            self._stop.wait(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--env", action="append", default=[],
                    help="KEY=VALUE for mercatod's environment, e.g. MALLOC_ARENA_MAX=2")
    args = ap.parse_args()
    env = dict(kv.split("=", 1) for kv in args.env)
    work = tempfile.mkdtemp(prefix="mercato-bench-s3-")
    src = os.path.join(work, "object.bin")
    with open(src, "wb") as f:
        for _ in range(args.mib):
            f.write(os.urandom(1 << 20))
    subprocess.run(["sync"], check=True)
    digest = hashlib.sha256()
    with open(src, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)

    server = Mercatod(env=env)
    t = {k: [] for k in ("cp", "sha", "put", "get", "put_srv", "put_cli", "get_srv", "get_cli")}
    try:
        s3 = boto3.client("s3", endpoint_url=server.url, region_name="local",
                          aws_access_key_id=server.admin["access_key_id"],
                          aws_secret_access_key=server.admin["secret_access_key"],
                          config=Config(s3={"addressing_style": "path"}, read_timeout=300))
        s3.create_bucket(Bucket="bench")
        # One PUT per 64 MiB part, 4 in parallel: what `aws s3 cp` does for big files.
        cfg = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=64 << 20,
                             max_concurrency=4)
        base_rss = server.status_kib("VmRSS")
        sampler = RssSampler(server)
        for i in range(args.rounds):
            copy, down = f"{src}.copy{i}", f"{src}.down{i}"
            t["cp"].append(timed(lambda: subprocess.run(["cp", src, copy], check=True) and
                                 subprocess.run(["sync"], check=True)))
            t["sha"].append(timed(lambda: subprocess.run(["sha256sum", src], check=True,
                                                         stdout=subprocess.DEVNULL)))
            s0, c0 = server.cpu_seconds(), own_cpu()
            t["put"].append(timed(lambda: s3.upload_file(src, "bench", f"object{i}", Config=cfg)))
            s1, c1 = server.cpu_seconds(), own_cpu()
            t["get"].append(timed(lambda: s3.download_file("bench", f"object{i}", down,
                                                           Config=cfg)))
            s2, c2 = server.cpu_seconds(), own_cpu()
            t["put_srv"].append(s1 - s0)
            t["put_cli"].append(c1 - c0)
            t["get_srv"].append(s2 - s1)
            t["get_cli"].append(c2 - c1)
            got = hashlib.sha256()
            with open(down, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    got.update(chunk)
            assert got.digest() == digest.digest(), "downloaded object differs"
            os.remove(copy)
            os.remove(down)
        peak_rss = sampler.stop()
        hwm, threads = server.peak_rss_kib(), server.threads()
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", work])

    mib = args.mib
    m = {k: median(v) for k, v in t.items()}
    print(f"machine: {machine()}")
    if env:
        print(f"mercatod environment: {env}")
    print(f"{args.rounds} rounds of {mib} MiB; medians; ratios are against cp + sync of the same "
          "file in the same round\n")
    print(row("", "cp + sync", "sha256sum", "S3 PUT", "S3 GET"))
    print(row("---", "---", "---", "---", "---"))
    print(row("throughput", f"{mib / m['cp']:.0f} MiB/s", f"{mib / m['sha']:.0f} MiB/s",
              f"{mib / m['put']:.0f} MiB/s", f"{mib / m['get']:.0f} MiB/s"))
    print(row("time / cp", "1.00x", f"{m['sha'] / m['cp']:.2f}x", f"{m['put'] / m['cp']:.2f}x",
              f"{m['get'] / m['cp']:.2f}x"))
    print(row("mercatod CPU s", "", "", f"{m['put_srv']:.2f}", f"{m['get_srv']:.2f}"))
    print(row("boto3 (client) CPU s", "", "", f"{m['put_cli']:.2f}", f"{m['get_cli']:.2f}"))
    print()
    print(row("mercatod RSS", "idle before", "peak during transfers", "VmHWM (lifetime)",
              "threads"))
    print(row("---", "---", "---", "---", "---"))
    print(row("", f"{base_rss / 1024:.0f} MiB", f"{peak_rss / 1024:.0f} MiB",
              f"{hwm / 1024:.0f} MiB", threads))


if __name__ == "__main__":
    main()
