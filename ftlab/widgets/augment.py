"""The augmentation explorer: type (or pick) a message, choose an operation and its strength, and
see N variants with the changed words marked.

Same pattern as every ftlab explorer (``ftlab.widgets.explorer.Explorer``): a pure
``augmentation_numbers`` (tested on its own) + a draw step + ipywidgets wiring. What it draws is
HTML rather than a figure — text is what changes here.
"""

import html

from ftlab.widgets.explorer import Explorer, plural
from ftlab.augment.text import OPS, augment_text, changed_word_count, highlight_html
from ftlab.augment.ops import Words
from ftlab.widgets.presenter import readout_css, slider_layout


def augmentation_numbers(text, op, strength, seed, n):
    """The variants one control setting gives, and how much each changed.

    >>> r = augmentation_numbers("Why is the ocean salty?", "typo", 0.1, 0, 3)
    >>> r["n_words"], [v["n_edits"] for v in r["variants"]]
    (5, [1, 1, 1])
    """
    variants = augment_text(text, [op], rate=strength, seed=seed, n=n)
    variants = variants if isinstance(variants, list) else [variants]
    rows, seen = [], []
    for v in variants:
        changed = changed_word_count(text, v.text)
        rows.append({"text": v.text, "n_edits": len(v.edits), "changed_words": changed,
                     "repeat": v.text in seen, "unchanged": v.text == text,
                     "html": highlight_html(text, v.text)})
        seen.append(v.text)
    distinct = [r for r in rows if not r["repeat"] and not r["unchanged"]]
    return {"text": text, "op": op, "strength": strength, "seed": seed,
            "n_words": len(Words(text).words), "variants": rows, "n_distinct": len(distinct),
            "mean_changed_words": (sum(r["changed_words"] for r in rows) / len(rows)) if rows else 0.0}


def variants_html(result):
    """The original and each variant, changed words highlighted (what the explorer shows)."""
    lines = [f"<div style='{readout_css()}'><b>original</b>: {html.escape(result['text'])}</div>"]
    for k, v in enumerate(result["variants"], 1):
        note = " <i>(kept out: same as the original)</i>" if v["unchanged"] else (
            " <i>(kept out: a repeat)</i>" if v["repeat"] else "")
        lines.append(f"<div style='{readout_css()}'><b>{k}</b>: {v['html']}{note}</div>")
    return "\n".join(lines)


class TextExplorer(Explorer):
    """An Explorer whose view is an HTML widget instead of a matplotlib figure."""

    def __init__(self, controls, compute, draw, render_html, layout=None):
        import ipywidgets as widgets

        self.view = widgets.HTML()
        self._render_html = render_html
        super().__init__(controls, compute, draw, figure=None, layout=layout)
        self.widget = widgets.VBox([self.widget.children[0], self.readout, self.view])

    def _show(self):
        self.view.value = self._render_html(self.result)

    def _repr_mimebundle_(self, include=None, exclude=None):
        # live widget in Jupyter/Colab; the current variants as HTML for GitHub's static preview
        return {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id},
            "text/html": self.view.value,
            "text/plain": html.unescape(self.readout.value.split(">", 1)[1].rsplit("<", 1)[0]),
        }


def _user_turns(records, limit=40):
    out = []
    for r in records or []:
        for m in (r.get("messages") or []) if isinstance(r, dict) else []:
            if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
                if m["content"] not in out:
                    out.append(m["content"])
                break
        if len(out) == limit:
            break
    return out


def augmentation_explorer(records=None, *, text=None, op="synonym", strength=0.2, seed=0, n=4):
    """Explore augmentation on one message: pick an example (from ``records``) or type one."""
    import ipywidgets as widgets

    examples = _user_turns(records)
    first = text if text is not None else (examples[0] if examples else "Why is the ocean salty?")
    box = widgets.Textarea(value=first, description="message", layout=widgets.Layout(width="95%"))
    controls = {
        "text": box,
        "op": widgets.Dropdown(options=list(OPS), value=op, description="operation"),
        "strength": widgets.FloatSlider(value=strength, min=0.05, max=0.5, step=0.05,
                                        description="strength α", **slider_layout()),
        "seed": widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed"),
        "n": widgets.IntSlider(value=n, min=1, max=8, description="variants", **slider_layout()),
    }
    rows = [box, widgets.HBox([controls["op"], controls["seed"]]),
            widgets.HBox([controls["strength"], controls["n"]])]
    if examples:
        picker = widgets.Dropdown(options=[(e[:70], e) for e in examples], value=first if first in examples
                                  else examples[0], description="example")
        picker.observe(lambda change: setattr(box, "value", change["new"]), names="value")
        rows.insert(0, picker)

    def compute(text, op, strength, seed, n):
        return augmentation_numbers(text, op, strength, seed, n)

    def draw(r):
        from ftlab.augment.lexicon import get_lexicon

        source = f"; synonyms: {get_lexicon().name}" if r["op"] in ("synonym", "insert") else ""
        source += "; α does not apply to a paraphrase" if r["op"] == "paraphrase" else ""
        return (f"{r['op']} at α={r['strength']:.2f}: {plural(r['n_distinct'], 'distinct variant')} "
                f"of {len(r['variants'])}, {r['mean_changed_words']:.1f} of "
                f"{plural(r['n_words'], 'word')} changed on average{source}")

    explorer = TextExplorer(controls, compute, draw, variants_html, layout=widgets.VBox(rows))
    explorer.picker = rows[0] if examples else None
    return explorer
