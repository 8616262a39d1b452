"""What is *in* a chat dataset: sizes, roles, system prompts, duplicates, diversity, label balance.

The course's advice on training data — relevant, clear and consistent, enough and balanced,
diverse, with negative examples — becomes numbers here: ``chat_stats(path)`` computes them and
``.plot()`` draws them. Only well-formed chat examples are counted; ``validate_chat`` reports the
rest.

>>> from ftlab._data import data_dir
>>> s = chat_stats(data_dir() / "chat" / "tickets_train.jsonl")
>>> s.n_examples, s.labels.to_dict()["billing"], s.n_system_prompts
(72, 18, 1)
"""

from dataclasses import dataclass, field

from ftlab.chat.files import ChatRecords, read_chat_jsonl
from ftlab.chat.duplicates import find_duplicates, normalize
from ftlab.chat.messages import content_text
from ftlab.chat.tokens import encoding_name_for_model, get_encoding, messages_tokens

# Assistant replies count as class labels when nearly all are this short and few are distinct.
LABEL_MAX_WORDS = 3
LABEL_SHARE = 0.9


def distinct_n(texts, n=2):
    """Distinct-n: unique word n-grams / all word n-grams over ``texts`` (1.0 = never repeats).

    >>> distinct_n(["the cat sat", "the cat ran"], n=1)
    0.6666666666666666
    """
    total, seen = 0, set()
    for text in texts:
        words = normalize(text).split()
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def _messages(record):
    if isinstance(record, dict) and isinstance(record.get("messages"), list):
        msgs = [m for m in record["messages"] if isinstance(m, dict)]
        if msgs and all(isinstance(m.get("role"), str) for m in msgs):
            return msgs
    return None


