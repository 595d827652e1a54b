"""Generate a CNKI-style Chinese industry standard PDF and its truth file for bench_parsing.

The text is invented (a fictitious JT/T standard); the layout reproduces what CNKI exports of
real Chinese standards throw at the parser (issue 14): numbers spaced after their dots
(`3. 1`, `5. 1. 1`, `A. 1`), a 目次 with dot leaders, a 前言 with a Roman page number, a
running header and page-number footer, a byte-offset table whose first column is numbers
(`1 实时流分辨率 BYTE`, `29 ～ 90 保留`), untitled GB-style provisions (`4. 2 终端应…。`), and
annexes `附录A` / `（规范性附录）` / title on the next line. The truth rows are written from the
structure below, not from the parser's output.

    python scripts/make_cnki_sample.py        # writes tests/data/parsing/cnki-style-standard.{pdf,truth.tsv}
                                              # and word-style-provincial-standard.{pdf,truth.tsv}

Uses reportlab's built-in STSong-Light CID font (no font file needed; not embedded).
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "parsing"
FONT = "STSong-Light"
HEADER = "JT/T 9999—2026"
WIDTH = 36  # CJK characters per body line

# (number as printed, title, body paragraphs); number "" = front matter heading
# a None title marks an untitled provision: the body's first paragraph is printed on the number line
BODY: list[tuple[str, str | None, list[str]]] = [
    ("1", "范围", ["本标准规定了道路运输车辆视频监控终端的术语和定义、总体要求、技术要求、检验方法。",
                   "本标准适用于营运客车和危险货物运输车辆安装的视频监控终端。"]),
    ("2", "规范性引用文件", ["下列文件对于本文件的应用是必不可少的。凡是注日期的引用文件，仅注日期的版本适用于本文件。",
                         "GB/T 19056 汽车行驶记录仪"]),
    ("3", "术语和定义", ["下列术语和定义适用于本文件。"]),
    ("3. 1", "实时流", ["终端采集后即时传输的音视频数据流。"]),
    ("3. 2", "历史流", ["终端存储后按请求回放传输的音视频数据流。"]),
    ("3. 3", "报警附件", ["与报警事件关联的图片、音频和视频文件。"]),
    ("4", "总体要求", []),
    ("4. 1", "一般规定", ["终端应符合本标准和相关国家标准的规定，并应通过型式检验。"]),
    ("4. 2", None, ["终端应具备视频采集、存储、回放和上传功能，存储容量应不少于 128 GB。"]),
    ("4. 3", None, ["终端外壳防护等级应不低于 IP43，工作温度范围为 -25 ℃～70 ℃。"]),
    ("5", "技术要求", []),
    ("5. 1", "数据格式", []),
    ("5. 1. 1", "帧头", ["帧头由表 1 所列字段组成，各字段按网络字节序传输。", "@TABLE"]),
    ("5. 1. 2", "帧体", ["帧体为按 H.264 或 H.265 压缩的音视频数据，长度由帧头的帧长字段给出。"]),
    ("5. 1. 3", None, ["帧尾应为两个字节的累加校验和，校验范围为帧头和帧体的全部字节。"]),
    ("5. 2", "通信要求", []),
    ("5. 2. 1", "链路管理", ["终端与平台之间应保持长连接，心跳间隔宜为 30 s，连续三次心跳无应答时应重新建立连接。"]),
    ("5. 2. 2", "数据补传", ["通信中断期间产生的报警附件应在链路恢复后 10 min 内补传。"]),
    ("5. 3", "存储要求", ["终端应循环覆盖存储音视频数据，报警前后 30 s 的数据应加锁保存，不得被覆盖。"]),
    ("6", "检验方法", []),
    ("6. 1", "检验条件", ["除另有规定外，检验应在温度 15 ℃～35 ℃、相对湿度 25%～75% 的环境中进行。"]),
    ("6. 2", "功能检验", ["按 5.1 和 5.2 的要求逐项操作，检查终端的响应和平台收到的数据。"]),
    ("附录A", "@ANNEX（规范性附录）|终端通信协议", []),
    ("A. 1", "消息结构", ["每条消息由标识位、消息头、消息体、校验码和标识位组成。"]),
    ("A. 2", "消息类型", ["消息类型分为注册、鉴权、心跳、位置汇报和多媒体上传五类。"]),
    ("附录B", "@ANNEX（资料性附录）|安装位置示例", []),
    ("B. 1", "客车", ["摄像头宜安装在驾驶员右前方和车厢前部顶端，覆盖驾驶员和乘客区域。"]),
]

TABLE = [
    "表 1 帧头字段",
    "起始字节 字段 数据类型",
    "1 实时流分辨率 BYTE",
    "2 历史流分辨率 BYTE",
    "3 通道号 BYTE",
    "4 码率 WORD",
    "5 帧率 BYTE",
    "29 ～ 90 保留",
]


def wrap(text: str, width: int = WIDTH) -> list[str]:
    lines, line = [], ""
    for ch in text:
        line += ch
        if len(line) >= width:
            lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return lines


class Writer:
    def __init__(self, path: Path, header: str = HEADER, header_x: float = 523) -> None:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        self.header, self.header_x = header, header_x
        self.c = canvas.Canvas(str(path), pagesize=A4)
        self.c.setTitle("标准")  # a placeholder title, as CNKI exports carry
        self.page = 0  # PDF page index
        self.y = 0.0
        self.footer = ""

    def new_page(self, footer: str, header: bool = True) -> None:
        if self.page:
            self.c.showPage()
        self.page += 1
        self.footer = footer
        if header:
            self.c.setFont(FONT, 9)
            if self.header_x > 300:
                self.c.drawRightString(self.header_x, 800, self.header)
            else:
                self.c.drawString(self.header_x, 800, self.header)
        if footer:
            self.c.setFont(FONT, 9)
            self.c.drawCentredString(297, 40, footer)
        self.y = 760

    def line(self, text: str, size: float = 10.5, x: float = 72) -> None:
        self.c.setFont(FONT, size)
        self.c.drawString(x, self.y, text)
        self.y -= size * 1.9

    def room(self, lines: int) -> bool:
        return self.y - lines * 20 > 70

    def save(self) -> None:
        self.c.showPage()
        self.c.save()


FOREWORD = ["本标准按照 GB/T 1.1—2009 给出的规则起草。", "本标准由全国道路运输标准化技术委员会提出并归口。",
            "本标准起草单位：某某研究院。"]
FOREWORD_PAGE = 3  # PDF page index of 前言; the body starts on the next page, printed "1"


def printed(page: int) -> str:
    return "Ⅱ" if page == FOREWORD_PAGE else str(page - FOREWORD_PAGE)


def render(path: Path, pages: dict[str, int]) -> tuple[list[tuple[str, str, int]], dict[str, int]]:
    """Draw the document; the contents list shows `pages` (from a first rendering).
    Returns the truth rows and the page index of every numbered heading."""
    w = Writer(path)
    w.new_page("", header=False)  # cover
    w.line("ICS 03.220.20", 10)
    w.line("JT", 20)
    w.line("中华人民共和国交通运输行业标准", 14)
    w.line(HEADER, 11, x=380)
    w.y -= 80
    w.line("道路运输车辆视频监控终端技术要求", 20, x=120)
    w.line("Technical requirements for video surveillance terminals of road transport vehicles", 10, x=90)
    w.y -= 200
    w.line("2026-01-01 发布                                   2026-04-01 实施", 11)

    w.new_page("Ⅰ")
    w.line("目 次", 14, x=270)
    w.line(f"前言 {'.' * 60} {printed(FOREWORD_PAGE)}", 10)
    for number, title, _ in BODY:
        if number.count(".") > 1 or title is None:
            continue  # the contents list shows two levels and titled clauses, as most standards do
        if title.startswith("@ANNEX"):
            kind, shown = title[len("@ANNEX") :].split("|")
            label = f"{number}{kind} {shown}"
        else:
            label = f"{number} {title}"
        w.line(f"{label} {'.' * max(4, 60 - 2 * len(label))} {printed(pages.get(number, 4))}", 10)

    w.new_page("Ⅱ")
    w.line("前 言", 14, x=270)
    for para in FOREWORD:
        for t in wrap(para):
            w.line(t)
    rows: list[tuple[str, str, int]] = [("前言", "前言", FOREWORD_PAGE)]
    found: dict[str, int] = {}

    def next_page() -> None:
        w.new_page(printed(w.page + 1))

    next_page()
    for number, title, paras in BODY:
        lines_needed = 2 + sum(len(wrap(p)) for p in paras) + (len(TABLE) if "@TABLE" in paras else 0)
        if number.startswith("附录") or not w.room(min(lines_needed, 6)):
            next_page()
        found[number] = w.page
        if title is not None and title.startswith("@ANNEX"):
            kind, real_title = title[len("@ANNEX") :].split("|")
            w.line(number, 14, x=270)
            w.line(kind, 10.5, x=250)
            w.line(real_title, 14, x=230)
            rows.append((number, real_title, w.page))
            continue
        if title is None:
            first, *paras = paras
            wrapped = wrap(first, WIDTH - 4)
            w.line(f"{number} {wrapped[0]}")
            for t in wrapped[1:]:
                w.line(t)
            rows.append((number, "", found[number]))
        else:
            w.line(f"{number} {title}", 11)
            rows.append((number, title, w.page))
        for para in paras:
            for t in TABLE if para == "@TABLE" else wrap(para):
                if not w.room(1):
                    next_page()
                w.line(t, 9.5, x=100) if para == "@TABLE" else w.line(t)
    w.save()
    return rows, found


def build(out_dir: Path = OUT) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / "cnki-style-standard.pdf"
    _, pages = render(pdf, {})
    rows, again = render(pdf, pages)
    assert again == pages
    truth = out_dir / "cnki-style-standard.truth.tsv"
    with truth.open("w", encoding="utf-8") as fh:
        fh.write("number\ttitle\tpage\n")
        for number, title, page in rows:
            fh.write(f"{number.replace(' ', '')}\t{title}\t{page}\n")
    return pdf, truth


# A provincial standard made in Word: numbers without spaces, some glued to their text
# ("4.2地理位置…"), no contents list, many untitled provisions, an annex.
WORD_HEADER = "DB22/T 9999—2026"
WORD_BODY: list[tuple[str, str | None, list[str]]] = [
    ("1", "范围", ["本文件规定了地理标志产品某某大米的保护范围、术语和定义、自然环境、感官要求和检验方法。"]),
    ("2", "规范性引用文件", ["下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。"]),
    ("3", "术语和定义", ["下列术语和定义适用于本文件。"]),
    ("3.1", "某某大米", ["在保护范围内种植、加工的具有特定品质的大米。"]),
    ("4", "自然环境", []),
    ("4.1", None, ["产地位于某某市辖区内，地势平坦，土壤肥沃。"]),
    ("4.2", None, ["地理位置在北纬 45°以北，东经 125°以东的区域，年日照时数 2600 h 以上。"]),
    ("4.3", None, ["年平均气温在 3 ℃以上，无霜期 130 d 以上。"]),
    ("5", "感官要求", []),
    ("5.1", "色泽", ["米粒应有光泽，色泽均匀。"]),
    ("5.2", "气味", []),
    ("5.2.1", None, ["应有大米固有的自然清香味。"]),
    ("5.2.2", None, ["不应有霉味、酸味等异味。"]),
    ("5.3", "滋味", ["米饭应有油性、口感柔软、有嚼劲，冷后不回生。"]),
    ("6", "检验方法", []),
    ("6.1", "感官检验", ["按 GB/T 5492 的规定执行。"]),
    ("6.2", "理化检验", ["按表 1 规定的方法检验。", "@TABLE"]),
    ("附录A", "@ANNEX（规范性附录）|保护范围", []),
    ("A.1", None, ["保护范围为某某市所辖的五个乡镇，见图 A.1。"]),
]
WORD_TABLE = [
    "表 1 理化指标",
    "序号 项目 指标",
    "1 水分/% ≤15.5",
    "2 垩白度/% ≤5.0",
    "3 直链淀粉/% 15～20",
    "4 碎米总量/% ≤7.5",
]


def render_word(path: Path) -> list[tuple[str, str, int]]:
    w = Writer(path, WORD_HEADER, 72)  # the header on the left, as Word layouts often put it
    w.new_page("", header=False)  # cover: an ICS line first, as the issue saw become the title
    w.line("ICS 67.060", 10)
    w.line("B 22", 10)
    w.line("某某省地方标准", 16, x=220)
    w.line(WORD_HEADER, 11, x=380)
    w.y -= 80
    w.line("地理标志产品 某某大米", 20, x=170)
    w.y -= 200
    w.line("2026-01-01 发布                                   2026-03-01 实施", 11)
    rows: list[tuple[str, str, int]] = []
    page_no = 0

    def next_page() -> None:
        nonlocal page_no
        page_no += 1
        w.new_page(str(page_no))

    next_page()
    for k, (number, title, paras) in enumerate(WORD_BODY):
        if number.startswith("附录") or not w.room(4):
            next_page()
        if title is not None and title.startswith("@ANNEX"):
            kind, real_title = title[len("@ANNEX") :].split("|")
            w.line(number, 14, x=270)
            w.line(kind, 10.5, x=250)
            w.line(real_title, 14, x=250)
            rows.append((number, real_title, w.page))
            continue
        if title is None:
            first, *paras = paras
            glue = "" if k % 2 else " "  # Word PDFs lose the space after the number now and then
            wrapped = wrap(first, WIDTH - 3)
            w.line(f"{number}{glue}{wrapped[0]}")
            for t in wrapped[1:]:
                w.line(t)
            rows.append((number, "", w.page))
        else:
            w.line(f"{number} {title}", 11)
            rows.append((number, title, w.page))
        for para in paras:
            for t in WORD_TABLE if para == "@TABLE" else wrap(para):
                if not w.room(1):
                    next_page()
                w.line(t, 9.5, x=100) if para == "@TABLE" else w.line(t)
    w.save()
    return rows


def build_word(out_dir: Path = OUT) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / "word-style-provincial-standard.pdf"
    rows = render_word(pdf)
    truth = out_dir / "word-style-provincial-standard.truth.tsv"
    with truth.open("w", encoding="utf-8") as fh:
        fh.write("number\ttitle\tpage\n")
        for number, title, page in rows:
            fh.write(f"{number}\t{title}\t{page}\n")
    return pdf, truth


if __name__ == "__main__":
    for p in (*build(), *build_word()):
        print("wrote", p)
