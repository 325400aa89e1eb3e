"""Sellers, notifications, the operator's test clock and the subscription commands through
the `mercato` CLI against a real mercatod --test-clock (issue 5).

The grace timeline with notifications is covered by the C++ unit tests
(src/commerce/subscription_service_test.cc) and by test_marketplace.py end to end.
"""

import datetime
import http.server
import json
import os
import sqlite3
import threading
import time
import unittest
import urllib.error
import urllib.request

from cli_helpers import Cli
from harness import Mercatod


def parse_iso(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def api(m, creds, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(m.endpoint + path, method=method, data=data,
                                 headers={"Authorization": "Bearer " + creds["token"],
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else {}


class SellersNotificationsClockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mercatod(extra_args=["--test-clock"])
        cls.seller = cls.m.create_account("seller-e2e")
        cls.buyer = cls.m.create_account("buyer-e2e")
        cls.seller_cli = Cli(cls.m, cls.seller)
        cls.buyer_cli = Cli(cls.m, cls.buyer)
        cls.admin_cli = Cli(cls.m, cls.m.admin)

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def fails(self, cli, *args, code=None, exit_code=1):
        proc = cli.run(*args)
        self.assertEqual(proc.returncode, exit_code, proc.stdout + proc.stderr)
        if code:
            self.assertIn(code, proc.stderr)
        return proc.stderr

    def test_seller_registration_is_validated_and_masked(self):
        cli = self.seller_cli
        base = ["seller", "register", "--legal-name", "Petal Labs Inc.", "--email",
                "billing@petal.example", "--country", "US", "--state", "WA",
                "--bank-account", "000123456789", "--bank-routing", "125000105"]
        self.fails(cli, "seller", "show", code="SellerNotRegistered")
        self.fails(cli, *base[:7], "ZZ", *base[8:], code="InvalidCountry")
        self.fails(cli, *base[:9], "XX", *base[10:], code="InvalidState")
        self.fails(cli, *base[:13], "125000106", code="InvalidBankRouting")
        self.fails(cli, *base[:11], "12", *base[12:], code="InvalidBankAccount")
        self.fails(cli, *base[:5], "not-an-email", *base[6:], code="InvalidEmail")

        out = cli.ok(*base).stdout
        self.assertIn("****6789", out)
        self.assertNotIn("000123456789", out)
        me = cli.json("seller", "show")
        self.assertEqual((me["BankAccount"], me["BankRouting"]), ("****6789", "****0105"))
        self.assertEqual(me["State"], "WA")
        # Registering again updates (a German bank, no state needed).
        me = cli.json("seller", "register", "--legal-name", "Petal Labs GmbH", "--email",
                      "billing@petal.example", "--country", "de", "--bank-account",
                      "DE89370400440532013000", "--bank-routing", "370400440")
        self.assertEqual((me["LegalName"], me["Country"], me["BankAccount"]),
                         ("Petal Labs GmbH", "DE", "****3000"))
        # Encrypted at rest: the account number is nowhere in the database file.
        db = os.path.join(self.m.data_dir, "mercato.db")
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT * FROM sellers").fetchall()
        self.assertEqual(len(rows), 1)
        self.assertNotIn("DE89370400440532013000", repr(rows))
        self.assertNotIn("000123456789", repr(rows))
        self.assertNotIn("DE89370400440532013000", self.m.log_tail(10000))

    def test_notifications_and_webhook(self):
        cli = self.buyer_cli
        self.assertEqual(cli.json("notifications"), {"Notifications": []})
        self.assertIn("no notifications", cli.ok("notifications", "--unread").stdout)
        self.assertIn("no webhook", cli.ok("notifications", "webhook", "show").stdout)
        self.fails(cli, "notifications", "webhook", "set", "https://example.com/x",
                   code="InvalidWebhookUrl")
        cli.ok("notifications", "webhook", "set", "http://127.0.0.1:9/hook")
        self.assertEqual(cli.json("notifications", "webhook", "show"),
                         {"Url": "http://127.0.0.1:9/hook"})
        self.assertEqual(api(self.m, self.seller, "GET", "/api/v1/notifications/webhook")[1],
                         {"Url": None})  # per account
        cli.ok("notifications", "webhook", "clear")
        self.assertEqual(cli.json("notifications", "webhook", "show"), {"Url": None})
        self.fails(cli, "notifications", "--mark-read", "ntf-nope", code="NotificationNotFound")

    def test_admin_clock(self):
        cli = self.admin_cli
        before = parse_iso(cli.json("admin", "clock", "show")["now"])
        after = parse_iso(cli.json("admin", "clock", "advance", "1d2h")["now"])
        self.assertGreaterEqual(after - before, datetime.timedelta(days=1, hours=2))
        self.assertLess(after - before, datetime.timedelta(days=1, hours=2, minutes=5))
        target = (after + datetime.timedelta(days=30)).strftime("%Y-%m-%dT00:00:00Z")
        self.assertEqual(cli.json("admin", "clock", "set", target)["now"][:10], target[:10])
        err = self.fails(cli, "admin", "clock", "set", "2020-01-01T00:00:00Z",
                         code="ClockMovedBackwards")
        self.assertIn("only moves forward", err)
        self.fails(cli, "admin", "clock", "advance", "3x", exit_code=2)
        self.fails(self.buyer_cli, "admin", "clock", "show", code="AccessDenied")
        status, out = api(self.m, self.m.admin, "POST", "/api/v1/admin/clock",
                          {"advance_seconds": 0})
        self.assertEqual(status, 400, out)

    def test_subscription_commands_without_products(self):
        cli = self.buyer_cli
        self.assertEqual(cli.json("subscriptions"), {"Subscriptions": []})
        self.fails(cli, "subscribe", "no-such-product", code="ProductNotFound")
        self.fails(cli, "unsubscribe", "no-such-product", code="SubscriptionNotFound")
        status, out = api(self.m, self.buyer, "POST", "/api/v1/subscriptions", {})
        self.assertEqual(status, 400, out)


class WebhookReceiver:
    """A loopback HTTP server on 127.0.0.1, port 0, recording the JSON bodies POSTed to it."""

    def __init__(self):
        self.posts = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posts.append((self.headers.get("X-Mercato-Event"), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class RemovalGraceTimelineTest(unittest.TestCase):
    """Subscribe, removal, reminder and expiry with the test clock, on a product the operator
    bulk-loads (so no image or validation is needed), with notifications posted to a loopback
    webhook."""

    def setUp(self):
        self.m = Mercatod(extra_args=["--test-clock"])
        self.receiver = WebhookReceiver()

    def tearDown(self):
        self.receiver.close()
        self.m.close()

    def wait_for(self, what, fn, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = fn()
            if value:
                return value
            time.sleep(0.2)
        self.fail(f"timed out waiting for {what}\n{self.m.log_tail(40)}")

    def types(self, creds):
        return [n["Type"] for n in api(self.m, creds, "GET", "/api/v1/notifications")[1]
                ["Notifications"]]

    def test_grace_timeline(self):
        m = self.m
        seller, buyer, outsider = (m.create_account(n) for n in ("gs", "gb", "go"))
        seller_id = seller.get("account_id") or seller["account"]["account_id"]
        Cli(m, seller).ok("seller", "register", "--legal-name", "Grace Seller", "--email",
                          "s@grace.example", "--country", "FR", "--bank-account",
                          "FR7630006000011234567890189", "--bank-routing", "300060000")
        status, out = api(m, m.admin, "POST", "/api/v1/admin/catalog/bulk-load", {"Products": [{
            "Seller": seller_id, "ProductType": "model-package", "Title": "Grace Model",
            "ShortDescription": "a model to remove", "Eula": "Line one of the EULA\nLine two",
            "Offer": {"Pricing": {"Endpoint": {"ml.m5.large": "0.50"}}, "FreeTrialDays": 7}}]})
        self.assertEqual(status, 200, out)
        pid = out["ProductIds"][0]
        buyer_cli = Cli(m, buyer)
        buyer_cli.ok("notifications", "webhook", "set", self.receiver.url)

        out = buyer_cli.ok("subscribe", pid, "--ref", "e2e").stdout
        self.assertIn("Line one of the EULA", out)
        self.assertIn("free trial until", out)
        err = buyer_cli.run("subscribe", pid).stderr
        self.assertIn("AlreadySubscribed", err)
        subs = buyer_cli.json("subscriptions")["Subscriptions"]
        self.assertEqual([(s["Status"], s["RefTag"]) for s in subs], [("Active", "e2e")])

        status, out = api(m, seller, "POST", f"/api/v1/products/{pid}/remove")
        self.assertEqual(status, 200, out)
        status, out = api(m, outsider, "POST", "/api/v1/subscriptions",
                          {"Product": pid, "AcceptEula": True})
        self.assertEqual((status, out["error"]["code"]), (400, "ProductRestricted"), out)
        self.assertEqual(self.types(buyer), ["product.removed"])
        access_ends = buyer_cli.json("subscriptions")["Subscriptions"][0]["AccessEndsAt"]
        self.assertIsNotNone(access_ends)

        admin_cli = Cli(m, m.admin)
        admin_cli.ok("admin", "clock", "advance", "88d")
        self.wait_for("the reminder", lambda: "product.removal_reminder" in self.types(buyer))
        self.assertEqual(buyer_cli.json("subscriptions")["Subscriptions"][0]["Status"], "Active")
        admin_cli.ok("admin", "clock", "advance", "2d")
        self.wait_for("the expiry", lambda: "subscription.expired" in self.types(buyer))
        self.assertEqual(self.types(buyer), ["subscription.expired", "product.removal_reminder",
                                             "product.removed"])
        self.assertEqual(buyer_cli.json("subscriptions")["Subscriptions"][0]["Status"], "Expired")
        notes = buyer_cli.json("notifications")["Notifications"]
        self.assertIn(access_ends, notes[-1]["Message"])
        self.assertEqual(notes[-1]["Data"]["AccessEndsAt"], access_ends)
        self.assertIn("(unread)", buyer_cli.ok("notifications", "--unread").stdout)
        buyer_cli.ok("notifications", "--mark-read", notes[0]["Id"])
        self.assertEqual(len(buyer_cli.json("notifications", "--unread")["Notifications"]), 2)

        self.wait_for("three webhook posts", lambda: len(self.receiver.posts) >= 3)
        self.assertEqual([e for e, _ in self.receiver.posts],
                         ["product.removed", "product.removal_reminder", "subscription.expired"])
        self.assertEqual(self.receiver.posts[0][1]["Data"]["ProductId"], pid)


class NoTestClockTest(unittest.TestCase):
    def test_admin_clock_does_not_exist_without_the_flag(self):
        with Mercatod() as m:
            status, _ = api(m, m.admin, "GET", "/api/v1/admin/clock")
            self.assertEqual(status, 404)
            status, _ = api(m, m.admin, "POST", "/api/v1/admin/clock", {"advance_seconds": 60})
            self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
