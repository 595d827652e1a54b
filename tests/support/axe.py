"""axe-core accessibility checks for the browser tests: where npm puts the script and how its
serious and critical findings are read off a page."""

from __future__ import annotations

from tests.support.paths import REPO

AXE = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"


def axe_problems(page, source: str, include: str | None = None) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now (or inside the element
    `include` selects, shadow roots included), one line per rule with a few of its nodes. The
    script goes in through the DevTools protocol, so the page's Content-Security-Policy is kept."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    results = page.evaluate(
        """async (include) => {
            const context = include ? { include: [include] } : document;
            const r = await axe.run(context, { resultTypes: ["violations"] });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")) }));
        }""",
        include,
    )
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in results
            if v["impact"] in ("serious", "critical")]
