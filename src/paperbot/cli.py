"""The ``paperbot`` command line: a thin shell over the workspace and the answer pipeline."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from paperbot import __version__
from paperbot.catalog import CatalogError
from paperbot.config import ConfigError, resolve
from paperbot.embedding import EmbeddingError
from paperbot.store import StoreError

# Errors that carry a message for the user; anything else is a bug and says so.
USER_ERRORS = (CatalogError, ConfigError, StoreError, EmbeddingError)
MAX_QUESTION_CHARS = 4000


class StderrProgress:
    """Shows indexing progress on stderr once the work has taken about a second."""

    def __init__(self, label: str = "Indexing", delay: float = 1.0) -> None:
        self.label = label
        self.delay = delay
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if done == 0:
            self.started = time.monotonic()
            return
        elapsed = time.monotonic() - self.started
        if elapsed < self.delay and done < total:
            return
        if not (self.shown or elapsed >= self.delay):
            return
        self.shown = True
        end = "\n" if done >= total else ""
        if sys.stderr.isatty():
            click.echo(
                f"\r{self.label}: {done}/{total} entries ({elapsed:.1f} s)", nl=False, err=True
            )
            click.echo(end, nl=False, err=True)
        elif done >= total:
            click.echo(f"{self.label}: {total} entries in {elapsed:.1f} s", err=True)


def store_options(command: Callable) -> Callable:
    """Options every command that reads the catalog or the store accepts."""
    command = click.option(
        "--catalog",
        "catalog_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Use this catalog file instead of the built-in catalog and imports "
        "[env PAPERBOT_CATALOG].",
    )(command)
    return click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory of the vector store [env PAPERBOT_STORE; default: user data dir].",
    )(command)


def json_option(command: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


def _workspace(store: Path | None, catalog_path: Path | None, k: int | None = None):
    from paperbot.workspace import Workspace

    settings = resolve({"store": store, "catalog": catalog_path, "k": k})
    return Workspace(settings, progress=StderrProgress())


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperbot")
def cli() -> None:
    """Answers about a catalog of paper summaries, with every claim cited."""


@cli.command()
@click.argument("question")
@click.option("-k", type=int, help="How many entries to retrieve [default: 5].")
@json_option
@store_options
def ask(question: str, k: int | None, as_json: bool, store: Path | None, catalog_path: Path | None):
    """Answer QUESTION from the catalog, citing entries as [@id].

    QUESTION may be '-' to read it from standard input.
    """
    from paperbot.extractive import extractive_answer

    question = _read_question(question)
    workspace = _workspace(store, catalog_path, k)
    hits = workspace.search(question)
    answer = extractive_answer(question, hits, workspace.retriever)
    if as_json:
        _print_json(answer.to_json())
        return
    click.echo(answer.text)
    if answer.sources:
        click.echo("\nSources:")
        for hit in answer.sources:
            link = hit.entry.first_link or ", ".join(hit.entry.link_labels) or "no link"
            click.echo(f"  [@{hit.entry.id}] {hit.entry.name} · {link}")


@cli.command()
@click.argument("query", required=False)
@click.option("-k", type=int, help="How many entries to show [default: 5].")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help="Read one query per line from FILE ('-' for stdin); print one JSON object per line.",
)
@json_option
@store_options
def search(
    query: str | None,
    k: int | None,
    batch,
    as_json: bool,
    store: Path | None,
    catalog_path: Path | None,
):
    """Rank catalog entries for QUERY (dense + BM25, named papers first)."""
    if (query is None) == (batch is None):
        raise click.UsageError("give either a QUERY or --batch FILE")
    workspace = _workspace(store, catalog_path, k)
    if batch is not None:
        for line in batch:
            if line.strip():
                hits = workspace.search(line.strip())
                result = {"query": line.strip(), "hits": [hit.to_json() for hit in hits]}
                click.echo(json.dumps(result, ensure_ascii=False))
        return
    hits = workspace.search(query)
    if as_json:
        _print_json({"query": query, "hits": [hit.to_json() for hit in hits]})
        return
    if not hits:
        click.echo("No entries match.")
    for hit in hits:
        click.echo(f"{hit.rank:>2}. {hit.entry.id:<28} {hit.score:.4f}  {hit.entry.name}")


@cli.group(invoke_without_command=True)
@json_option
@store_options
@click.pass_context
def catalog(ctx: click.Context, as_json: bool, store: Path | None, catalog_path: Path | None):
    """List the catalog's entries (id, name, tags)."""
    ctx.obj = _workspace(store, catalog_path)
    if ctx.invoked_subcommand is not None:
        return
    entries = ctx.obj.entries
    if as_json:
        _print_json({"entries": [entry.to_json() for entry in entries]})
        return
    width = max(len(entry.id) for entry in entries)
    click.echo(f"{'ID':<{width}}  {'NAME':<48}  TAGS")
    for entry in entries:
        name = entry.name if len(entry.name) <= 48 else entry.name[:47] + "…"
        click.echo(f"{entry.id:<{width}}  {name:<48}  {', '.join(entry.tags)}")
    click.echo(f"\n{len(entries)} entries")


