"""``augment_chat``: augmented copies of chat examples, with a provenance table kept beside them.

The rules it follows, and why:

* Only the roles asked for change (``roles=("user",)`` by default): assistant turns are the
  training targets. ``tool``/``function`` messages and assistant messages carrying tool calls are
  never touched — their content is data a program reads, not prose.
* Variants identical to their original or to another example are dropped (a duplicate only
  re-weights an example; see ``provenance`` and ``dropped``).
* Where each variant came from (source line, operations, edits) goes into the returned
  ``provenance`` table or a sidecar CSV — never into the JSONL, whose unknown keys the fine-tuning
  service rejects.
* Give ``valid=`` your validation examples: a training example that also sits in the validation set
  (same user turns, or the same assistant reply of at least ``MIN_LEAK_CHARS`` characters: a
  short label shared by many examples is no leak) is not augmented, and no variant equal to a validation
  example is kept, so augmented copies of a validation example never land in training.

>>> recs = [{"messages": [{"role": "user", "content": "Why is the sky blue?"},
...                       {"role": "assistant", "content": "Rayleigh scattering."}]}]
>>> result = augment_chat(recs, ["swap"], n_per_example=2, seed=0, rate=0.3)
>>> [r["messages"][0]["content"] for r in result.records]
['Why is the sky blue?', 'Blue is the sky why?', 'Why is the blue sky?']
>>> result.records[2]["messages"][1] == recs[0]["messages"][1]
True
"""

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ftlab._report import plural
from ftlab.augment.text import (_USES_LEXICON, ExampleStreams, _check_ops, _check_rate, _texts,
                                apply_ops, user_key)
from ftlab.augment.lexicon import get_lexicon
from ftlab.chat.files import ChatRecords, read_chat_jsonl
from ftlab.chat.validate import MIN_LEAK_CHARS

_NEVER = ("tool", "function")


@dataclass
class AugmentResult:
    """``records``: the originals, then the variants. ``provenance``: one row per variant."""

    records: ChatRecords
    provenance: object  # pandas.DataFrame
    n_original: int
    lexicon: str
    dropped: dict = field(default_factory=dict)
    not_augmented: list = field(default_factory=list)  # source indices also in the validation set

    @property
    def variants(self):
        return self.records[self.n_original:]

    def write(self, path, *, provenance_path=None, overwrite=False):
        """Write the records as JSONL and the provenance as a CSV sidecar (``OUT.provenance.csv``):
        both or neither, neither over an existing file unless ``overwrite=True``, and never over
        the file the records were read from nor one over the other, even with ``overwrite=True``."""
        from ftlab._files import write_all
        from ftlab.chat.files import jsonl_writer

        path = Path(path)
        side = Path(provenance_path) if provenance_path else path.with_suffix(".provenance.csv")
        source = self.records.source
        write_all([(path, jsonl_writer(self.records), {"newline": "\n"}),
                   (side, lambda f: self.provenance.to_csv(f, index=False), {"newline": ""})],
                  overwrite=overwrite, inputs=[] if source.startswith("<") else [source])
        return path, side

    def summary(self):
        kept = len(self.records) - self.n_original
        drops = ", ".join(f"{v} {k}" for k, v in self.dropped.items() if v) or "none"
        text = (f"{plural(self.n_original, 'example')} + {plural(kept, 'variant')} = {len(self.records)} "
                f"(dropped: {drops}; synonyms from {self.lexicon})")
        if self.not_augmented:
            text += f"; {plural(len(self.not_augmented), 'example')} also in the validation set not augmented"
        return text

    def __repr__(self):
        return f"<AugmentResult: {self.summary()}>"


def _as_records(records):
    if isinstance(records, ChatRecords):
        return records
    if isinstance(records, (str, Path, bytes)):
        return read_chat_jsonl(records)
    return ChatRecords(list(records))


def _check_record(records, i):
    record = records[i]
    if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
        raise ValueError(f"{records.source}, line {records.line_of(i)}: field 'messages' must be a "
                         f"list of messages; got {str(record)[:80]!r}. Fix the example, or run "
                         f"ftlab.validate_chat on the file to see every problem.")
    return record


def _assistant_texts(record):
    return [" ".join(m["content"].lower().split()) for m in record["messages"]
            if isinstance(m, dict) and m.get("role") == "assistant" and isinstance(m.get("content"), str)]


def _validation_index(valid):
    """User keys and assistant replies of the validation examples (sets: membership only)."""
    users, replies = set(), set()
    for record in _as_records(valid):
        if isinstance(record, dict) and isinstance(record.get("messages"), list):
            users.add(user_key(record))
            replies.update(r for r in _assistant_texts(record) if len(r) >= MIN_LEAK_CHARS)
    return users, replies


