"""`make run`'s demo marketplace (scripts/seed_demo.py) against a real mercatod: the demo
seller's two products are Public and searchable, the demo buyer is subscribed and its
endpoint demo-iris answers; a second run reuses what the first seeded."""

import json
import os
import subprocess
import sys
import unittest

import marketplace_helpers as mh
from harness import Mercatod

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED = os.path.join(REPO, "scripts", "seed_demo.py")


class DemoSeedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod()

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def seed(self):
        proc = subprocess.run([sys.executable, SEED, self.m.endpoint, self.m.data_dir,
                               mh.IMAGE_TAR, REPO], capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            self.fail(f"seed_demo.py failed:\n{proc.stdout}\n{proc.stderr}\n{self.m.log_tail()}")
        return proc.stdout

    def test_seeds_once_and_the_buyer_endpoint_answers(self):
        out = self.seed()
        self.assertIn("Demo marketplace ready", out)
        with open(os.path.join(self.m.data_dir, "demo-credentials")) as f:
            demo = json.load(f)
        buyer = demo["buyer"]
        found = mh.api_ok(self.m, buyer, "GET", "/api/v1/catalog/search?q=iris")
        self.assertIn(demo["products"]["model"], [p["ProductCode"] for p in found["Products"]])
        detail = mh.api_ok(self.m, buyer, "GET",
                           f"/api/v1/catalog/products/{demo['products']['algorithm']}")
        self.assertEqual(detail["Visibility"], "Public")
        subs = mh.api_ok(self.m, buyer, "GET", "/api/v1/subscriptions")
        self.assertEqual(len(subs["Subscriptions"]), 1)
        rt = mh.client(self.m, "sagemaker-runtime", buyer)
        answer = rt.invoke_endpoint(EndpointName="demo-iris", Body=b"5.1,3.5,1.4,0.2\n",
                                    ContentType="text/csv", Accept="application/json")
        self.assertEqual(mh.numbers(json.loads(answer["Body"].read())), [0])
        notebook = mh.api(self.m, buyer, "GET",
                          f"/api/v1/catalog/products/{demo['products']['model']}/notebook")
        self.assertEqual(notebook[0], 200)
        self.assertEqual(notebook[1]["nbformat"], 4)
        # A second run (make run on the same data dir) seeds nothing new.
        again = self.seed()
        self.assertIn(demo["model_arn"], again)
        accounts = mh.api_ok(self.m, self.m.admin, "GET", "/api/v1/accounts")
        names = [a["name"] for a in accounts.get("accounts", accounts)]
        self.assertEqual(names.count("demo-seller"), 1)


if __name__ == "__main__":
    unittest.main()
