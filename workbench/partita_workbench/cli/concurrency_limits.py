"""``partita concurrency-limit create|inspect|ls|delete``: tag-based task concurrency limits.

Laid out as Prefect's ``prefect concurrency-limit``: ``create TAG LIMIT``
lets at most LIMIT task runs tagged TAG be RUNNING at once (across every
process talking to the same backend); ``delete TAG`` removes the limit.
"""

from __future__ import annotations

import typer
from rich.table import Table

from partita.exceptions import ObjectNotFound
from partita_workbench.cli.render import plain_console, print_error

app = typer.Typer(help="Limit how many task runs with a tag run at once.", no_args_is_help=True)
console = plain_console()


def _client():
    from partita.client.orchestration import get_client

    return get_client(sync_client=True)


@app.command("create")
def create(
    tag: str = typer.Argument(..., help="The tag, as in @task(tags=[...]) or a pipeline task's tags."),
    limit: int = typer.Argument(..., min=0, max=10_000, help="How many task runs with the tag may run at once."),
) -> None:
    """Create the tag's limit, or change its size."""
    from partita.client.resource_schemas import TagConcurrencyLimitCreate
    from pydantic import ValidationError

    try:
        TagConcurrencyLimitCreate(tag=tag, concurrency_limit=limit)
    except ValidationError:
        print_error(f"tag {tag!r}: a tag is 1 to 255 characters, none of them / % & > or <; choose another tag")
        raise typer.Exit(2) from None
    with _client() as client:
        created = client.create_concurrency_limit(tag, limit)
    console.print(f"Concurrency limit for tag {created.tag!r}: {created.concurrency_limit} task run(s) at once.")


@app.command("inspect")
def inspect(tag: str = typer.Argument(..., help="The tag.")) -> None:
    """Show the tag's limit and the task runs holding its slots."""
    with _client() as client:
        try:
            found = client.read_concurrency_limit_by_tag(tag)
        except ObjectNotFound:
            print_error(f"no concurrency limit for tag {tag!r}; see 'partita concurrency-limit ls'")
            raise typer.Exit(1)
    console.print(f"Tag {found.tag!r}: {len(found.active_slots)}/{found.concurrency_limit} slots taken")
    for holder in found.active_slots:
        console.print(f"  task run {holder}")


@app.command("ls")
def ls() -> None:
    """List the tag limits."""
    with _client() as client:
        limits = client.read_concurrency_limits(limit=10_000)
    table = Table(title="Concurrency limits", title_justify="left")
    for column in ("Tag", "Limit", "Active slots", "ID"):
        table.add_column(column)
    for found in limits:
        table.add_row(found.tag, str(found.concurrency_limit), str(len(found.active_slots)), str(found.id))
    console.print(table)


@app.command("delete")
def delete(tag: str = typer.Argument(..., help="The tag.")) -> None:
    """Remove the tag's limit (task runs holding its slots keep running)."""
    with _client() as client:
        try:
            client.delete_concurrency_limit_by_tag(tag)
        except ObjectNotFound:
            print_error(f"no concurrency limit for tag {tag!r}; see 'partita concurrency-limit ls'")
            raise typer.Exit(1)
    console.print(f"Deleted the concurrency limit for tag {tag!r}.")
