"""The built-in XGBoost container end to end through `mercato image run`: train on Iris
(train + validation channels) and download model.tar.gz, serve it with --port-forward and
score the held-out rows over HTTP (accuracy >= 90%), and a bad hyperparameter failing the
run with a non-zero exit code and a FailureReason naming the parameter."""

import json
import os
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from cli_helpers import Cli, xgboost_image_path
from harness import Mercatod

IRIS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "iris")
HYPERPARAMETERS = {"num_round": "20", "max_depth": "3", "objective": "multi:softmax",
                   "num_class": "3"}
READY_TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class XGBoostRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod()
        cls.alice = cls.m.create_account("alice")
        cls.cli = Cli(cls.m, cls.alice)
        cls.tmp = tempfile.TemporaryDirectory(prefix="mercato-xgb-run-")
        cls.cli.ok("image", "push", xgboost_image_path(), "--name", "xgboost:1")
        for channel in ("train", "validation"):
            d = os.path.join(cls.tmp.name, channel)
            os.makedirs(d)
            with open(os.path.join(IRIS, channel + ".csv")) as src, \
                    open(os.path.join(d, channel + ".csv"), "w") as dst:
                dst.write(src.read())

    @classmethod
    def tearDownClass(cls):
        cls.m.close()
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def write_hyperparameters(self, name, values):
        p = self.path(name)
        with open(p, "w") as f:
            json.dump(values, f)
        return p

    def train(self, hyperparameters, model_out=None):
        args = ["image", "run", "xgboost:1", "--instance-type", "ml.m5.large",
                "--input", "train=" + self.path("train"),
                "--input", "validation=" + self.path("validation"),
                "--hyperparameters", self.write_hyperparameters("hp.json", hyperparameters)]
        if model_out:
            args += ["--output-model", model_out]
        return self.cli.run(*args, "--", "train", timeout=600)

    def test_train_then_serve_through_port_forward(self):
        model = self.path("model.tar.gz")
        proc = self.train(HYPERPARAMETERS, model)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr + self.m.log_tail())
        self.assertIn("validation-mlogloss", proc.stdout)  # the training log, followed
        with tarfile.open(model) as tar:
            self.assertIn("xgboost-model", tar.getnames())

        port = free_port()
        server = self.cli.popen("image", "run", "xgboost:1", "--model-data", model,
                                "--port-forward", str(port), "--", "serve",
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.wait_ready(port, server)
            with open(os.path.join(IRIS, "test.csv")) as f:
                rows = [line.strip().split(",", 1) for line in f if line.strip()]
            labels = [int(float(r[0])) for r in rows]
            body = "\n".join(r[1] for r in rows).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         method="POST", headers={"Content-Type": "text/csv",
                                                                 "Accept": "text/csv"})
            with urllib.request.urlopen(req, timeout=60) as resp:
                self.assertEqual(resp.status, 200)
                predictions = [int(float(x)) for x in resp.read().decode().split()]
            self.assertEqual(len(predictions), len(labels))
            accuracy = sum(p == y for p, y in zip(predictions, labels)) / len(labels)
            self.assertGreaterEqual(accuracy, 0.9, (predictions, labels))
        finally:
            server.send_signal(signal.SIGINT)  # stops the run
            try:
                out, err = server.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                server.kill()
                out, err = server.communicate()
        self.assertIn("Stopped", err)

    def wait_ready(self, port, server):
        deadline = time.monotonic() + READY_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                self.fail(f"mercato image run exited early: {server.communicate()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last = e
            time.sleep(0.3)
        self.fail(f"the served model did not answer /ping in time: {last}")

    def test_bad_hyperparameter_fails_with_reason(self):
        proc = self.train(dict(HYPERPARAMETERS, eta="5"))
        self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("Failed", proc.stderr)
        self.assertIn("failure reason:", proc.stderr)
        reason = proc.stderr.split("failure reason:", 1)[1]
        self.assertIn("eta", reason)


if __name__ == "__main__":
    unittest.main()
