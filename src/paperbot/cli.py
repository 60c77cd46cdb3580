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
from paperbot.config import (
    ConfigError,
    Settings,
    data_dir,
    default_config_path,
    describe,
    resolve,
)
from paperbot.embedding import EmbeddingError
from paperbot.history import History, HistoryError
from paperbot.llm import LLMError
from paperbot.prompting import PromptError, Turn
from paperbot.store import StoreError
from paperbot.text import clean

# Errors that carry a message for the user; anything else is a bug and says so.
USER_ERRORS = (CatalogError, ConfigError, StoreError, EmbeddingError, LLMError, PromptError)
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


def settings_options(command: Callable) -> Callable:
    """Options every command that reads the catalog or the store accepts."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Config file [env PAPERBOT_CONFIG; default: `paperbot config path`].",
        ),
        click.option(
            "--store",
            type=click.Path(file_okay=False, path_type=Path),
            help="Directory of the vector store [env PAPERBOT_STORE].",
        ),
        click.option(
            "--catalog",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Use this catalog file instead of the built-in one and imports "
            "[env PAPERBOT_CATALOG].",
        ),
        click.option(
            "--chroma-url",
            help="Use the Chroma server at http://HOST:PORT instead of the local store "
            "[env PAPERBOT_CHROMA_URL].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def k_option(command: Callable) -> Callable:
    return click.option("-k", type=int, help="How many entries to retrieve [default: 5].")(command)


def model_options(command: Callable) -> Callable:
    """Options naming the model; each overrides the env var and config key of the same name."""
    options = [
        click.option("-m", "--model", help="litellm model string, or 'extractive' (built in)."),
        click.option("--api-base", help="Endpoint of an OpenAI-compatible or Ollama server."),
        click.option("--temperature", type=float, help="Sampling temperature."),
        click.option("--max-tokens", type=int, help="Longest answer in tokens."),
        click.option(
            "--rerank/--no-rerank",
            default=None,
            help="Let the model reorder the retrieved entries and judge which answer the "
            "question (one more model call) [env PAPERBOT_RERANK].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def json_option(command: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


def _settings(flags: dict[str, Any]) -> Settings:
    config_path = flags.pop("config_path", None)
    return resolve(flags, config_path=config_path)


def _workspace(flags: dict[str, Any]):
    from paperbot.workspace import Workspace

    return Workspace(_settings(flags), progress=StderrProgress(), notify=_note)


def _note(message: str) -> None:
    click.echo(f"paperbot: {message}", err=True)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(__version__, prog_name="paperbot")
@click.pass_context
def cli(ctx: click.Context) -> int | None:
    """Answers about a catalog of paper summaries, with every claim cited.

    With no command, opens the chat (see `paperbot chat --help`).
    """
    if ctx.invoked_subcommand is None:
        return ctx.invoke(chat)


@cli.command()
@k_option
@model_options
@settings_options
def chat(**flags: Any):
    """Open the chat: streamed, cited answers with their evidence one key away.

    Enter sends; ctrl+n switches to multi-line input (then ctrl+s sends); Esc cancels an
    answer; F1 lists every key; ctrl+q quits.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("the chat needs a terminal; in scripts use 'paperbot ask QUESTION'")
    from paperbot.tui import run

    return run(_settings(flags))


