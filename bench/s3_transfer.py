"""S3 PUT and GET of a large object through boto3 against mercatod, compared with `cp` of
the same file on the same disk in the same run, plus mercatod's peak RSS.

    python3 bench/s3_transfer.py [--mib 512]
"""
import argparse
import hashlib
import os
import subprocess
import tempfile
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from common import Mercatod, machine, row


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=512)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mercato-bench-s3-")
    src = os.path.join(work, "object.bin")
    with open(src, "wb") as f:
        for _ in range(args.mib):
            f.write(os.urandom(1 << 20))
    subprocess.run(["sync"], check=True)

    server = Mercatod()
    try:
        s3 = boto3.client("s3", endpoint_url=server.url, region_name="local",
                          aws_access_key_id=server.admin["access_key_id"],
                          aws_secret_access_key=server.admin["secret_access_key"],
                          config=Config(s3={"addressing_style": "path"}))
        s3.create_bucket(Bucket="bench")
        # One PUT per 64 MiB part, 4 in parallel: what `aws s3 cp` does for big files.
        cfg = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=64 << 20,
                             max_concurrency=4)
        cp_s = timed(lambda: subprocess.run(["cp", src, src + ".copy"], check=True) and
                     subprocess.run(["sync"], check=True))
        put_s = timed(lambda: s3.upload_file(src, "bench", "object.bin", Config=cfg))
        get_s = timed(lambda: s3.download_file("bench", "object.bin", src + ".down", Config=cfg))
        with open(src, "rb") as a, open(src + ".down", "rb") as b:
            assert hashlib.sha256(a.read()).digest() == hashlib.sha256(b.read()).digest()
        rss_mib = server.peak_rss_kib() / 1024
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", work])

    mib = args.mib
    print(f"machine: {machine()}")
    print(row("size", "cp", "S3 PUT", "S3 GET", "PUT/cp", "GET/cp", "mercatod peak RSS"))
    print(row("---", "---", "---", "---", "---", "---", "---"))
    print(row(f"{mib} MiB", f"{mib / cp_s:.0f} MiB/s", f"{mib / put_s:.0f} MiB/s",
              f"{mib / get_s:.0f} MiB/s", f"{put_s / cp_s:.2f}x", f"{get_s / cp_s:.2f}x",
              f"{rss_mib:.0f} MiB"))


if __name__ == "__main__":
    main()
