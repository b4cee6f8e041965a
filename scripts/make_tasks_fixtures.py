#!/usr/bin/env python3
"""Fixtures for Tests/SpiqaTasksTests (no torch needed): Python's random.sample and the official SQuAD metric.

Writes Tests/SpiqaTasksTests/Fixtures/python_sample.json: [{"n", "k", "seed", "indices"}] from
`random.seed(seed); random.sample(range(n), k)` for (n, k) pairs covering both of CPython's branches
(pool when n <= setsize, set otherwise) and getrandbits with more than 32 bits, and squad_metric.json:
[{"gold", "prediction", "normalized_gold", "normalized_prediction", "em", "f1"}] from the official functions.
"""
import json, os, random, sys

sys.path.insert(0, os.path.dirname(__file__))
from squad_reference import compute_exact, compute_f1, normalize_answer  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SpiqaTasksTests", "Fixtures")

CASES = [(10570, 100, 123), (10570, 1000, 123), (10570, 5, 123), (10570, 6, 123), (1000, 1, 123),
         (20, 3, 123), (21, 21, 123), (22, 5, 123), (50, 10, 123), (84, 10, 123), (85, 10, 123), (86, 10, 123),
         (100, 30, 123), (872, 872, 123), (872, 40, 123), (10570, 10570, 123), (1, 1, 123), (7, 0, 123),
         (2 ** 33, 5, 123), (2 ** 40 + 7, 8, 123), (10570, 100, 0), (10570, 100, 2 ** 40 + 5)]

PAIRS = [("Denver Broncos", "denver broncos"), ("the Broncos", "Broncos!"), ("An apple a day", "apple day"),
         ("a", ""), ("The", "the the"), ("Saint-Étienne", "saint étienne"), ("théâtre anal", "theatre"),
         ("an_a the1 a's", "an_a the1 s"), ("New  York\u00a0City", "new york city"), ("1,000", "1000"),
         ("Super Bowl 50", "Bowl 50 Super Bowl"), ("a b a b", "b b a"), ("«the» answer", "answer"),
         ("ÀN apple", "àn apple"), ("x", "y"), ("the cat the cat", "cat cat cat")]


def main():
    samples = []
    for n, k, seed in CASES:
        random.seed(seed)
        samples.append({"n": n, "k": k, "seed": seed, "indices": random.sample(range(n), k)})
    with open(os.path.join(OUT, "python_sample.json"), "w") as f:
        json.dump(samples, f, separators=(",", ":"))
    metric = [{"gold": g, "prediction": p, "normalized_gold": normalize_answer(g),
               "normalized_prediction": normalize_answer(p), "em": compute_exact(g, p), "f1": compute_f1(g, p)}
              for g, p in PAIRS]
    with open(os.path.join(OUT, "squad_metric.json"), "w") as f:
        json.dump(metric, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
