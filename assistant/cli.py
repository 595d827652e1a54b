"""Command line: `assistant ingest | ask | search | eval | serve`. Thin: the work is in service.py."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from assistant.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `assistant ask ... | head` closed the pipe: not an error
        sys.stderr.close()
        return 0
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        from assistant.embedding import EmbedderError
        from assistant.reranking import RerankerError

        if not isinstance(exc, (EmbedderError, RerankerError)):
            raise
        print(f"error: {exc}", file=sys.stderr)  # a model setting that names no usable model
        return 2


class CliError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Clause-citing guidance assistant.")
    parser.add_argument("--corpus", type=Path, help="corpus folder (ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    parser.add_argument("--embedder", help="embedding backend (ASSISTANT_EMBEDDER)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="add documents to the corpus and (re)build the index")
    ingest.add_argument("paths", nargs="*", type=Path, help="files to add to the corpus folder first")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(handler=cmd_ingest)

    ask = commands.add_parser("ask", help="answer a question with cited clauses")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=None, help="citations at most")
    ask.add_argument("--document", help="only this document id")
    ask.add_argument("--lang", choices=["zh", "en"], help="only clauses in this language")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(handler=cmd_ask)

    search = commands.add_parser("search", help="list the best-matching clauses with scores")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=10)
    search.add_argument("--document")
    search.add_argument("--lang", choices=["zh", "en"])
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=cmd_search)

    serve = commands.add_parser("serve", help="run the HTTP API, widget and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (each loads the model and the index; one per core)")
    serve.set_defaults(handler=cmd_serve)

    from assistant.evaluation import add_eval_command

    add_eval_command(commands)
    return parser


def load_settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if args.corpus is not None:
        overrides["corpus_dir"] = args.corpus
    if args.index is not None:
        overrides["index_dir"] = args.index
    if args.embedder is not None:
        overrides["embedder"] = args.embedder
    return Settings(**overrides)


def progress_bars(enabled: bool):
    """A ProgressFactory drawing one tqdm bar per stage (on stderr)."""
    if not enabled:
        return None
    from tqdm import tqdm

    def factory(label: str, total: int):
        bar = tqdm(total=total, desc=label, unit="text", file=sys.stderr, leave=True)

        def tick(count: int) -> None:
            bar.update(count)
            if bar.n >= total:
                bar.close()

        return tick

    return factory


def open_assistant(args: argparse.Namespace, quiet: bool = False):
    from assistant.index import IndexError_
    from assistant.service import Assistant

    settings = load_settings(args)
    assistant = Assistant(settings)
    try:
        outcome = assistant.open(progress=progress_bars(not quiet and sys.stderr.isatty()))
    except IndexError_ as exc:
        raise CliError(str(exc)) from exc
    if outcome != "loaded":
        print(f"index {outcome}", file=sys.stderr)
    return assistant


def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.documents import DocumentError, load_document
    from assistant.index import IndexError_
    from assistant.service import Assistant

    settings = load_settings(args)
    failed = 0
    for path in args.paths:
        try:
            document = load_document(path, max_bytes=settings.max_upload_bytes)
        except DocumentError as exc:
            print(f"skipped {exc}", file=sys.stderr)
            failed += 1
            continue
        settings.corpus_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, settings.corpus_dir / path.name)
        print(f"added {path} to {settings.corpus_dir} as document {document.id}")
    if args.paths and failed == len(args.paths):
        # Nothing new to index: leave the index as it is rather than rebuild the same corpus.
        print("error: no file was added; the index is unchanged", file=sys.stderr)
        return 1

    assistant = Assistant(settings)
    try:
        index = assistant.rebuild(progress=progress_bars(not args.quiet))
    except IndexError_ as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:  # disk full, read-only, file size limit: the build was abandoned
        raise CliError(f"cannot write the new index ({exc}); the previous index is unchanged") from exc
    for error in assistant.last_build_errors:
        print(f"skipped {error}", file=sys.stderr)
        failed += 1
    counts = index.manifest.counts
    print(
        f"indexed {counts['documents']} documents, {counts['clauses']} clauses, "
        f"{counts['passages']} passages into {settings.index_dir} (version {index.version})"
    )
    return 1 if failed else 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import QuestionError

    assistant = open_assistant(args)
    try:
        answer = assistant.ask(args.question, k=args.k, document=args.document, lang=args.lang)
    except QuestionError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
        return 0
    print(format_answer(answer, color=sys.stdout.isatty()))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.service import QuestionError

    assistant = open_assistant(args)
    try:
        hits = assistant.search(args.query, k=args.k, document=args.document, lang=args.lang)
    except QuestionError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(hits, ensure_ascii=False, indent=2))
        return 0
    for rank, hit in enumerate(hits, 1):
        print(f"{rank:>2}. {hit['score']:.3f}  {hit['document']} {hit['number']} {hit['title']}{_pages(hit)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from assistant.api import create_app

    settings = load_settings(args)
    try:
        app = create_app(settings)
    except ValueError as exc:  # a setting that makes no sense, e.g. ASSISTANT_RATE_LIMIT
        raise CliError(str(exc)) from exc
    # Idle keep-alive connections close after 5 s; a stop waits at most 10 s for requests in flight.
    timeouts = {"timeout_keep_alive": 5, "timeout_graceful_shutdown": 10}
    if args.workers <= 1:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", **timeouts)
        return 0
    # Build or check the index once here, so the workers only load it instead of racing to build it.
    open_assistant(args)
    for name, value in (("CORPUS_DIR", args.corpus), ("INDEX_DIR", args.index), ("EMBEDDER", args.embedder)):
        if value is not None:
            os.environ[f"ASSISTANT_{name}"] = str(value)
    uvicorn.run("assistant.api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="info", **timeouts)
    return 0


def _pages(item: dict) -> str:
    start, end = item.get("page_start"), item.get("page_end")
    if start is None:
        return ""
    return f", p. {start}" if start == end or end is None else f", pp. {start}-{end}"


def format_answer(answer, color: bool = False) -> str:
    bold, dim, reset = ("\033[1m", "\033[2m", "\033[0m") if color else ("", "", "")
    if answer.abstained:
        lines = [f"{bold}No answer in the guidance.{reset} {answer.reason}"]
        if answer.suggestions:
            # Places to look, said as such: these are not answers.
            lines.append("Closest clauses (not answers): " + "; ".join(
                f"{s['clause']} {s['title']} ({s['document']})" for s in answer.suggestions))
        return "\n".join(lines)
    lines = [f"{bold}Answer:{reset} {answer.answer}", ""]
    for number, citation in enumerate(answer.citations, 1):
        item = asdict(citation)
        lines.append(
            f"[{number}] {bold}{citation.clause} {citation.title}{reset} — {citation.document}{_pages(item)}"
            + (" [background, not guidance]" if citation.kind == "background" else "")
            + "".join(f", also {o['id']}" for o in citation.also_in)
            + f"  {dim}(score {citation.score:.3f}){reset}"
        )
        lines.append(f"    {dim}{' > '.join(citation.path)}{reset}")
        lines.append("    " + _mark(citation.text, citation.highlights, color).replace("\n", "\n    "))
        lines.append("")
    lines.append(f"{dim}{answer.took_ms:.0f} ms, index {answer.index_version}{reset}")
    return "\n".join(lines)


def _mark(text: str, spans, color: bool) -> str:
    start_mark, end_mark = ("\033[1;33m", "\033[0m") if color else ("»", "«")
    out, cursor = [], 0
    for start, end in sorted(spans):
        out += [text[cursor:start], start_mark, text[start:end], end_mark]
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
