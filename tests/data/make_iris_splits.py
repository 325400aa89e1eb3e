#!/usr/bin/env python3
"""Rebuilds train.csv, validation.csv and test.csv from scikit-learn's iris.csv.

Usage: make_iris_splits.py PATH/TO/sklearn/datasets/data/iris.csv

The output is label-first CSV without a header (the SageMaker XGBoost layout), the label
being the class index 0..2. The split is deterministic and stratified: within each class,
the rows are numbered 0..49 in file order; n % 5 == 4 goes to test (10 per class),
n % 10 == 0 to validation (5 per class), the rest to train (35 per class).
"""
import csv
import os
import sys


def main():
    src = sys.argv[1]
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert int(header[0]) == len(body) == 150, header
    out = {"train": [], "validation": [], "test": []}
    seen = {}
    for r in body:
        label = int(r[4])
        n = seen.get(label, 0)
        seen[label] = n + 1
        split = "test" if n % 5 == 4 else "validation" if n % 10 == 0 else "train"
        out[split].append([str(label)] + r[:4])
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iris")
    for name, data in out.items():
        with open(os.path.join(here, name + ".csv"), "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
