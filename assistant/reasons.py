"""A refusal's reason said to the person who asked, in the question's language.

The reasons are written once, in English, where the refusal is decided (answering.py: a clause
number the guidance lacks, nothing matched, nothing within the filter; abstention.py: confidence
below the threshold). They stay English in ``Answer.reason`` for logs and for clients that read
them. ``said_to_asker`` gives the ``message`` a widget shows: the same reason, in Chinese for a
Chinese question, without the contact line (clients show ``contact`` on its own line). A refusal
for low confidence is said without its figures and clause id ("confidence 0.00, below 0.41;
closest clause ccso-zh:6.3.3"): they mean nothing to the public, and the clause it names, the
closest by cosine, is often not among the ``suggestions`` listed under the message, which then
contradicted it.

The Chinese is made from the English by pattern, so that the module deciding a refusal keeps
one wording; a reason no pattern knows (a new wording) is said as the plain "nothing found"
sentence rather than in English to a Chinese reader.
"""

from __future__ import annotations

import re

_NUMBER_LIST = re.compile(r",\s*")

_UNITS = "clause|chapter|section|article|paragraph|rule"
# The unit a number was asked by (lookups.asked_unit), said in Chinese: "第20章", not "第20条".
_ZH_UNIT = {"clause": "条", "article": "条", "rule": "条", "chapter": "章", "section": "节", "paragraph": "款"}
# What the nearest numbers are called: "最接近的条款：5.9、6.9" / "最接近的章：第2章、第10章".
_ZH_NEAREST = {"条": "条款", "章": "章", "节": "节", "款": "款"}

_LOW_CONFIDENCE = re.compile(r"^The guidance does not appear to cover this question \(confidence [\d.]+, "
                             r"below [\d.]+; closest clause [^)\s]+\)\.$")
LOW_CONFIDENCE_EN = "The guidance does not appear to cover this question."

# English reason -> the Chinese sentence (format fields are the pattern's named groups).
_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^no (?P<unit>{_UNITS}) (?P<number>\S+) in (?P<document>\S+?)(?:; nearest: (?P<nearest>.+?))?\.$"),
     "指导要求（{document}）中没有第{number}{unit}{nearest}。"),
    (re.compile(rf"^no (?P<unit>{_UNITS}) (?P<number>\S+?)\.$"), "指导要求中没有第{number}{unit}。"),
    (_LOW_CONFIDENCE, "指导要求似乎没有涵盖这个问题。"),
    (re.compile(r"^The guidance has no clause that matches this question\.$"), "指导要求中没有与这个问题相符的条款。"),
    (re.compile(r"^No clause within the chosen document or language matches this question\.$"),
     "所选文件或语言中没有与这个问题相符的条款。"),
]
ZH_FALLBACK = "指导要求中没有找到相关内容。"


def said_to_asker(reason: str, lang: str) -> str:
    """``reason`` (English, without the contact line) for a question in ``lang`` ("zh" or "en")."""
    reason = reason.strip()
    if lang != "zh":
        if _LOW_CONFIDENCE.match(reason):
            return LOW_CONFIDENCE_EN
        return reason[:1].upper() + reason[1:]
    for pattern, template in _ZH:
        match = pattern.match(reason)
        if match is None:
            continue
        fields = {key: value or "" for key, value in match.groupdict().items()}
        if "unit" in fields:
            fields["unit"] = _ZH_UNIT[fields["unit"]]
        if "nearest" in fields:
            nearest = [n for n in _NUMBER_LIST.split(fields["nearest"]) if n]
            unit = fields["unit"]
            said = nearest if unit == "条" else [f"第{n}{unit}" for n in nearest]
            fields["nearest"] = f"；最接近的{_ZH_NEAREST[unit]}：" + "、".join(said) if nearest else ""
        return template.format(**fields)
    return ZH_FALLBACK
