"""Plain-text rendering of metrics, shared by ``train`` and ``evaluate``."""

from __future__ import annotations


def format_metrics(m: dict, title: str) -> str:
    out = [title, ""]
    out.append(f"{'label':<15}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, r in m["per_class"].items():
        out.append(f"{label:<15}{r['precision']:>10.3f}{r['recall']:>10.3f}{r['f1']:>10.3f}{r['support']:>10d}")
    out.append("")
    out.append(f"macro-F1 {m['macro_f1']:.3f}   accuracy {m['accuracy']:.3f}   lines {m['lines']}")
    labels = m["confusion"]["labels"]
    short = [lab[:8] for lab in labels]
    out.append("")
    out.append("confusion matrix (rows: true label, columns: predicted)")
    out.append(" " * 15 + "".join(f"{s:>9}" for s in short))
    for lab, row in zip(labels, m["confusion"]["matrix"]):
        out.append(f"{lab:<15}" + "".join(f"{v:>9d}" for v in row))
    return "\n".join(out) + "\n"
