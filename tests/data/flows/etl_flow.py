"""The ETL pipeline of tests/data/pipelines/etl/pipeline.yaml, written as a @flow."""

from partita import flow, task


@task
def extract(day: str) -> list[dict]:
    return [{"day": day, "value": v} for v in (3, 1, 2)]


@task(name="transform")
def clean(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["value"])


@task
def load(rows: list[dict]) -> int:
    return len(rows)


@task
def report() -> str:
    return "done"


@flow(name="etl")
def etl(day: str = "2024-05-01", limit: int = 10) -> str:
    rows = extract(day)
    cleaned = clean.submit(rows)
    done = load(cleaned, wait_for=[rows])
    return report(wait_for=[done])


@task
def shout(word: str) -> str:
    return word.upper()


@task
def join(words: list[str], sep: str = " ") -> str:
    return sep.join(words)


@flow
def shapes(words: list[str], loud: bool = False):
    """Calls in loops, branches, nested calls and repeated calls."""
    results = []
    for word in words:
        if loud:
            results.append(shout(word))
    joined = join(shout.map(words))
    again = join([joined, join(words)], sep="|")
    with open("/dev/null") as handle:
        handle.write(again)
    return again


def not_a_flow():
    return extract("x")
