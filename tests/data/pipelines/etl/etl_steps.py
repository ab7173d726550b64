"""Plain functions behind the ETL pipeline written as YAML (tests/data/flows/etl_flow.py is the same as @flow)."""


def extract(day: str) -> list[dict]:
    return [{"day": day, "value": v} for v in (3, 1, 2)]


def clean(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["value"])


def load(rows: list[dict]) -> int:
    return len(rows)


def report() -> str:
    return "done"
