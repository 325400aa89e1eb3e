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
import threading
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
    return (f"{os.cpu_count()} x {cpu}, {mem_kb // 1024 // 1024} GiB RAM, "
            f"{platform.platform()}, load average {loadavg()}")


class Mercatod:
    """A mercatod on a free loopback port with a temporary data dir."""

    def __init__(self, *extra_args, env=None):
        self.data_dir = tempfile.mkdtemp(prefix="mercato-bench-")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "bin", "mercatod"), "--data-dir", self.data_dir,
             "--listen", "127.0.0.1:0", "--log-level", "warn", *extra_args],
            stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break  # exited
            if line.startswith("listening on "):
                self.port = int(line.strip().rsplit(":", 1)[1])
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("mercatod did not start")
        # Keep draining stdout so the server can never block on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(os.path.join(self.data_dir, "admin-credentials")) as f:
            self.admin = json.load(f)

    def status_kib(self, field):
        """A memory figure from /proc/PID/status in KiB: VmHWM (peak RSS), VmRSS, ..."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def peak_rss_kib(self):
        return self.status_kib("VmHWM")

    def threads(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def cpu_seconds(self):
        """User + system CPU time the server has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def row(*cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"