@cli.command()
@click.argument("question")
@click.option(
    "-c", "--continue", "continue_last", is_flag=True, help="Continue the last conversation."
)
@click.option("--cid", help="Continue the conversation with this id (see `paperbot history`).")
@click.option("--no-stream", is_flag=True, help="Wait for the whole answer before printing it.")
@click.option("--no-log", is_flag=True, help="Do not record this answer in the history.")
@json_option
@k_option
@model_options
@settings_options
def ask(
    question: str,
    continue_last: bool,
    cid: str | None,
    no_stream: bool,
    no_log: bool,
    as_json: bool,
    **flags: Any,
):
    """Answer QUESTION from the catalog, citing entries as [@id].

    QUESTION may be '-' to read it from standard input.
    """
    question = _read_question(question)
    workspace = _workspace(flags)
    settings = workspace.settings
    history = History(settings.data_dir / "history.db")
    conversation_id, turns = _conversation(history, cid, continue_last)
    # Only the annotate policy leaves the text as the model wrote it, so only it can stream.
    streaming = not (as_json or no_stream) and settings.citations_policy == "annotate"

    def show(text: str) -> None:
        click.echo(text, nl=False)
        sys.stdout.flush()

    answer = workspace.ask(question, turns, on_text=show if streaming else None, stream=streaming)
    record = {**answer.to_json(), "settings": settings.public()}
    if settings.log and not no_log:
        record = _log(history, record, conversation_id)
    if as_json:
        _print_json(record)
    else:
        _print_answer(answer, streamed=streaming)
    if answer.error:
        raise LLMError("stream", f"the answer broke off: {answer.error}")


def _print_answer(answer, streamed: bool) -> None:
    """After the text (already streamed, or printed here with its marks): sources, then the
    citation check's verdict and problems."""
    from paperbot.citations import mark_unsupported, summary_lines

    report = answer.check
    if not streamed:
        click.echo(mark_unsupported(answer.text, report) if report else answer.text, nl=False)
    click.echo(" [answer incomplete]" if answer.incomplete else "")
    if answer.policy_note:
        click.echo(f"(citation policy: {answer.policy_note})")
    _print_sources(answer)
    if report is not None and not answer.abstained:
        click.echo("")
        for line in summary_lines(report):
            click.echo(line)


def _conversation(history: History, cid: str | None, continue_last: bool):
    """The conversation to continue and its turns; none unless asked for."""
    if not (cid or continue_last):
        return None, []
    conversation_id = cid or history.last_conversation_id()
    if conversation_id is None:
        raise click.UsageError("there is no conversation to continue yet")
    records = history.turns(conversation_id)
    if not records:
        raise click.UsageError(f"no conversation with id '{conversation_id}'")
    return conversation_id, [Turn(r["question"], r["answer"]) for r in records]


def _log(history: History, record: dict[str, Any], conversation_id: str | None) -> dict[str, Any]:
    try:
        return history.record(record, conversation_id)
    except HistoryError as error:
        click.echo(f"paperbot: warning: {error}; this answer was not logged", err=True)
        return record


def _print_sources(answer) -> None:
    if answer.sources:
        click.echo("\nSources:")
    elif answer.retrieved:
        click.echo("\nSources given to the model (it cited none):")
    for hit in answer.sources or answer.retrieved:
        link = hit.entry.first_link or ", ".join(hit.entry.link_labels) or "no link"
        click.echo(f"  [@{hit.entry.id}] {hit.entry.name} · {link}")


@cli.command("check")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--question", "-q", help="The question the answer was for.")
@json_option
@settings_options
def check_command(file, question: str | None, as_json: bool, **flags: Any):
    """Check the citations of an answer in FILE ('-' for stdin) against the catalog.

    Exits 0 when every claim is supported by the entries it cites, 1 when problems were found.
    """
    from paperbot.citations import check_answer, format_report

    workspace = _workspace(flags)
    report = check_answer(file.read(), workspace.entries, question)
    if as_json:
        _print_json(report.to_json())
    else:
        click.echo(format_report(report))
    if not report.ok:
        raise click.exceptions.Exit(1)


