"""Catalog search latency with 100,000 products (issue 5): p50 and p99 over 1,000 queries
through the HTTP API (GET /api/v1/catalog/search). Goal: p99 under 20 ms.

    MERCATO_BUILD_DIR=build python3 bench/catalog_search.py [--products 100000]
        [--queries 1000] [--seed 5]

Loading: the products go in through the operator-only bulk route
POST /api/v1/admin/catalog/bulk-load (2,000 per request, one transaction each: listing
rows, filter tables and FTS5 documents, exactly what the seller routes write), because
100,000 products through create + add-version + publish would need 100,000 escrowed
packages. The bulk products are Public, half of them algorithms, a quarter paid (half of
those with a free trial), each in 1-2 of 20 categories with 1-2 recommended instance types.

Text: a 6,000-word synthetic vocabulary drawn with a Zipf law (s = 1.07), so a few words
are in most products (as "model" or "data" would be) and most are rare: title 5 words,
short description 20, long description 80. Queries (same seed): 35% one word, 25% two
words, 20% one word + a filter (category, type, pricing or instance type), 10% a filter
only with sort newest or rating, 10% one word sorted by rating; query words follow the same
Zipf law, so some queries match tens of thousands of products. One client, one keep-alive
connection, sequential; latency = request sent to body read.
"""
import argparse
import http.client
import json
import random
import time
import urllib.parse

from common import Mercatod, machine, row

CATEGORIES = ["Finance", "Retail", "Healthcare", "Media", "Industrial", "Energy", "Security",
              "Marketing", "Logistics", "Telecom", "Vision", "Language", "Speech", "Tabular",
              "TimeSeries", "Recommendation", "Fraud", "Forecasting", "Anomaly", "Genomics"]
TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.g4dn.xlarge",
         "ml.r5.large", "ml.p3.2xlarge", "ml.t3.medium"]
SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "bri", "cho", "dra",
             "fen", "gor", "hul", "jas", "kel", "mon", "nax", "pri", "qua", "rus", "sel", "tor"]


def vocabulary(rng, n):
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Zipf:
    def __init__(self, rng, words, s=1.07):
        self.rng = rng
        self.words = words
        weights = [1 / (i + 1) ** s for i in range(len(words))]
        total = sum(weights)
        self.cum = []
        acc = 0.0
        for w in weights:
            acc += w / total
            self.cum.append(acc)

    def word(self):
        import bisect
        return self.words[min(bisect.bisect_left(self.cum, self.rng.random()), len(self.words) - 1)]

    def text(self, n):
        return " ".join(self.word() for _ in range(n))


def make_product(rng, zipf, seller, i):
    paid = i % 4 == 0
    offer = {"Pricing": "Free"}
    if paid:
        offer = {"Pricing": {"Endpoint": {"ml.m5.large": f"0.{rng.randint(10, 99)}"}},
                 "FreeTrialDays": 14 if i % 8 == 0 else 0}
    return {"Seller": seller, "ProductType": "algorithm" if i % 2 else "model-package",
            "Title": zipf.text(5).title(), "ShortDescription": zipf.text(20),
            "LongDescription": zipf.text(80),
            "Categories": rng.sample(CATEGORIES, rng.randint(1, 2)),
            "RecommendedInstanceTypes": rng.sample(TYPES, rng.randint(1, 2)), "Offer": offer}


def request(conn, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": "Bearer " + token}
    if data is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    payload = resp.read()
    if resp.status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {resp.status}: {payload[:300]!r}")
    return json.loads(payload)


def make_queries(rng, zipf, n):
    out = []
    for _ in range(n):
        r = rng.random()
        q = {}
        if r < 0.35:
            q["q"] = zipf.word()
        elif r < 0.60:
            q["q"] = zipf.word() + " " + zipf.word()
        elif r < 0.80:
            q["q"] = zipf.word()
            f = rng.choice(["category", "type", "pricing", "instance_type"])
            q[f] = {"category": lambda: rng.choice(CATEGORIES),
                    "type": lambda: rng.choice(["model", "algorithm"]),
                    "pricing": lambda: rng.choice(["free", "paid"]),
                    "instance_type": lambda: rng.choice(TYPES)}[f]()
        elif r < 0.90:
            if rng.random() < 0.5:
                q["category"] = rng.choice(CATEGORIES)
            else:
                q["type"] = rng.choice(["model", "algorithm"])
            q["sort"] = rng.choice(["newest", "rating"])
        else:
            q["q"] = zipf.word()
            q["sort"] = "rating"
        out.append(q)
    return out


def percentile(sorted_values, p):
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--no-optimize", action="store_true",
                    help="skip POST /api/v1/admin/catalog/optimize after loading")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    zipf = Zipf(rng, vocabulary(rng, 6000))

    server = Mercatod()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        admin = server.admin["token"]
        seller = request(conn, admin, "POST", "/api/v1/accounts", {"name": "bench-seller"})
        buyer = request(conn, admin, "POST", "/api/v1/accounts", {"name": "bench-buyer"})
        seller_id = seller.get("account_id") or seller["account"]["account_id"]
        t0 = time.time()
        batch = 2000
        for start in range(0, args.products, batch):
            items = [make_product(rng, zipf, seller_id, i)
                     for i in range(start, min(args.products, start + batch))]
            request(conn, admin, "POST", "/api/v1/admin/catalog/bulk-load", {"Products": items})
        load_s = time.time() - t0
        print(f"loaded {args.products} products in {load_s:.1f} s "
              f"({args.products / load_s:.0f}/s)")
        if not args.no_optimize:  # what an operator does after a bulk import
            t0 = time.time()
            request(conn, admin, "POST", "/api/v1/admin/catalog/optimize", {})
            print(f"optimized the search index in {time.time() - t0:.2f} s")

        token = buyer["token"]
        queries = make_queries(rng, zipf, args.queries)
        for q in queries[:50]:  # warm the page cache and the statement caches
            request(conn, token, "GET", "/api/v1/catalog/search?" + urllib.parse.urlencode(q))
        lat = []
        hits = []
        for q in queries:
            path = "/api/v1/catalog/search?" + urllib.parse.urlencode(q)
            t = time.perf_counter()
            page = request(conn, token, "GET", path)
            lat.append((time.perf_counter() - t) * 1000)
            hits.append(len(page["Products"]))
        s = sorted(lat)
        worst = sorted(zip(lat, queries), key=lambda x: -x[0])[:5]
        print(f"machine: {machine()}")
        print(row("products", "queries", "p50 ms", "p90 ms", "p99 ms", "max ms", "empty pages"))
        print(row(args.products, len(lat), f"{percentile(s, 50):.2f}", f"{percentile(s, 90):.2f}",
                  f"{percentile(s, 99):.2f}", f"{s[-1]:.2f}", sum(1 for h in hits if h == 0)))
        print("slowest:", [(f"{ms:.1f}", q) for ms, q in worst])
    finally:
        server.stop()


if __name__ == "__main__":
    main()