def _labels(replies):
    """Counts of short assistant replies when they look like class labels, else None."""
    import pandas as pd

    if not replies:
        return None
    short = [r.strip() for r in replies if 0 < len(r.split()) <= LABEL_MAX_WORDS]
    distinct = {r.lower() for r in short}
    if len(short) < LABEL_SHARE * len(replies) or len(distinct) > max(2, min(30, len(replies) // 3)):
        return None
    return pd.Series([r.lower() for r in short]).value_counts().rename("examples")


@dataclass
class ChatStats:
    """Numbers about a chat dataset. ``table`` has one row per well-formed example."""

    source: str
    table: object  # DataFrame: line, messages, tokens, user_tokens, assistant_tokens, has_system
    roles: object  # Series: messages per role
    system_prompts: object  # Series: examples per distinct system prompt ("(none)" when absent)
    duplicates: object  # ftlab.chat.duplicates.Duplicates
    diversity: dict  # distinct-1/2/3 of the user messages
    labels: object  # Series of label counts, or None when replies are not short labels
    encoding: str
    skipped: int = 0  # examples that are not well-formed chat (see validate_chat)
    notes: list = field(default_factory=list)

    @property
    def n_examples(self):
        return len(self.table)

    @property
    def n_system_prompts(self):
        return int((self.system_prompts.index != "(none)").sum())

    @property
    def label_imbalance(self):
        """Most common label count / least common (1.0 = perfectly balanced), or None."""
        if self.labels is None:
            return None
        return float(self.labels.max() / self.labels.min())

    def summary(self):
        """The headline numbers as a pandas Series."""
        import pandas as pd

        t = self.table["tokens"]
        d = {"examples": self.n_examples, "skipped (not well-formed)": self.skipped,
             "messages per example (mean)": round(float(self.table["messages"].mean()), 2),
             "tokens per example (median)": float(t.median()), "tokens per example (max)": int(t.max()),
             "tokens in total": int(t.sum()), "system prompt variants": self.n_system_prompts,
             "examples without system prompt": int((~self.table["has_system"]).sum()),
             "exact duplicate groups": sum(k == "exact" for k in self.duplicates.kinds),
             "near duplicate groups": sum(k == "near" for k in self.duplicates.kinds),
             **{f"distinct-{n} (user)": round(v, 3) for n, v in self.diversity.items()}}
        if self.labels is not None:
            d["labels"] = len(self.labels)
            d["label imbalance (max/min)"] = round(self.label_imbalance, 2)
        return pd.Series(d, name=_name(self.source), dtype=object)

    def __repr__(self):
        return f"ChatStats of {_name(self.source)} ({self.encoding})\n{self.summary().to_string()}"

    def _repr_html_(self):
        return f"<b>ChatStats of {_name(self.source)}</b> ({self.encoding}){self.summary().to_frame().to_html()}"

    def plot(self, fig=None):
        """Four panels: tokens per example, messages per role, system prompts, labels/diversity."""
        import matplotlib.pyplot as plt

        fig = fig or plt.figure(figsize=(11, 6.5))
        ax = fig.subplots(2, 2).ravel()
        t = self.table["tokens"]
        ax[0].hist(t, bins=min(30, max(5, len(t) // 4)), color="#4c72b0")
        ax[0].axvline(t.median(), color="k", ls="--", label=f"median {t.median():.0f}")
        ax[0].set(title="Tokens per example", xlabel="tokens (billed)", ylabel="examples")
        ax[0].legend()
        ax[1].bar(self.roles.index, self.roles.values, color="#55a868")
        ax[1].set(title="Messages per role", ylabel="messages")
        prompts = self.system_prompts.head(6)
        ax[2].barh([_clip(s) for s in prompts.index][::-1], prompts.values[::-1], color="#c44e52")
        ax[2].set(title="System prompts (examples using each)", xlabel="examples")
        ax[2].tick_params(axis="y", labelsize=7)
        if self.labels is not None:
            ax[3].bar(self.labels.index, self.labels.values, color="#8172b2")
            ax[3].set(title=f"Label balance (max/min = {self.label_imbalance:.2f})", ylabel="examples")
        else:
            ax[3].bar([f"distinct-{n}" for n in self.diversity], list(self.diversity.values()), color="#8172b2")
            ax[3].set(title="Diversity of user messages", ylim=(0, 1), ylabel="unique / all n-grams")
        fig.tight_layout()
        return fig


def _name(source):
    from pathlib import PurePath

    return source if source.startswith("<") else PurePath(source).name


def _clip(text, n=32):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def chat_stats(source, *, model=None, encoding=None, duplicate_threshold=0.8):
    """Compute :class:`ChatStats` for a chat JSONL path or records (tokens exact, see ``ftlab.chat.tokens``)."""
    import warnings

    import pandas as pd

    if isinstance(source, ChatRecords) or isinstance(source, list):
        records = source if isinstance(source, ChatRecords) else ChatRecords(source)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unreadable lines are validate_chat's business
            records = read_chat_jsonl(source)
    encoding = encoding or encoding_name_for_model(model)
    enc = get_encoding(encoding)
    rows, roles, systems, users, replies, kept = [], {}, {}, [], [], []
    indices = range(len(records))
    if len(records) > 20_000:  # counting tokens of a big file takes seconds: show progress
        from tqdm.auto import tqdm

        indices = tqdm(indices, desc="chat_stats")
    for i in indices:
        record = records[i]
        msgs = _messages(record)
        if msgs is None:
            continue
        kept.append(i)
        system = next((content_text(m.get("content")) for m in msgs if m["role"] == "system"), None)
        systems[system or "(none)"] = systems.get(system or "(none)", 0) + 1
        per_role = {}
        for m in msgs:
            roles[m["role"]] = roles.get(m["role"], 0) + 1
            per_role[m["role"]] = per_role.get(m["role"], 0) + len(enc.encode_ordinary(content_text(m.get("content"))))
        users += [content_text(m.get("content")) for m in msgs if m["role"] == "user"]
        assistant = [content_text(m.get("content")) for m in msgs if m["role"] == "assistant"]
        replies += assistant[-1:]
        rows.append({"line": records.lines[i], "messages": len(msgs),
                     # lenient: a summary describes broken files too (validate_chat judges them)
                     "tokens": messages_tokens(msgs, enc, record.get("tools")),
                     "user_tokens": per_role.get("user", 0), "assistant_tokens": per_role.get("assistant", 0),
                     "has_system": system is not None})
    if not rows:
        raise ValueError(f"{records.source}: no well-formed chat examples to describe; "
                         "run ftlab.validate_chat on it to see why")
    table = pd.DataFrame(rows)
    order = sorted(systems, key=lambda s: (-systems[s], s))
    return ChatStats(
        source=records.source, table=table,
        roles=pd.Series(roles, name="messages").sort_values(ascending=False, kind="stable"),
        system_prompts=pd.Series({s: systems[s] for s in order}, name="examples"),
        duplicates=find_duplicates(records.subset(kept), threshold=duplicate_threshold),
        diversity={n: distinct_n(users, n) for n in (1, 2, 3)},
        labels=_labels(replies), encoding=encoding, skipped=len(records) - len(kept))
