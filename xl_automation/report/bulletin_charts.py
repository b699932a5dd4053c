"""The 通报's charts as PNG images, drawn with matplotlib in a CJK font chosen explicitly (never boxes)."""
from __future__ import annotations

import io
from typing import Sequence

# in preference order: 宋/仿宋-like faces read best beside 仿宋 body text, then 黑体 faces
CJK_FAMILIES = ("Noto Serif CJK SC", "Source Han Serif SC", "FangSong", "SimSun", "Noto Sans CJK SC",
                "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei",
                "PingFang SC", "Heiti SC")
BAR = "#2F5597"
LOW = "#C00000"
DPI = 200


class NoCjkFont(Exception):
    """No installed font can draw Chinese: the charts are left out rather than drawn as boxes."""


def cjk_family() -> str:
    from matplotlib import font_manager
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FAMILIES:
        if name in installed:
            return name
    raise NoCjkFont("未找到可显示中文的字体（如 Noto CJK、文泉驿正黑、宋体），通报未附统计图；"
                    "安装中文字体（Debian：fonts-noto-cjk 或 fonts-wqy-zenhei）后重新汇总")


def _figure(width_cm: float, height_cm: float):
    import logging

    import matplotlib
    matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)   # a face with one weight is fine
    from matplotlib import pyplot as plt
    plt.rcParams["font.family"] = [cjk_family()]
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["text.parse_math"] = False      # labels are names from the configuration: "$…$" is text, not TeX
    fig, ax = plt.subplots(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=DPI)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    plt.close(fig)
    return out.getvalue()


def rate_chart(labels: Sequence[str], rates: Sequence[float | None], low: Sequence[bool],
               title: str = "各窗口2小时内联系按时率", width_cm: float = 15) -> bytes:
    """Bars of on-time rate per window, red where the window's assessment is below 合格 (a window
    without decided requests shows no bar, labelled 无)."""
    plt, fig, ax = _figure(width_cm, 5.0)
    values = [0 if r is None else r * 100 for r in rates]
    colors = [LOW if flag else BAR for flag in low]
    bars = ax.bar(range(len(labels)), values, color=colors, width=0.6)
    for bar, r in zip(bars, rates):
        text = "无" if r is None else f"{r:.1%}"
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 1.5, text, ha="center", fontsize=6)
    ax.set_xticks(range(len(labels)), labels, fontsize=6, rotation=30, ha="right")
    ax.set_ylim(0, 110)
    ax.set_ylabel("按时率（%）", fontsize=8)
    ax.set_title(title, fontsize=10)
    return _png(plt, fig)


def count_chart(labels: Sequence[str], counts: Sequence[int], title: str, width_cm: float = 15) -> bytes:
    plt, fig, ax = _figure(width_cm, 5.0)
    bars = ax.bar(range(len(labels)), counts, color=BAR, width=0.55)
    top = max(counts, default=0) or 1
    for bar, n in zip(bars, counts):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + top * 0.02, str(n), ha="center", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylim(0, top * 1.18)
    ax.set_ylabel("件数", fontsize=8)
    ax.set_title(title, fontsize=10)
    return _png(plt, fig)


def trend_chart(periods: Sequence[str], received: Sequence[int], rates: Sequence[float | None]) -> bytes:
    """Requests received (bars) and on-time rate (line) over the periods the archive holds."""
    plt, fig, ax = _figure(15, 4.8)
    ax.bar(range(len(periods)), received, color=BAR, width=0.5, label="受理件数")
    ax.set_ylabel("受理件数", fontsize=8)
    ax.set_xticks(range(len(periods)), periods, fontsize=8)
    right = ax.twinx()
    points = [(i, r * 100) for i, r in enumerate(rates) if r is not None]
    if points:
        right.plot([p[0] for p in points], [p[1] for p in points], color=LOW, marker="o", label="按时率")
    right.set_ylim(0, 110)
    right.set_ylabel("按时率（%）", fontsize=8)
    right.tick_params(labelsize=8)
    ax.set_title("近期受理件数与按时率", fontsize=10)
    return _png(plt, fig)
