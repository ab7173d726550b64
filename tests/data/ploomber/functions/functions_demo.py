"""Function tasks in Ploomber's format: product, upstream and params as arguments."""

import json
from pathlib import Path


def make_numbers(product, count):
    Path(product).write_text(json.dumps(list(range(1, count + 1))))


def total(product, upstream):
    numbers = json.loads(Path(upstream["make_numbers"]).read_text())
    Path(product).write_text(str(sum(numbers)))