@catalog.command("show")
@click.argument("entry_id")
@json_option
@click.pass_obj
def catalog_show(workspace, entry_id: str, as_json: bool):
    """Show one entry in full."""
    from paperbot.catalog import find

    entry = find(workspace.entries, entry_id)
    if entry is None:
        raise click.ClickException(
            f"no entry with id '{entry_id}'; 'paperbot catalog' lists the ids"
        )
    if as_json:
        _print_json(entry.to_json())
        return
    click.echo(f"{entry.name}  [@{entry.id}]")
    if entry.title and entry.title != entry.name:
        click.echo(entry.title)
    if entry.authors:
        click.echo("Authors: " + ", ".join(entry.authors))
    if entry.affiliations:
        click.echo("Affiliations: " + ", ".join(entry.affiliations))
    for link in entry.links:
        click.echo(f"Link: {link}")
    if entry.link_labels:
        click.echo("Also: " + ", ".join(entry.link_labels))
    if entry.tags:
        click.echo("Tags: " + ", ".join(entry.tags))
    click.echo("")
    click.echo(entry.summary)


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@store_options
def import_command(file: Path, store: Path | None, catalog_path: Path | None):
    """Add the papers listed in FILE (same format as the built-in catalog)."""
    from paperbot.catalog import import_file

    workspace = _workspace(store, catalog_path)
    report = import_file(file, workspace.imports_dir)
    if not report.changed:
        click.echo(f"{file}: already imported ({report.entries} entries); nothing changed.")
        return
    click.echo(f"Imported {report.entries} entries from {file} ({report.new} new).")
    sync = workspace.sync()
    click.echo(f"Index: {sync.added} added, {sync.updated} updated, {sync.removed} removed.")


@cli.command()
@click.option("--rebuild", is_flag=True, help="Drop the store and embed every entry again.")
@store_options
def index(rebuild: bool, store: Path | None, catalog_path: Path | None):
    """Bring the vector store in line with the catalog (only changed entries are embedded)."""
    workspace = _workspace(store, catalog_path)
    report = workspace.sync(rebuild=rebuild)
    click.echo(
        f"Index at {workspace.settings.store}: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged."
    )


def _read_question(question: str) -> str:
    if question == "-":
        question = sys.stdin.read()
    question = " ".join(question.replace("\x00", " ").split())
    if not question:
        raise click.UsageError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise click.UsageError(
            f"the question is {len(question):,} characters long; "
            f"keep it under {MAX_QUESTION_CHARS:,}"
        )
    return question


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure becomes one line on stderr and a non-zero exit code."""
    try:
        cli.main(args=argv, prog_name="paperbot", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        click.echo("paperbot: interrupted", err=True)
        return 130
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        message = error.format_message().rstrip(".")
        click.echo(f"paperbot: error: {message}{hint}", err=True)
        return 2
    except click.ClickException as error:
        click.echo(f"paperbot: error: {error.format_message()}", err=True)
        return error.exit_code
    except USER_ERRORS as error:
        click.echo(f"paperbot: error: {error}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("paperbot: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # The reader went away (`paperbot catalog | head`); that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        if os.environ.get("PAPERBOT_DEBUG"):
            raise
        click.echo(
            f"paperbot: internal error: {type(error).__name__}: {error} "
            "(set PAPERBOT_DEBUG=1 to see the traceback)",
            err=True,
        )
        return 70
    return 0


def entry_point() -> None:
    sys.exit(main())
