"""Command line: `assistant ingest | ask | search | eval | serve`. Thin: the work is in service.py."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from pydantic import ValidationError

from assistant.config import DEFAULT_PASSAGE_CHARS, Settings, SettingsError, describe_settings_error
from assistant.config import load_settings as settings_from_env
from assistant.progress import progress_bars

# The same bounds as the HTTP API's (AskRequest.k, GET /api/search k).
ASK_K_MAX = 20
SEARCH_K_MAX = 50


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
    except (CliError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # settings built elsewhere (e.g. by the eval command)
        print(f"error: {describe_settings_error(exc)}", file=sys.stderr)
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


def bounded_int(low: int, high: int):
    """An argparse type: an integer in [low, high], else a one-line usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {low} to {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Clause-citing guidance assistant.")
    parser.add_argument("--corpus", type=Path, help="corpus folder (ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    parser.add_argument("--embedder", help="embedding backend (ASSISTANT_EMBEDDER)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="add documents to the corpus and (re)build the index")
    ingest.add_argument("paths", nargs="*", type=Path, help="files to add to the corpus folder first")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("--strict", action="store_true",
                        help="exit 1 when any file was skipped (by default only when nothing was indexed)")
    ingest.set_defaults(handler=cmd_ingest)

    ask = commands.add_parser("ask", help="answer a question with cited clauses")
    ask.add_argument("question")
    ask.add_argument("-k", type=bounded_int(1, ASK_K_MAX), default=None, help=f"citations at most (1-{ASK_K_MAX})")
    ask.add_argument("--document", help="only this document id")
    ask.add_argument("--lang", choices=["zh", "en"], help="only clauses in this language")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(handler=cmd_ask)

    search = commands.add_parser("search", help="list the best-matching clauses with scores")
    search.add_argument("query")
    search.add_argument("-k", type=bounded_int(1, SEARCH_K_MAX), default=10, help=f"hits (1-{SEARCH_K_MAX})")
    search.add_argument("--document")
    search.add_argument("--lang", choices=["zh", "en"])
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=cmd_search)

    serve = commands.add_parser("serve", help="run the HTTP API, widget and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=bounded_int(0, 65535), default=8000)
    serve.add_argument("--workers", type=bounded_int(1, 64), default=1,
                       help="worker processes (each loads the model and the index; one per core)")
    serve.add_argument(
        "--forwarded-allow-ips", default=None, metavar="ADDRESSES",
        help="behind a reverse proxy: the proxy's addresses (comma-separated, or *), whose "
        "X-Forwarded-For / X-Forwarded-Proto are believed; default: none, the TCP peer is the client",
    )
    serve.set_defaults(handler=cmd_serve)

    # The benchmark's own files come after `eval`: it builds a throwaway index from them, so the
    # global --corpus / --index name nothing for it (cmd_eval refuses them).
    evaluate = commands.add_parser("eval", help="score retrieval on a BEIR-layout benchmark")
    evaluate.add_argument("--corpus", dest="benchmark_corpus", metavar="CORPUS_JSONL", type=Path, required=True,
                          help="the benchmark's corpus.jsonl")
    evaluate.add_argument("--queries", type=Path, required=True, help="queries-<split>.jsonl")
    evaluate.add_argument("--qrels", type=Path, required=True, help="qrels-<split>.tsv")
    evaluate.add_argument(
        "--baseline", action="append", choices=["bm25", "dense"],
        help="also score plain BM25 (bm25) or the embedder alone (dense) in the same run; repeatable",
    )
    evaluate.add_argument("--cache-dir", type=Path, help="cache passage embeddings here (keyed by model and text)")
    evaluate.add_argument("--embedder", dest="embedder_spec", default=None,
                          help="embedding backend (default: the global --embedder, else settings)")
    evaluate.add_argument(
        "--reranker", help="second stage for the pipeline: st:<cross-encoder id or path> (default: settings; none)"
    )
    evaluate.add_argument("--rerank-depth", type=int, help="hits the reranker re-scores (default: 30)")
    evaluate.add_argument("--passage-chars", type=int, default=DEFAULT_PASSAGE_CHARS)
    evaluate.add_argument("--limit", type=int, help="only the first N queries (quick checks)")
    evaluate.add_argument(
        "--min-confidence", type=float, help="scope sets: the operating point scored (default: the shipped one)"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(handler=cmd_eval)
    return parser


def load_settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if args.corpus is not None:
        overrides["corpus_dir"] = args.corpus
    if args.index is not None:
        overrides["index_dir"] = args.index
    if args.embedder is not None:
        overrides["embedder"] = args.embedder
    return settings_from_env(**overrides)


def open_assistant(args: argparse.Namespace, quiet: bool = False):
    from assistant.index import IndexError_
    from assistant.service import Assistant

    settings = load_settings(args)
    assistant = Assistant(settings)
    try:
        outcome = assistant.open(progress=progress_bars(not quiet and sys.stderr.isatty()),
                                 on_wait=lambda message: print(message, file=sys.stderr, flush=True))
    except IndexError_ as exc:
        raise CliError(str(exc) + _corpus_hint(settings)) from exc
    if outcome != "loaded":
        print(f"index {outcome}", file=sys.stderr)
    return assistant


def cmd_ingest(args: argparse.Namespace) -> int:
    """Copy the given files into the corpus and rebuild.

    Exit 0 when something was indexed, even if bad files were skipped (each is named with its
    reason, and the count is stated); 1 when nothing could be indexed, or with --strict when any
    file was skipped.
    """
    from assistant.index import IndexError_
    from assistant.service import Assistant

    settings = load_settings(args)
    skipped = 0
    added = 0
    for path, reason in _stage_ingest(args.paths, settings):
        if reason is not None:
            print(f"skipped {path}: {reason}", file=sys.stderr)
            skipped += 1
        else:
            added += 1
    if args.paths and not added:
        # Nothing new to index: leave the index as it is rather than rebuild the same corpus.
        print(f"error: no file was added ({skipped} skipped); the index is unchanged", file=sys.stderr)
        return 1

    assistant = Assistant(settings)
    try:
        index = assistant.rebuild(progress=progress_bars(not args.quiet),
                                  on_wait=lambda message: print(message, file=sys.stderr, flush=True))
    except IndexError_ as exc:
        raise CliError(str(exc) + _corpus_hint(settings)) from exc
    except OSError as exc:  # disk full, read-only, file size limit: the build was abandoned
        raise CliError(f"cannot write the new index ({plain_os_error(exc)}); the previous index is unchanged") from exc
    for error in assistant.last_build_errors:
        print(f"skipped {error}", file=sys.stderr)
        skipped += 1
    counts = index.manifest.counts
    print(
        f"indexed {counts['documents']} documents, {counts['clauses']} clauses, "
        f"{counts['passages']} passages into {settings.index_dir} (version {index.version})"
    )
    if skipped:
        print(f"skipped {skipped} file{'s' if skipped != 1 else ''} that could not be indexed (named above)",
              file=sys.stderr)
    if not counts["documents"]:
        return 1
    return 1 if skipped and args.strict else 0


def _stage_ingest(paths: list[Path], settings: Settings):
    """Check and copy each path into the corpus folder; yields (path, None) or (path, reason)."""
    from assistant.documents import DocumentError, discover, document_id_for, id_clash_reason, load_document

    corpus = settings.corpus_dir
    taken = {}
    for existing in discover(corpus):
        taken.setdefault(document_id_for(existing), existing)
    claimed: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            yield path, f"is a folder; name its files instead (assistant ingest {path}/*)"
            continue
        target = corpus / path.name
        already_there = target.exists() and _same_file(path, target)
        try:
            document = load_document(path, max_bytes=settings.max_upload_bytes)
        except DocumentError as exc:
            yield path, exc.reason
            continue
        owner = claimed.get(document.id)
        if owner is None:
            existing = taken.get(document.id)
            # the same name replaces the corpus copy; another name with the same id would collide
            if existing is not None and existing.name != path.name:
                owner = existing
        if owner is not None:
            yield path, id_clash_reason(document.id, owner)
            continue
        claimed[document.id] = path
        if already_there:
            print(f"{path} is already in {corpus} as document {document.id}; reindexing it")
        else:
            try:
                corpus.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            except OSError as exc:
                yield path, f"cannot copy into {corpus}: {exc.strerror or exc}"
                continue
            print(f"added {path} to {corpus} as document {document.id}")
        yield path, None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _corpus_hint(settings: Settings) -> str:
    """Where the build looked, when it found nothing to index: a wrong --corpus is the usual cause."""
    from assistant.documents import discover

    corpus = settings.corpus_dir
    if discover(corpus):
        return ""
    where = "does not exist" if not corpus.exists() else (
        "is not a folder" if not corpus.is_dir() else "holds no PDF, DOCX, Markdown, text or HTML file")
    return (f"\n  the corpus folder {corpus} {where}; pass --corpus (or set ASSISTANT_CORPUS_DIR),"
            f" or add files with `assistant ingest FILE...`")


def _check_question(args: argparse.Namespace, text: str) -> None:
    # Before the model and the index are opened: an empty or overlong question would otherwise
    # cost a model load, and a rebuild when the corpus has changed, only to be refused.
    from assistant.service import QuestionError, clean_question

    try:
        clean_question(text, load_settings(args).max_question_chars)
    except QuestionError as exc:
        raise CliError(str(exc)) from exc


def _check_document(assistant, document: str | None) -> None:
    if (problem := assistant.unknown_document(document)) is not None:
        raise CliError(problem)


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import QuestionError

    _check_question(args, args.question)
    assistant = open_assistant(args)
    _check_document(assistant, args.document)
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

    _check_question(args, args.query)
    assistant = open_assistant(args)
    _check_document(assistant, args.document)
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
    _check_port_free(args.host, args.port)
    # Idle keep-alive connections close after 5 s; a stop waits at most 10 s for requests in flight.
    # X-Forwarded-For is believed only from the proxies named with --forwarded-allow-ips: uvicorn's
    # own default trusts 127.0.0.1, so any local process could pick (and rotate) its client
    # address past the rate limits and the operator lockout.
    proxies = (args.forwarded_allow_ips or "").strip()
    timeouts = {"timeout_keep_alive": 5, "timeout_graceful_shutdown": 10,
                "proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}
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


def _check_port_free(host: str, port: int) -> None:
    """Refuse a taken address before anything starts.

    uvicorn finds out only after the application has started (and, with --workers, after the
    index was built or checked), then exits 3 with an errno; a second `assistant serve` is the
    usual cause.
    """
    import errno
    import socket

    if port == 0:
        return
    # The socket uvicorn itself makes (config.bind_socket): IPv6 only for a literal IPv6 host.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # the same option uvicorn sets, so a port left in TIME_WAIT by a stopped server is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror:
            return  # a name this probe cannot bind the way uvicorn might (IPv6-only): uvicorn says
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliError(f"cannot listen on {host}:{port}: already in use (is another server running?);"
                               " choose another with --port") from exc
            raise CliError(f"cannot listen on {host}:{port}: {plain_os_error(exc)}") from exc


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import METRICS, run_eval

    if args.corpus or args.index:
        raise CliError("the global --corpus / --index do not apply to eval: it indexes the benchmark "
                       "named after `eval` (eval --corpus CORPUS_JSONL --queries ... --qrels ...)")
    settings = Settings()
    options = argparse.Namespace(**{**vars(args), "corpus": args.benchmark_corpus})
    options.embedder_spec = args.embedder_spec or args.embedder or settings.embedder
    options.reranker = args.reranker or settings.reranker
    report = run_eval(options)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    columns = [name for name in ("pipeline", "bm25", "dense") if name in report]
    reranker = f", reranker {report['reranker']}" if report["reranker"] else ""
    print(f"{report['queries']} queries, {report['passages']} passages, embedder {report['embedder']}{reranker}")
    print(f"{'metric':<20}" + "".join(f"{name:>12}" for name in columns))
    for metric in (*METRICS, "median_latency_ms"):
        print(f"{metric:<20}" + "".join(f"{report[name][metric]:>12}" for name in columns))
    print(f"index build: {report['pipeline']['index_build_s']} s")
    if "scope" in report:
        scope = report["scope"]
        print(f"scope ({scope['answerable']} answerable, {scope['unanswerable']} not, min confidence "
              f"{scope['min_confidence']}): AUROC {scope['auroc']}, false abstention {scope['false_abstention']}, "
              f"correct abstention {scope['correct_abstention']}, recall@10 {scope['recall@10']}")
    return 0


def plain_os_error(exc: OSError) -> str:
    """An OSError in words an operator acts on: a full disk is said as such."""
    import errno

    plain = {
        errno.ENOSPC: "no space left on device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
    }.get(exc.errno)
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{plain}{where}" if plain else str(exc)


def _pages(item: dict) -> str:
    from assistant.outline import pages_text

    text = pages_text(item.get("page_label"), "en")
    return f", {text}" if text else ""


def format_answer(answer, color: bool = False) -> str:
    bold, dim, reset = ("\033[1m", "\033[2m", "\033[0m") if color else ("", "", "")
    if answer.abstained:
        reason = answer.reason or ""
        lines = [f"{bold}No answer in the guidance.{reset} {reason[:1].upper()}{reason[1:]}"]
        if answer.suggestions:
            # Places to look, said as such: these are not answers.
            lines.append("Closest clauses (not answers): " + "; ".join(
                f"{s['clause']} {s['title']} ({s['document']})" for s in answer.suggestions))
        return "\n".join(lines)
    lines = [f"{bold}Answer:{reset} {answer.answer}", ""]
    if answer.uncertain:
        # What the widget says with its "may not be covered" note: the CLI reader is told too.
        lines.insert(1, f"{bold}Note:{reset} the guidance may not cover this question "
                        f"(confidence {answer.confidence:.2f}, close to where it would abstain).")
    for number, citation in enumerate(answer.citations, 1):
        item = asdict(citation)
        heading = f"{citation.clause} {citation.title}" if citation.title else citation.clause
        lines.append(
            f"[{number}] {bold}{heading}{reset} — {citation.document}{_pages(item)}"
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
