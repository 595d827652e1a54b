"""Pieces of scripts/bench.py that are not measurements: question sets, formatting, and the
benchmark's server settings. The server process, the load loop and the percentiles are the
shared ones in tests/support (servers.py, load.py), also used by scripts/loadtest.py and the tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.servers import Server, ServerError, stop_all_servers  # noqa: E402,F401  (bench.py uses them as H.*)

# ------------------------------------------------------------------------------ questions
# A fixed, mixed list: topical questions in both languages, clause-number lookups, bare search
# terms, and out-of-scope questions (which abstain). Used as-is for the in-process ask section.
QUESTIONS = [
    # English, topical
    "How long must call recordings be retained?",
    "Who is allowed to access call recordings?",
    "What are the data security requirements for customer information?",
    "How should customer complaints be escalated?",
    "What is the time limit for handling a customer complaint?",
    "How do we forecast call volume for scheduling?",
    "How are agent rosters published and changed?",
    "What pre-service training do new agents need?",
    "How is training effectiveness evaluated?",
    "What sampling rate should quality monitoring use?",
    "How should agent passwords be managed?",
    "What must a disaster recovery plan contain?",
    "How should stored customer data be encrypted?",
    "How do we respond to an information security incident?",
    "What are the rules for outbound marketing calls?",
    "first call resolution rate",
    # English, clause numbers
    "What does clause 4.5 say?",
    "clause 11.6.1",
    # Chinese, topical
    "通话录音保存多长时间？",
    "谁可以调阅通话录音？",
    "客户信息的数据安全有哪些要求？",
    "投诉处理的时限是多少？",
    "客户投诉如何升级处理？",
    "排班表如何发布和调整？",
    "话务量预测的方法",
    "新员工岗前培训包括哪些内容？",
    "质检抽样比例是多少？",
    "坐席区域的噪音和照明有什么要求",
    "数据备份的要求",
    "外包人员如何管理？",
    "客户满意度调查怎么做",
    "应急预案需要定期演练吗？",
    # Chinese, clause numbers
    "第4.5条",
    "第11.7条",
    "5.4.2",
    "第4.5条说的是什么",
    # out of scope (expected to abstain)
    "What is the capital of France?",
    "How do I bake sourdough bread?",
    "Which team won the 2018 football World Cup?",
    "今天北京的天气怎么样？",
    "股票明天会涨吗？",
    "如何申请护照？",
]

# Topics (English, Chinese) and phrasings, combined into hundreds of distinct questions for the
# HTTP load so that each request needs its own query embedding (no cache hits by accident).
TOPICS = [
    ("call recording retention", "通话录音保存"),
    ("access to call recordings", "通话录音调阅"),
    ("customer data security", "客户数据安全"),
    ("encryption of stored data", "存储数据加密"),
    ("data backup", "数据备份"),
    ("data destruction", "数据销毁"),
    ("password management", "密码管理"),
    ("permission management", "权限管理"),
    ("security audit logs", "安全审计日志"),
    ("security incident response", "安全事件响应"),
    ("complaint handling", "投诉处理"),
    ("complaint escalation", "投诉升级"),
    ("complaint time limits", "投诉处理时限"),
    ("service recovery", "服务补救"),
    ("customer satisfaction surveys", "客户满意度调查"),
    ("call volume forecasting", "话务量预测"),
    ("agent scheduling", "坐席排班"),
    ("roster changes and leave", "排班调整和请假"),
    ("schedule adherence", "排班遵从度"),
    ("real-time floor monitoring", "现场实时监控"),
    ("emergency drills", "应急演练"),
    ("quality monitoring sampling", "质检抽样"),
    ("calibration sessions", "质检校准"),
    ("coaching and feedback", "辅导与反馈"),
    ("pre-service training", "岗前培训"),
    ("in-service training", "在岗培训"),
    ("training effectiveness", "培训效果评估"),
    ("agent recruitment", "坐席招聘"),
    ("staff attrition", "员工流失"),
    ("employee psychological support", "员工心理疏导"),
    ("outsourced staff management", "外包人员管理"),
    ("key performance indicators", "关键绩效指标"),
    ("knowledge base updates", "知识库更新"),
    ("disaster recovery", "灾难恢复"),
    ("system availability", "系统可用性"),
    ("outbound marketing calls", "外呼营销"),
    ("user consent", "用户授权同意"),
    ("senior leadership support", "高层领导支持"),
]
EN_TEMPLATES = [
    "What does the guidance say about {t}?",
    "What are the requirements for {t}?",
    "How should a call center handle {t}?",
    "{t} requirements",
    "Is there a rule on {t}?",
    "Explain the guidance on {t}",
    "Who is responsible for {t}?",
    "What is the standard for {t} in a call center?",
    "best practice for {t}",
    "{t}",
    "How often should we review {t}?",
    "What must agents know about {t}?",
]
ZH_TEMPLATES = [
    "关于{t}有什么要求？",
    "{t}应该怎么做？",
    "呼叫中心的{t}有哪些规定",
    "{t}",
    "{t}的标准是什么",
    "指导要求对{t}是怎么规定的",
    "谁负责{t}？",
    "{t}需要注意什么",
    "如何做好{t}",
    "{t}多久检查一次",
    "{t}的具体要求",
    "请问{t}方面有哪些规定？",
]
# Asked after the first answer of a cold start: a homophone typo (密码), so that it pays for what only
# Chinese needs (the homophone tables); bench.py and bench_coldstart_pairs.py.
ZH_COLD_QUESTION = "密马多久要换一次？"
# Not in the pool: used to warm a freshly started server before a measured run.
WARMUP_QUESTIONS = ["warm-up: agent headcount", "预热：坐席人数", "warm-up: IVR menu", "预热：工单流转", "warm-up"]


def question_pool() -> list[str]:
    """The fixed list followed by the templated questions, alternating languages; all distinct."""
    generated: list[str] = []
    for template_index in range(max(len(EN_TEMPLATES), len(ZH_TEMPLATES))):
        for en, zh in TOPICS:
            if template_index < len(EN_TEMPLATES):
                generated.append(EN_TEMPLATES[template_index].format(t=en))
            if template_index < len(ZH_TEMPLATES):
                generated.append(ZH_TEMPLATES[template_index].format(t=zh))
    seen: set[str] = set()
    pool = []
    for question in QUESTIONS + generated:
        if question not in seen:
            seen.add(question)
            pool.append(question)
    return pool


# ------------------------------------------------------------------------------ formatting
def rnd(value, digits: int = 2):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: rnd(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rnd(v, digits) for v in value]
    if isinstance(value, float):
        return round(value, digits)
    return value


def fmt(value, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine_load() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"loadavg_1m": round(one, 2), "loadavg_5m": round(five, 2), "cpus": os.cpu_count()}


# ------------------------------------------------------------------------------ server
def bench_server(index_dir: Path, corpus_dir: Path, embedder: str, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None) -> Server:
    """The benchmark's server: the given index, corpus and model, no rate limit, and never a
    rebuild behind the benchmark's back (a stale index is an error to report)."""
    return Server(
        env={**os.environ, "ASSISTANT_RATE_LIMIT": "0", "ASSISTANT_AUTO_BUILD": "false", "PYTHONUNBUFFERED": "1",
             **(env or {})},
        cwd=REPO,
        global_args=["--index", str(index_dir), "--corpus", str(corpus_dir), "--embedder", embedder],
        serve_args=extra_args or [],
    )
