"""Answer quality on the labelled guidance question set, as /api/ask and /api/search give it.

Runs tests/data/guidance_set.jsonl (zh and en questions written from the guidance's topics, about
30 % not answerable; a deterministic third is held out) through an Assistant over the shipped
corpus, and reports per language, for one split (held-out by default: the other split is what
scope parameters are fitted on, so figures on it are not results):

- /api/ask: right clause first, right clause in the top 3 (an abstention is a miss), false
  abstention (answerable questions that abstained), correct abstention (the others; split into
  plainly off-topic questions and the rest: near misses and clause numbers the guidance does not
  have), AUROC of ``confidence`` when answers carry it, answers flagged ``uncertain``, and
  refusals of answerable questions whose ``suggestions`` hold the right clause;
- /api/search: right clause first and in the top 3;
- issue 13: answers whose list is cut at its lead-in, list items shown without their lead-in,
  answers citing one clause number twice, background documents cited first for an answerable
  question, and right-first with ``lang`` set to the other edition against unfiltered;
- the mission questions of issue 12, as a separate block.

A citation is right when it is a guidance clause (not a ``background`` document) whose number
equals a gold number or is a sub-clause of one ("11.7.2.1" answers gold "11.7").

    .venv/bin/python scripts/eval_guidance.py [--split heldout|fit|all] [--index DIR] [--json] [--misses]

The index is built on first use in --index (default .cache/guidance-index) and reused while the
corpus and embedder are unchanged.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT / "tests" / "data" / "guidance_set.jsonl"
# Used when citations carry no ``kind`` (today's Answer JSON): the two guidance editions.
GUIDANCE_DOCUMENTS = frozenset({"ccso-zh", "ccso-en"})
SPLITS = ("heldout", "fit", "all")
LANGS = ("zh", "en", "all")
OFF_TOPIC_STYLES = frozenset({"off-topic"})

# Issue 12 "Done when": these cite 11.7 / 5.4 (or sub-clauses) first; the last three abstain.
MISSION = [
    {"question": "What does the guidance say about data security?", "lang": "en", "gold": ["11.7"]},
    {"question": "What does the guidance say about staff training?", "lang": "en", "gold": ["5.4"]},
    {"question": "指导要求对数据安全有什么规定？", "lang": "zh", "gold": ["11.7"]},
    {"question": "What is the capital of France?", "lang": "en", "gold": []},
    {"question": "你好", "lang": "zh", "gold": []},
    {"question": "个人所得税怎么算", "lang": "zh", "gold": []},
]

_MARKER = re.compile(r"\s*((?:\[\d+\])+)")
# "b) …", "2）…", "三、…"; not a clause number such as "5.4.1 Training system".
_ITEM_START = re.compile(r"^\s*(?:[a-zA-Z]|\d{1,2}|[一二三四五六七八九十]+)[)）.、](?!\d)\s*")
_LEAD_IN_END = re.compile(r"(?:[:：]|\bfollowing[.。]?)\s*$", re.IGNORECASE)


# ---------------------------------------------------------------------------------- the set
class SetError(ValueError):
    """The question set is malformed."""


def load_set(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SetError(f"{path}:{number}: not JSON ({exc.msg})") from None
        missing = {"question", "lang", "answerable", "gold"} - row.keys()
        if missing:
            raise SetError(f"{path}:{number}: missing {', '.join(sorted(missing))}")
        # Another set kept aside whole (no split, no ids) is all held out.
        row.setdefault("id", f"line-{number}")
        row.setdefault("split", "heldout")
        if row["answerable"] != bool(row["gold"]):
            raise SetError(f"{path}:{number}: answerable questions need gold clauses and only they have them")
        rows.append(row)
    return rows


def select(rows: Iterable[dict], split: str = "all", lang: str = "all") -> list[dict]:
    return [r for r in rows if split in ("all", r["split"]) and lang in ("all", r["lang"])]


# ------------------------------------------------------------------------------- citations
def clause_matches(number: str, gold: Sequence[str]) -> bool:
    return any(number == g or number.startswith(g + ".") for g in gold)


def is_background(citation: dict) -> bool:
    kind = citation.get("kind")
    if kind is not None:
        return kind == "background"
    return citation.get("document") not in GUIDANCE_DOCUMENTS


def is_right(citation: dict, gold: Sequence[str]) -> bool:
    # Search results call the clause number "number", citations "clause".
    number = citation.get("clause", citation.get("number"))
    return not is_background(citation) and number is not None and clause_matches(str(number), gold)


def right_at(items: Sequence[dict], gold: Sequence[str], depth: int) -> bool:
    return any(is_right(c, gold) for c in items[:depth])


def duplicate_clause(citations: Sequence[dict]) -> str | None:
    """The first guidance clause number cited twice (e.g. once from each edition), if any."""
    seen: set[str] = set()
    for c in citations:
        if is_background(c):
            continue
        number = str(c.get("clause"))
        if number in seen:
            return number
        seen.add(number)
    return None


# ------------------------------------------------------------------------------ answer text
def answer_groups(text: str) -> dict[str, list[str]]:
    """The answer's pieces grouped by the citation marker that follows them ("[2]" -> "2").

    A marker may close one sentence (today) or a clause's whole group, with list items on lines
    of their own (issue 13's grouped answers): each line is a piece. Text without markers is one
    group per line, so a layout without markers is still checked."""
    groups: dict[str, list[str]] = {}
    if not _MARKER.search(text):
        for n, line in enumerate(line for line in text.splitlines() if line.strip()):
            groups[f"line{n}"] = [line.strip()]
        return groups
    pos = 0
    for m in _MARKER.finditer(text):
        lines = [line.strip() for line in text[pos : m.start()].splitlines() if line.strip()]
        pos = m.end()
        for key in re.findall(r"\d+", m.group(1)):
            groups.setdefault(key, []).extend(lines)
    return groups


def ends_at_lead_in(sentence: str) -> bool:
    return bool(_LEAD_IN_END.search(sentence))


def lead_in_cut(text: str) -> bool:
    """Some clause's part of the answer stops at a sentence introducing a list."""
    return any(chunks and ends_at_lead_in(chunks[-1]) for chunks in answer_groups(text).values())


def orphan_item(text: str) -> bool:
    """A list item ("b) …", "2）…") shown with no lead-in from its clause before it."""
    for chunks in answer_groups(text).values():
        introduced = False
        for chunk in chunks:
            if _ITEM_START.match(chunk) and not introduced:
                return True
            introduced = introduced or ends_at_lead_in(chunk) or bool(_ITEM_START.match(chunk))
    return False


# --------------------------------------------------------------------------------- scoring
def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    if len(set(labels)) < 2:
        return None
    # The package's own AUROC (ties count half, as scikit-learn's roc_auc_score): importing
    # scikit-learn for it took about a second of start-up in the script and in its tests.
    from assistant.abstention import auroc as area_under_roc

    return round(area_under_roc(list(scores), list(labels)), 3)


def score_ask(rows: Sequence[dict], answers: Sequence[dict]) -> dict:
    """/api/ask figures over rows and their answers (Answer.to_dict(), extra fields tolerated)."""
    answerable = [(r, a) for r, a in zip(rows, answers) if r["answerable"]]
    others = [(r, a) for r, a in zip(rows, answers) if not r["answerable"]]
    near = [(r, a) for r, a in others if r.get("style") not in OFF_TOPIC_STYLES]
    off = [(r, a) for r, a in others if r.get("style") in OFF_TOPIC_STYLES]

    def cited(a: dict) -> list[dict]:
        return [] if a["abstained"] else list(a.get("citations") or [])

    answered = [(r, a) for r, a in answerable if not a["abstained"]]
    confidences = [a.get("confidence") for a in answers]
    report = {
        "answerable": len(answerable),
        "right_first": _rate(sum(right_at(cited(a), r["gold"], 1) for r, a in answerable), len(answerable)),
        "right_top3": _rate(sum(right_at(cited(a), r["gold"], 3) for r, a in answerable), len(answerable)),
        "false_abstention": _rate(sum(a["abstained"] for _, a in answerable), len(answerable)),
        "unanswerable": len(others),
        "correct_abstention": _rate(sum(a["abstained"] for _, a in others), len(others)),
        "correct_abstention_near_miss": _rate(sum(a["abstained"] for _, a in near), len(near)),
        "correct_abstention_off_topic": _rate(sum(a["abstained"] for _, a in off), len(off)),
        # issue 13, over the answerable questions that were answered
        "answered": len(answered),
        "lead_in_cut": sum(lead_in_cut(a.get("answer") or "") for _, a in answered),
        "orphan_item": sum(orphan_item(a.get("answer") or "") for _, a in answered),
        "duplicate_clause": sum(duplicate_clause(cited(a)) is not None for _, a in answered),
        "background_first": sum(bool(cited(a)) and is_background(cited(a)[0]) for _, a in answered),
        "background_cited": sum(any(is_background(c) for c in cited(a)) for _, a in answered),
    }
    if confidences and all(isinstance(c, (int, float)) for c in confidences):
        report["confidence_auroc"] = auroc(confidences, [r["answerable"] for r in rows])
    if any("uncertain" in a for a in answers):
        # Answered but flagged "may not be covered": how many of those were right to answer.
        report["uncertain_answerable"] = sum(bool(a.get("uncertain")) for _, a in answered)
        report["uncertain_unanswerable"] = sum(bool(a.get("uncertain")) and not a["abstained"] for _, a in others)
    refused = [(r, a) for r, a in answerable if a["abstained"]]
    if any("suggestions" in a for _, a in refused):
        # A refusal's suggestions are not answers, but they should point at the right clause.
        report["refused_with_right_suggestion"] = sum(
            right_at(a.get("suggestions") or [], r["gold"], 3) for r, a in refused)
    return report


def score_search(rows: Sequence[dict], results: Sequence[Sequence[dict]]) -> dict:
    pairs = [(r, res) for r, res in zip(rows, results) if r["answerable"]]
    return {
        "answerable": len(pairs),
        "right_first": _rate(sum(right_at(res, r["gold"], 1) for r, res in pairs), len(pairs)),
        "right_top3": _rate(sum(right_at(res, r["gold"], 3) for r, res in pairs), len(pairs)),
    }


def score_cross_lang(rows: Sequence[dict], unfiltered: Sequence[dict], other: Sequence[dict]) -> dict:
    """Right-first with ``lang`` set to the other edition against the unfiltered answer."""
    pairs = [(r, u, o) for r, u, o in zip(rows, unfiltered, other) if r["answerable"]]

    def first(a: dict, gold) -> bool:
        return not a["abstained"] and right_at(a.get("citations") or [], gold, 1)

    def in_edition(a: dict, lang: str) -> bool:
        cites = a.get("citations") or []
        return not a["abstained"] and bool(cites) and all(c.get("lang") == lang for c in cites)

    return {
        "answerable": len(pairs),
        "right_first_unfiltered": _rate(sum(first(u, r["gold"]) for r, u, _ in pairs), len(pairs)),
        "right_first_other_edition": _rate(sum(first(o, r["gold"]) for r, _, o in pairs), len(pairs)),
        "cites_only_requested_edition": _rate(
            sum(in_edition(o, other_lang(r["lang"])) for r, _, o in pairs), len(pairs)
        ),
    }


def other_lang(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def miss_reason(row: dict, answer: dict) -> str | None:
    """Why an answer counts against the figures (for --misses), or None."""
    if not row["answerable"]:
        return None if answer["abstained"] else "answered: " + _describe(answer)
    if answer["abstained"]:
        return f"abstained ({answer.get('reason') or ''})"
    if not right_at(answer.get("citations") or [], row["gold"], 1):
        return "first wrong: " + _describe(answer)
    return None


def _describe(answer: dict) -> str:
    return ", ".join(f"{c.get('document')}:{c.get('clause')}" for c in (answer.get("citations") or [])[:3])


# --------------------------------------------------------------------------------- running
def summarise(rows: Sequence[dict], answers: Sequence[dict], searched: Sequence[Sequence[dict]],
              filtered: Sequence[dict | None] | None = None) -> dict:
    """Figures per language ("zh", "en", "all") from the raw answers of one run."""
    out: dict = {}
    for lang in LANGS:
        idx = [i for i, r in enumerate(rows) if lang in ("all", r["lang"])]
        block = {"ask": score_ask([rows[i] for i in idx], [answers[i] for i in idx]),
                 "search": score_search([rows[i] for i in idx], [searched[i] for i in idx])}
        if filtered is not None:
            ans_idx = [i for i in idx if rows[i]["answerable"]]
            block["lang_filter"] = score_cross_lang(
                [rows[i] for i in ans_idx], [answers[i] for i in ans_idx], [filtered[i] for i in ans_idx]
            )
        out[lang] = block
    return out


def run(assistant, rows: Sequence[dict], *, cross_lang: bool = True) -> dict:
    def ask(question: str, lang: str | None = None) -> dict:
        return _jsonable(assistant.ask(question, lang=lang))

    started = time.perf_counter()
    answers = [ask(r["question"]) for r in rows]
    searched = [assistant.search(r["question"], k=10) for r in rows]
    filtered = [ask(r["question"], other_lang(r["lang"])) if r["answerable"] else None for r in rows] \
        if cross_lang else None
    report: dict = {"by_lang": summarise(rows, answers, searched, filtered)}
    splits = sorted({r["split"] for r in rows})
    if len(splits) > 1:
        # One run over the whole set gives the held-out figures too.
        report["by_split"] = {}
        for split in splits:
            idx = [i for i, r in enumerate(rows) if r["split"] == split]
            report["by_split"][split] = summarise(
                [rows[i] for i in idx], [answers[i] for i in idx], [searched[i] for i in idx],
                None if filtered is None else [filtered[i] for i in idx],
            )
    styles = sorted({r.get("style", "") for r in rows})
    report["by_style"] = {
        s: score_ask([r for r in rows if r.get("style", "") == s], [a for r, a in zip(rows, answers) if r.get("style", "") == s])
        for s in styles
    }
    report["misses"] = [
        {"id": r["id"], "question": r["question"], "gold": r["gold"], "split": r["split"], "why": why}
        for r, a in zip(rows, answers)
        if (why := miss_reason(r, a)) is not None
    ]
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def run_mission(assistant) -> list[dict]:
    out = []
    for item in MISSION:
        answer = _jsonable(assistant.ask(item["question"]))
        cites = [] if answer["abstained"] else answer.get("citations") or []
        first = f"{cites[0].get('document')}:{cites[0].get('clause')}" if cites else None
        ok = answer["abstained"] if not item["gold"] else right_at(cites, item["gold"], 1)
        out.append({"question": item["question"], "expect": item["gold"] or "abstain",
                    "abstained": answer["abstained"], "first": first, "ok": bool(ok),
                    **({"confidence": answer["confidence"]} if "confidence" in answer else {})})
    return out


def _jsonable(answer) -> dict:
    return answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)


def _table(by_lang: dict) -> list[str]:
    f = lambda v: "   -  " if v is None else f"{v:6.3f}"  # noqa: E731
    lines = [f"{'lang':>4} {'n':>4} {'first':>6} {'top3':>6} {'falseAb':>7} {'m':>4} {'corrAb':>6} "
             f"{'near':>6} {'off':>6} | {'s.first':>7} {'s.top3':>6} | {'leadin':>6} {'orphan':>6} "
             f"{'dup':>4} {'bgFst':>5} | {'xl.unf':>6} {'xl.oth':>6}"]
    for lang, block in by_lang.items():
        a, s, x = block["ask"], block["search"], block.get("lang_filter", {})
        lines.append(
            f"{lang:>4} {a['answerable']:>4} {f(a['right_first'])} {f(a['right_top3'])} {f(a['false_abstention']):>7} "
            f"{a['unanswerable']:>4} {f(a['correct_abstention'])} {f(a['correct_abstention_near_miss'])} "
            f"{f(a['correct_abstention_off_topic'])} | {f(s['right_first']):>7} {f(s['right_top3'])} | "
            f"{a['lead_in_cut']:>6} {a['orphan_item']:>6} {a['duplicate_clause']:>4} {a['background_first']:>5} | "
            f"{f(x.get('right_first_unfiltered'))} {f(x.get('right_first_other_edition'))}"
            + (f"  auroc {a['confidence_auroc']}" if a.get("confidence_auroc") is not None else "")
            + (f"  uncertain {a['uncertain_answerable']}/{a['uncertain_unanswerable']}" if "uncertain_answerable" in a else "")
            + (f"  right suggestion {a['refused_with_right_suggestion']}" if "refused_with_right_suggestion" in a else "")
        )
    return lines


def format_report(report: dict) -> str:
    lines = [f"guidance set {report['set']} split={report['split']}, embedder {report['embedder']}, "
             f"{report['questions']} questions, {report['run']['seconds']} s"]
    lines += _table(report["run"]["by_lang"])
    if "heldout" in report["run"].get("by_split", {}):
        lines.append("of which held out:")
        lines += _table(report["run"]["by_split"]["heldout"])
    lines.append("mission questions:")
    for m in report["mission"]:
        lines.append(f"  {'ok  ' if m['ok'] else 'FAIL'} {m['question']} -> "
                     f"{'abstained' if m['abstained'] else m['first']} (expect {m['expect']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, default="heldout")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--index", type=Path, default=ROOT / ".cache" / "guidance-index")
    parser.add_argument("--embedder", help="embedder setting (default: the configured one, e5-small)")
    parser.add_argument("--no-lang-filter", action="store_true", help="skip the other-edition asks")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the questions counted against the figures")
    args = parser.parse_args(argv)

    try:
        rows = select(load_set(args.set), args.split)
    except (OSError, SetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from assistant.config import Settings
    from assistant.service import Assistant

    overrides = {"corpus_dir": args.corpus, "index_dir": args.index, "auto_build": True}
    if args.embedder:
        overrides["embedder"] = args.embedder
    assistant = Assistant(Settings(**overrides))
    opened = assistant.open(build_if_needed=True)
    report = {
        "set": str(args.set.relative_to(ROOT) if args.set.is_relative_to(ROOT) else args.set),
        "split": args.split, "questions": len(rows), "embedder": assistant.embedder.id, "index": opened,
        "run": run(assistant, rows, cross_lang=not args.no_lang_filter),
        "mission": run_mission(assistant),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    if args.misses:
        for m in report["run"]["misses"]:
            print(f"MISS {m['id']} ({m['split']}) {m['question']} gold={m['gold']}: {m['why']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