def augment_chat(records, ops=("synonym",), *, n_per_example=1, seed=0, rate=0.1, roles=("user",),
                 valid=None, lexicon="auto", paraphraser=None, max_tries=4, progress=None):
    """Augment chat examples; returns an :class:`AugmentResult`.

    ``ops``: operation names applied in order to every text of a variant (``"synonym,typo"`` works
    too). ``n_per_example`` variants are made per example when possible (each try draws afresh;
    after ``n_per_example × max_tries`` tries it stops). ``rate``: EDA's α. ``paraphraser``: e.g.
    a :class:`~ftlab.augment.llm.ChatParaphraser`, used by ``"paraphrase"`` instead of the rules.
    ``records``/``valid``: lists of examples, ``read_chat_jsonl`` results or paths.
    """
    import pandas as pd

    ops = _check_ops(ops)
    _check_rate(rate)
    roles = tuple(roles)
    if any(r in _NEVER for r in roles):
        raise ValueError(f"roles {roles!r}: tool and function messages are never augmented (their "
                         "content is read by a program); use roles such as ('user',)")
    if n_per_example < 1 or max_tries < 1:
        raise ValueError("n_per_example and max_tries must be at least 1")
    records = _as_records(records)
    lex = get_lexicon(lexicon) if any(o in _USES_LEXICON for o in ops) else None
    valid_users, valid_replies = _validation_index(valid) if valid is not None else (set(), set())
    originals = [_check_record(records, i) for i in range(len(records))]
    seen = {_key(record) for record in originals}  # every example kept so far (membership only)
    variants, made_from, not_augmented = [], [], []
    dropped = {"identical": 0, "duplicate": 0, "in validation": 0}
    streams = ExampleStreams(seed)
    with _progress(len(records), progress) as bar:
        for i, record in enumerate(originals):
            bar.update(1)
            texts = _texts(record, roles)
            if not texts:
                continue
            if valid is not None and (user_key(record) in valid_users
                                      or any(r in valid_replies for r in _assistant_texts(record))):
                not_augmented.append(i)
                continue
            made = 0
            for attempt in range(n_per_example * max_tries):
                if made == n_per_example:
                    break
                new, edits = _variant(record, texts, ops, rate, streams(i, attempt), lex, paraphraser)
                key = _key(new)
                if key in seen:
                    same = not edits or _same_texts(new, record, texts)
                    dropped["identical" if same else "duplicate"] += 1
                    continue
                if valid is not None and user_key(new) in valid_users:
                    dropped["in validation"] += 1
                    continue
                seen.add(key)
                made += 1
                variants.append(new)
                # the edits as text at once: strings cost the garbage collector nothing to keep
                made_from.append((i, attempt, len(edits),
                                  "; ".join(f"{e.op}:{e.old}→{e.new}" for e in edits)))
    sources = [i for i, _, _, _ in made_from]
    lines = [records.line_of(i) for i in range(len(originals))]
    out = ChatRecords(originals + variants, lines + [lines[i] for i in sources], source=records.source)
    provenance = pd.DataFrame({
        "index": range(len(originals), len(out)), "source_index": sources,
        "source_line": [lines[i] for i in sources], "ops": "+".join(ops), "rate": rate, "seed": seed,
        "attempt": [a for _, a, _, _ in made_from], "n_edits": [n for _, _, n, _ in made_from],
        "edits": [text for _, _, _, text in made_from]})
    return AugmentResult(out, provenance, len(originals), _lexicon_name(lex, ops, paraphraser),
                         dropped, not_augmented)


def _key(record):
    """What makes two examples the same, cheaply: for the plain shape (only ``messages``, each only
    a role and text) the roles and texts in order; for anything else, canonical JSON. The two
    kinds of key never collide, and two records of the plain shape are equal exactly when their
    keys are."""
    if len(record) == 1:
        key = []
        for m in record["messages"]:
            if type(m) is not dict or len(m) != 2:
                break
            role, content = m.get("role"), m.get("content")
            if type(role) is not str or type(content) is not str:
                break
            key += (role, content)
        else:
            return tuple(key)
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _copy_for_edit(record, texts):
    """A copy sharing everything with ``record`` except the messages (and content lists) that
    will change — cheaper than a deep copy, and the original is never mutated."""
    new = dict(record)
    new["messages"] = list(record["messages"])
    for mi in dict.fromkeys(mi for mi, _, _ in texts):
        message = new["messages"][mi] = dict(record["messages"][mi])
        if isinstance(message.get("content"), list):
            message["content"] = [dict(p) if isinstance(p, dict) else p for p in message["content"]]
    return new


def _variant(record, texts, ops, rate, rng, lex, paraphraser):
    new, edits = _copy_for_edit(record, texts), []
    for mi, pj, text in texts:
        v = apply_ops(text, ops, rate, rng, lex, paraphraser)
        edits.extend(v.edits)
        if pj is None:
            new["messages"][mi]["content"] = v.text
        else:
            new["messages"][mi]["content"][pj]["text"] = v.text
    return new, edits


def _same_texts(new, record, texts):
    return all((new["messages"][mi]["content"] if pj is None else new["messages"][mi]["content"][pj]["text"])
               == text for mi, pj, text in texts)


def _lexicon_name(lex, ops, paraphraser):
    parts = [f"{lex.name}: {lex.description}"] if lex is not None else ["no lexicon needed"]
    if "paraphrase" in ops:
        parts.append(f"paraphrases from {paraphraser!r}" if paraphraser else "paraphrase rules")
    return "; ".join(parts)


@contextlib.contextmanager
def _progress(total, progress):
    """A tqdm bar that closes with the work; after an error it clears itself, so the error's one
    line is not buried under half a bar."""
    if progress is None:
        progress = total > 2000
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="ex", desc="augmenting", disable=not progress)
    try:
        yield bar
    except BaseException:
        bar.leave = False
        raise
    finally:
        bar.close()