@cli.command("export")
@click.option(
    "--bib",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the catalog as BibTeX to FILE ('-' for stdout); keys are entry ids.",
)
@click.option(
    "--markdown",
    "markdown_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a conversation as Markdown with pandoc citations to FILE ('-' for stdout).",
)
@click.option("--cid", help="The conversation for --markdown [default: the last one].")
@settings_options
def export_command(bib: Path | None, markdown_file: Path | None, cid: str | None, **flags: Any):
    """Write the catalog as BibTeX and/or a conversation as Markdown, for pandoc:

    pandoc --citeproc --bibliography catalog.bib chat.md -o chat.html
    """
    from paperbot import export

    if bib is None and markdown_file is None:
        raise click.UsageError("give --bib FILE, --markdown FILE or both")
    workspace = _workspace(flags)
    if bib is not None:
        _write_text(bib, export.to_bibtex(workspace.entries))
    if markdown_file is not None:
        history = History(workspace.settings.data_dir / "history.db")
        conversation_id = cid or history.last_conversation_id()
        records = history.turns(conversation_id) if conversation_id else []
        if not records:
            raise click.UsageError(
                f"no conversation with id '{cid}'" if cid else "there is no conversation yet"
            )
        _write_text(markdown_file, export.conversation_markdown(records, workspace.entries))


def _write_text(path: Path, text: str) -> None:
    if str(path) == "-":
        click.echo(text, nl=False)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None


@cli.command()
@model_options
@settings_options
def doctor(**flags: Any):
    """Check the config, catalog, store, tiktoken, litellm, model and history, with fixes."""
    from paperbot.doctor import run_checks

    failed = 0
    for check in run_checks(_workspace(flags)):
        click.echo(check.line())
        failed += not check.ok
    if failed:
        raise click.exceptions.Exit(1)


@cli.command("history")
@click.option("-n", "limit", type=int, default=20, show_default=True, help="How many answers.")
@json_option
def history_command(limit: int, as_json: bool):
    """List recent answers, newest first (--json: the same records `ask --json` prints)."""
    records = History(data_dir() / "history.db").recent(limit)
    if as_json:
        _print_json(records)
        return
    if not records:
        click.echo("No answers recorded yet.")
    for record in records:
        when = record.get("created", "")[:16].replace("T", " ")
        model = record.get("model") or record.get("backend", "")
        conversation = record["conversation_id"]
        click.echo(f"#{record['id']:<4} {when}  {conversation}  {model:<20} {record['question']}")


@cli.group("config")
def config_group():
    """Show the effective settings or where the config file lives."""


@config_group.command("show")
@k_option
@model_options
@settings_options
def config_show(**flags: Any):
    """Print every setting, its value and where it came from (keys masked)."""
    for line in describe(_settings(flags)):
        click.echo(line)


@config_group.command("path")
def config_path_command():
    """Print the path of the config file."""
    click.echo(os.environ.get("PAPERBOT_CONFIG") or default_config_path())


@cli.command()
@click.argument("query", required=False)
@k_option
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help="Read one query per line from FILE ('-' for stdin); print one JSON object per line.",
)
@json_option
@model_options
@settings_options
def search(query: str | None, batch, as_json: bool, **flags: Any):
    """Rank catalog entries for QUERY (dense + lexical, named papers first; with --rerank,
    as the model judges them)."""
    if (query is None) == (batch is None):
        raise click.UsageError("give either a QUERY or --batch FILE")
    from paperbot.answer import closest_note, unmentioned

    workspace = _workspace(flags)
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
    elif lacked := unmentioned(hits):
        click.echo(f"No entry mentions {lacked}.")
    if note := closest_note(hits):
        click.echo(note)
    for hit in hits:
        # Answers are written only from relevant hits; say which ones those are.
        verdict = "" if hit.relevant else "  (not relevant)"
        click.echo(f"{hit.rank:>2}. {hit.entry.id:<28} {hit.score:.4f}  {hit.entry.name}{verdict}")


