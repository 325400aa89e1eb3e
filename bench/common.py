"""Shared helpers for Mercato's benchmarks: start mercatod and peers on loopback ports,
sample a process's memory, and print results as Markdown rows for bench/README.md."""
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("MERCATO_BUILD_DIR", os.path.join(ROOT, "build"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine():
    cpu = "unknown cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return f"{os.cpu_count()} x {cpu}, {mem_kb // 1024 // 1024} GiB RAM, {platform.platform()}"


class Mercatod:
    """A mercatod on a free loopback port with a temporary data dir."""

    def __init__(self, *extra_args):
        self.data_dir = tempfile.mkdtemp(prefix="mercato-bench-")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "bin", "mercatod"), "--data-dir", self.data_dir,
             "--listen", "127.0.0.1:0", "--log-level", "warn", *extra_args],
            stdout=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("listening on "):
                self.port = int(line.strip().rsplit(":", 1)[1])
                break
        if self.port is None:
            raise RuntimeError("mercatod did not start")
        self.url = f"http://127.0.0.1:{self.port}"
        with open(os.path.join(self.data_dir, "admin-credentials")) as f:
            self.admin = json.load(f)

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def row(*cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"
