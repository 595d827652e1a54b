"""Pieces of scripts/bench.py that are not measurements: question sets, statistics, and a
local server process (start on a free loopback port, wait until ready, read its memory, stop
its whole process group).
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

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


# ------------------------------------------------------------------------------ statistics
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def median(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


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


# ------------------------------------------------------------------------------ /proc
def _status_fields(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, ... in KiB from /proc/PID/status (empty when the process is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key.startswith("Vm") or key.startswith("Rss"):
                    parts = rest.split()
                    if parts and parts[0].isdigit():
                        out[key] = int(parts[0])
    except OSError:
        pass
    return out


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ...
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------ server
class ServerError(RuntimeError):
    pass


_LIVE_SERVERS: list["Server"] = []


class Server:
    """`python -m assistant.cli ... serve` on a free loopback port, in its own process group."""

    def __init__(self, index_dir: Path, corpus_dir: Path, embedder: str, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="assistant-bench-server-", suffix=".log", delete=False)
        self.command = [
            sys.executable, "-m", "assistant.cli",
            "--index", str(index_dir), "--corpus", str(corpus_dir), "--embedder", embedder,
            "serve", "--host", "127.0.0.1", "--port", str(self.port), *(extra_args or []),
        ]
        self.env = {
            **os.environ,
            "ASSISTANT_RATE_LIMIT": "0",
            # Never rebuild behind the benchmark's back: a stale index is an error to report.
            "ASSISTANT_AUTO_BUILD": "false",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> "Server":
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.command, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        _LIVE_SERVERS.append(self)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def pids(self) -> list[int]:
        """The server and any workers it started (its process group)."""
        return _group_pids(self.pid) or [self.pid]

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = Path(self.log.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = 600.0, interval: float = 0.02) -> float:
        """Poll /healthz until 200; seconds since start. Raises with the log tail on failure."""
        import httpx

        deadline = time.perf_counter() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise ServerError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    response = client.get(self.base_url + "/healthz")
                    if response.status_code == 200:
                        return time.perf_counter() - self.started_at
                    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
                    if body.get("error"):
                        raise ServerError(f"server cannot load the index: {body['error']}")
                    last = f"healthz {response.status_code}"
                except httpx.TransportError as exc:
                    last = type(exc).__name__
                time.sleep(interval)
        raise ServerError(f"server not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def memory_kib(self) -> dict:
        """VmRSS / VmHWM of the main process, and summed over its process group."""
        main = _status_fields(self.pid)
        group = [_status_fields(pid) for pid in self.pids()]
        return {
            "rss_kib": main.get("VmRSS"),
            "hwm_kib": main.get("VmHWM"),
            "group_processes": len(group),
            "group_rss_kib": sum(g.get("VmRSS", 0) for g in group),
            "group_hwm_kib": sum(g.get("VmHWM", 0) for g in group),
        }

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pids())

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            # The leader is gone; make sure no worker of its group survives it.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass
        if self in _LIVE_SERVERS:
            _LIVE_SERVERS.remove(self)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_all_servers() -> None:
    for server in list(_LIVE_SERVERS):
        server.stop()