@cli.command("eval")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--split",
    type=click.Choice(["train", "heldout", "all"]),
    default="all",
    show_default=True,
    help="Which questions to score.",
)
@click.option(
    "--answers",
    is_flag=True,
    help="Also answer each question with the extractive answerer and check the answers.",
)
@json_option
@model_options
@settings_options
def eval_command(file: Path | None, split: str, answers: bool, as_json: bool, **flags: Any):
    """Score retrieval on a question set (FILE, default: the one shipped): BM25 alone,
    dense alone and paperbot side by side, per question type; with --rerank, also paperbot
    reranked by the configured model."""
    from dataclasses import replace

    from paperbot import evaluation
    from paperbot.config import EXTRACTIVE_MODEL

    workspace = _workspace(flags)
    path = file or evaluation.default_questions()
    try:
        questions = evaluation.load_questions(path, [entry.id for entry in workspace.entries])
    except evaluation.EvalSetError as error:
        raise click.ClickException(str(error)) from None
    chosen = evaluation.select(questions, split)
    if not chosen:
        raise click.UsageError(f"{path} has no {split} questions")
    if workspace.settings.rerank and not workspace.settings.uses_model:
        raise click.UsageError("--rerank needs a model: pass --model or set model in the config")
    compared = evaluation.systems(workspace.entries, workspace.store, workspace.retriever)
    if workspace.settings.rerank:
        compared["rerank"] = evaluation.paperbot_system(workspace.search)
    reports = [evaluation.evaluate(name, system, chosen) for name, system in compared.items()]
    checks = []
    if answers:
        # This measures the offline answerer, whatever model the settings name.
        workspace.settings = replace(workspace.settings, model=EXTRACTIVE_MODEL)
        checks = evaluation.check_answers(chosen, lambda question: workspace.ask(question))
    if as_json:
        data = {
            "file": str(path),
            "split": split,
            "questions": len(chosen),
            "systems": {report.system: report.to_json() for report in reports},
        }
        if answers:
            data["answers"] = {
                "scores": evaluation.answer_scores(checks),
                "questions": [check.to_json() for check in checks],
            }
        _print_json(data)
        return
    click.echo(f"{len(chosen)} questions ({split}) from {path}; k = max(5, gold entries)\n")
    for line in evaluation.format_table(reports):
        click.echo(line)
    click.echo(
        "\nR@k and MRR over answerable questions; abst: share abstained "
        "(wanted on unanswerable, a miss elsewhere)."
    )
    if answers:
        click.echo("\nExtractive answers (correct: has the facts and cites the gold entries,")
        click.echo("or abstains on an unanswerable question):\n")
        for line in evaluation.format_answers(evaluation.answer_scores(checks)):
            click.echo(line)
        click.echo("\nprec: share of the cited entries that are gold, over answered questions.")


@cli.group(invoke_without_command=True)
@json_option
@settings_options
@click.pass_context
def catalog(ctx: click.Context, as_json: bool, **flags: Any):
    """List the catalog's entries (id, name, tags)."""
    ctx.obj = _workspace(flags)
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
@settings_options
def import_command(file: Path, **flags: Any):
    """Add the papers listed in FILE (same format as the built-in catalog)."""
    from paperbot.catalog import import_file

    workspace = _workspace(flags)
    report = import_file(file, workspace.imports_dir)
    if not report.changed:
        click.echo(f"{file}: already imported ({report.entries} entries); nothing changed.")
        return
    click.echo(f"Imported {report.entries} entries from {file} ({report.new} new).")
    sync = workspace.sync()
    click.echo(f"Index: {sync.added} added, {sync.updated} updated, {sync.removed} removed.")


@cli.command()
@click.option("--rebuild", is_flag=True, help="Drop the store and embed every entry again.")
@settings_options
def index(rebuild: bool, **flags: Any):
    """Bring the vector store in line with the catalog (only changed entries are embedded)."""
    workspace = _workspace(flags)
    report = workspace.sync(rebuild=rebuild)
    where = workspace.store.location
    click.echo(
        f"{where[0].upper()}{where[1:]}: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged."
    )


def _read_question(question: str) -> str:
    if question == "-":
        question = sys.stdin.read()
    question = clean(question)
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
        # Outside standalone mode click returns a requested exit code instead of raising it.
        code = cli.main(args=argv, prog_name="paperbot", standalone_mode=False)
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
    return code if isinstance(code, int) else 0


def entry_point() -> None:
    sys.exit(main())
