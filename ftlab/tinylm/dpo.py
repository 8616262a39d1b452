"""Preference tuning of a tiny model with DPO (Rafailov et al., 2023), on a CPU.

Supervised fine-tuning shows a model good replies. Preference tuning also shows it a bad one
for the same prompt and asks it to move probability from the bad reply to the good one. DPO
does this with one loss per pair, against a frozen copy of the starting model (the reference)::

    chosen_reward   = β · (log πθ(chosen | x)   − log π_ref(chosen | x))
    rejected_reward = β · (log πθ(rejected | x) − log π_ref(rejected | x))
    loss            = −log σ(chosen_reward − rejected_reward)

where a log-probability is the **sum** over the reply's tokens (its characters and closing
``<|end|>``, rendered with the chat template; the prompt is not scored). β (OpenAI's ``beta``)
is how strongly the model is held to the reference: the loss stops pulling once the reward
margin is a few units, i.e. once the log-probability ratio has moved by a few multiples of 1/β.
At the start policy = reference, so every reward is 0 and the loss is log 2:

>>> round(dpo_loss([-3.0], [-2.0], [-3.0], [-2.0], beta=0.1)["loss"], 6) == round(math.log(2), 6)
True

``dpo_finetune(model, train, valid, beta=0.1, ...)`` runs the loop on OpenAI-format preference
records (``ftlab.chat.preference.read_preference_jsonl``) and returns a ``Run`` whose steps hold
the DPO loss, the rewards, their margin and the share of pairs ranked right, on training batches
and on the validation pairs. ``evaluate_preferences`` scores a model on pairs without training.
"""

import math
import time

import numpy as np

from ftlab._report import wilson_interval
from ftlab.chat.preference import check_preference_records, preference_pair, read_preference_jsonl
from ftlab.tinylm.optim import Adam, clip_gradients, one_blas_thread
from ftlab.tinylm.sequences import pad_batch, shift, windows
from ftlab.tinylm.text import IGNORE_INDEX, contexts, render_chat
from ftlab.tinylm.training import BASE_LEARNING_RATE, MAX_GRAD_NORM

DEFAULTS = {"beta": 0.1, "n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 1.0}
SCORE_SEQUENCES = 64  # replies per forward pass when scoring without training (bounded memory)


# ----------------------------------------------------------------------------- the loss


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=0.1):
    """The DPO loss of pairs, averaged, and its gradient with respect to the policy's log-probs.

    Inputs are per-pair summed log-probabilities (arrays of equal length). Returns a dict:
    ``loss`` (mean over pairs), ``losses`` (per pair), ``chosen_reward``, ``rejected_reward``,
    ``margin`` (per pair) and ``grad_chosen``, ``grad_rejected``: d loss / d log πθ(reply).

    With z = chosen_reward − rejected_reward, d(−log σ(z))/dz = −σ(−z), so each pair pulls with
    weight σ(−z) · β: hardest on the pairs ranked wrong, hardly at all on the ones already right.
    """
    pc, pr, rc, rr = (np.asarray(a, dtype=np.float64) for a in
                      (policy_chosen, policy_rejected, ref_chosen, ref_rejected))
    chosen_reward, rejected_reward = beta * (pc - rc), beta * (pr - rr)
    z = chosen_reward - rejected_reward
    losses = np.logaddexp(0.0, -z)  # −log σ(z), without overflow for large |z|
    pull = np.exp(-np.logaddexp(0.0, z)) / max(len(z), 1)  # σ(−z) / n, stably
    return {"loss": float(losses.mean()) if len(z) else math.nan, "losses": losses,
            "chosen_reward": chosen_reward, "rejected_reward": rejected_reward, "margin": z,
            "grad_chosen": -beta * pull, "grad_rejected": beta * pull}


# ----------------------------------------------------------------------------- replies


def _render_reply(prompt, reply, where):
    """Tokens of prompt + reply, with only the reply's tokens (and its <|end|>) as targets."""
    tokens, targets = render_chat({"messages": [*prompt, reply]}, where=where)
    asked, _ = render_chat({"messages": prompt}, where=where, add_generation_prompt=True)
    targets = targets.copy()
    targets[:len(asked)] = IGNORE_INDEX  # earlier assistant turns of the prompt are context
    targets[len(asked):] = tokens[len(asked):]  # the reply counts whatever its "weight"
    return tokens, targets


class _Pairs:
    """Preference examples rendered once: ``replies[2i]`` chosen, ``replies[2i+1]`` rejected."""

    def __init__(self, records, what):
        if isinstance(records, (str, bytes)) or hasattr(records, "__fspath__"):
            records = read_preference_jsonl(records)
        else:
            records = check_preference_records(records, source=getattr(records, "source", what))
        if not len(records):
            raise ValueError(f"{what} has no preference pairs")
        self.replies = []
        for i, example in enumerate(records):
            prompt, chosen, rejected = preference_pair(example)
            where = f"{records.source} line {records.line_of(i)}"
            self.replies += [_render_reply(prompt, chosen, where + " preferred_output"),
                             _render_reply(prompt, rejected, where + " non_preferred_output")]

    def __len__(self):
        return len(self.replies) // 2

    def of(self, pairs):
        return [self.replies[2 * i + k] for i in pairs for k in (0, 1)]

    def n_tokens(self, pairs):
        return sum(int((y != IGNORE_INDEX).sum()) for _, y in self.of(pairs))


def _inputs(model, replies):
    """Model inputs for some replies, their targets and which reply each target belongs to.

    The MLP reads a fixed window before each counted token (``contexts``); a model that reads
    whole sequences (``reads_whole_sequences``, the transformer) gets each reply shifted, cut to
    its context and padded, as ``finetune`` gives it. Either way each counted token appears once.
    """
    c = model.config.context_size
    if getattr(model, "reads_whole_sequences", False):
        pieces, owners = [], []
        for r, (tokens, targets) in enumerate(replies):
            for piece in windows(*shift(tokens, targets), c):
                pieces.append(piece)
                owners.append(r)
        x, y = pad_batch(pieces)
        return x, y, np.repeat(owners, y.shape[1]).reshape(y.shape)
    rows = [(contexts(t, c)[y != IGNORE_INDEX], y[y != IGNORE_INDEX]) for t, y in replies]
    owner = np.concatenate([np.full(len(y), r) for r, (_, y) in enumerate(rows)])
    return np.concatenate([x for x, _ in rows]), np.concatenate([y for _, y in rows]), owner


def _forward(model, replies):
    """Summed log-probability of each reply, and what ``_backward`` needs.

    Both tiny models expose ``forward(inputs) -> (logits, cache)`` and
    ``backward(cache, dlogits) -> grads``; that is all DPO needs. (``loss_and_grads`` only gives
    the gradient of a *mean* over a batch's tokens, which would take one call per reply and a
    rescaling by its token count; going through the logits takes one pass for the whole batch.)
    """
    x, y, owner = _inputs(model, replies)
    logits, cache = model.forward(x)
    vocab = logits.shape[-1]
    y, owner = y.ravel(), owner.ravel()
    rows = np.flatnonzero(y != IGNORE_INDEX)
    z = logits.reshape(-1, vocab)[rows].astype(np.float64)
    top = z.max(axis=1, keepdims=True)
    log_norm = top + np.log(np.exp(z - top).sum(axis=1, keepdims=True))  # log Σ e^z, stably
    token_logp = z[np.arange(len(rows)), y[rows]] - log_norm[:, 0]
    logp = np.bincount(owner[rows], weights=token_logp, minlength=len(replies))
    return logp, (logits, cache, rows, y[rows], owner[rows], z - log_norm)


def _backward(model, state, dlogp):
    """Gradients of the loss given d loss / d (summed log-prob) of each reply.

    d log p(y) / d logits = onehot(y) − softmax(logits) for each counted token of a reply, so a
    reply's weight ``dlogp[r]`` spreads over its tokens; uncounted positions get 0.
    """
    logits, cache, rows, y, owner, log_probs = state
    weight = dlogp[owner][:, None]
    d = -np.exp(log_probs) * weight
    d[np.arange(len(rows)), y] += weight[:, 0]
    dlogits = np.zeros((logits.size // logits.shape[-1], logits.shape[-1]), dtype=logits.dtype)
    dlogits[rows] = d
    return model.backward(cache, dlogits.reshape(logits.shape))


def _loss_grads(model, replies, ref, beta):
    """One pass over a batch of (chosen, rejected, chosen, ...) replies: the policy's log-probs
    of the chosen and the rejected replies, and the gradients of the mean DPO loss."""
    logp, state = _forward(model, replies)
    chosen, rejected = logp[0::2], logp[1::2]
    scored = dpo_loss(chosen, rejected, *ref, beta=beta)
    dlogp = np.empty_like(logp)
    dlogp[0::2], dlogp[1::2] = scored["grad_chosen"], scored["grad_rejected"]
    return chosen, rejected, _backward(model, state, dlogp)


def _logprobs(model, pairs, indices=None):
    """(chosen, rejected) summed log-probs of some pairs, in chunks, no gradients."""
    indices = range(len(pairs)) if indices is None else indices
    indices, out = list(indices), []
    step = max(1, SCORE_SEQUENCES // 2)
    with one_blas_thread():
        for start in range(0, len(indices), step):
            out.append(_forward(model, pairs.of(indices[start:start + step]))[0])
    both = np.concatenate(out) if out else np.empty(0)
    return both[0::2], both[1::2]


def reply_logprobs(model, pairs):
    """Summed log-probabilities (nats) of the preferred and the non-preferred replies.

    ``pairs``: preference records (OpenAI's format) or a path to such a file. Returns two float
    arrays, one number per pair: log π(preferred | prompt), log π(non-preferred | prompt).
    """
    return _logprobs(model, _Pairs(pairs, "pairs"))


def _summary(chosen, rejected, ref=None, beta=None):
    """The numbers a step or an evaluation records, from per-pair log-probs."""
    out = {"chosen_logprob": float(chosen.mean()), "rejected_logprob": float(rejected.mean())}
    if ref is not None:
        scored = dpo_loss(chosen, rejected, *ref, beta=beta)
        out.update(loss=scored["loss"], chosen_reward=float(scored["chosen_reward"].mean()),
                   rejected_reward=float(scored["rejected_reward"].mean()),
                   reward_margin=float(scored["margin"].mean()),
                   reward_accuracy=float((scored["margin"] > 0).mean()))
    return out


def evaluate_preferences(model, pairs, *, reference=None, beta=0.1):
    """How a model ranks the two replies of each pair; with ``reference``, the DPO numbers too.

    Returns a dict: ``n_pairs``; ``prefers_rejected``, the share of pairs where the model gives
    the non-preferred reply the higher probability, with its 95 % Wilson ``interval``; the mean
    ``chosen_logprob`` and ``rejected_logprob``; and with a reference model ``loss``,
    ``chosen_reward``, ``rejected_reward``, ``reward_margin`` and ``reward_accuracy`` at ``beta``.
    """
    pairs = _Pairs(pairs, "pairs")
    chosen, rejected = _logprobs(model, pairs)
    k = int((rejected > chosen).sum())
    ref = _logprobs(reference, pairs) if reference is not None else None
    return {"n_pairs": len(pairs), "prefers_rejected": k / len(pairs),
            "interval": wilson_interval(k, len(pairs)), **_summary(chosen, rejected, ref, beta)}


# ----------------------------------------------------------------------------- the loop


def _check(beta, n_epochs, batch_size, learning_rate_multiplier, eval_every):
    whole = lambda x: isinstance(x, (int, np.integer)) and not isinstance(x, bool)  # noqa: E731
    if not isinstance(beta, (int, float, np.number)) or not 0 < beta < math.inf:
        raise ValueError(f"beta must be a number > 0 (OpenAI's default is 0.1), got {beta!r}")
    if not whole(n_epochs) or not 1 <= n_epochs <= 1000:
        raise ValueError(f"n_epochs must be a whole number from 1 to 1000, got {n_epochs!r}")
    if not whole(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    if not isinstance(learning_rate_multiplier, (int, float, np.number)) or \
            not 0 < learning_rate_multiplier < math.inf:
        raise ValueError(f"learning_rate_multiplier must be a number > 0, got "
                         f"{learning_rate_multiplier!r}")
    if eval_every is not None and (not whole(eval_every) or eval_every < 1):
        raise ValueError(f"eval_every must be a positive whole number or None, got {eval_every!r}")


def dpo_finetune(model, train, valid=None, *, beta=None, n_epochs=None, batch_size=None,
                 learning_rate_multiplier=None, reference=None, seed=0, eval_every=None,
                 progress=True, name=None):
    """Preference-tune ``model`` in place with DPO on preference pairs; returns a ``Run``.

    ``train``/``valid``: records in OpenAI's preference format, or paths to such JSONL files.
    ``reference`` is the frozen model the rewards are measured against; by default the model as
    it is before this call (its log-probs are computed once, up front: it never changes).
    Defaults: ``beta=0.1`` (OpenAI's), 3 epochs, batches of 8 pairs, learning rate
    ``base_learning_rate × learning_rate_multiplier`` with Adam, gradients clipped to norm 1.
    Each step records ``train_loss`` (the DPO loss), ``chosen_reward``, ``rejected_reward``,
    ``reward_margin``, ``reward_accuracy`` and the mean ``chosen_logprob``/``rejected_logprob``
    of its batch; every ``eval_every`` steps (default about 4 per epoch) and at each epoch end
    the same on all ``valid`` pairs as ``valid_loss``, ``valid_chosen_reward``, ... The same seed
    gives the same run.
    """
    beta = DEFAULTS["beta"] if beta is None else beta
    n_epochs = DEFAULTS["n_epochs"] if n_epochs is None else n_epochs
    batch_size = DEFAULTS["batch_size"] if batch_size is None else batch_size
    if learning_rate_multiplier is None:
        learning_rate_multiplier = DEFAULTS["learning_rate_multiplier"]
    _check(beta, n_epochs, batch_size, learning_rate_multiplier, eval_every)
    started = time.perf_counter()
    train_pairs = _Pairs(train, "train")
    valid_pairs = _Pairs(valid, "valid") if valid is not None else None
    ref_model = model if reference is None else reference
    ref_train = _logprobs(ref_model, train_pairs)
    ref_valid = _logprobs(ref_model, valid_pairs) if valid_pairs else None
    n = len(train_pairs)
    batch_size = min(int(batch_size), n)
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = steps_per_epoch * int(n_epochs)
    eval_every = int(eval_every or max(1, steps_per_epoch // 4))
    lr = getattr(model, "base_learning_rate", BASE_LEARNING_RATE) * learning_rate_multiplier
    rng = np.random.default_rng([seed, 0])
    optimizer = Adam(model.params, lr=lr)
    history, step, pairs_seen = [], 0, 0

    from tqdm.auto import tqdm

    bar = tqdm(total=total_steps, disable=not progress, desc="DPO", unit="step", leave=False)
    try:
        with one_blas_thread():
            for epoch in range(int(n_epochs)):
                order = rng.permutation(n)
                for b in range(steps_per_epoch):
                    step += 1
                    picked = order[b * batch_size:(b + 1) * batch_size]
                    ref = (ref_train[0][picked], ref_train[1][picked])
                    chosen, rejected, grads = _loss_grads(model, train_pairs.of(picked), ref, beta)
                    grad_norm = clip_gradients(grads, MAX_GRAD_NORM)
                    optimizer.step(model.params, grads)
                    pairs_seen += len(picked)
                    summary = _summary(chosen, rejected, ref, beta)
                    row = {"step": step, "epoch": step / steps_per_epoch,
                           "train_loss": summary.pop("loss"), **summary,
                           "grad_norm": grad_norm, "learning_rate": lr,
                           "elapsed_pairs": pairs_seen}
                    if valid_pairs and (step % eval_every == 0 or b == steps_per_epoch - 1):
                        scores = _summary(*_logprobs(model, valid_pairs), ref_valid, beta)
                        row["valid_loss"] = scores.pop("loss")
                        row.update({f"valid_{k}": v for k, v in scores.items()})
                    history.append(row)
                    bar.update(1)
                    bar.set_postfix(loss=f"{row['train_loss']:.3f}",
                                    acc=f"{row['reward_accuracy']:.2f}")
    finally:
        bar.close()  # also when interrupted: no half-drawn bar left behind

    hyper = {"n_epochs": int(n_epochs), "batch_size": batch_size,
             "learning_rate_multiplier": learning_rate_multiplier, "beta": beta}
    meta = {
        "format": "tinylm", "method": "dpo",
        "name": name or f"tinylm DPO β={beta:g}, {n_epochs} epochs, batch {batch_size}, "
                        f"lr×{learning_rate_multiplier:g}",
        "model": model.info.get("name", type(model).__name__),
        "hyperparameters": hyper, "learning_rate": lr, "seed": seed,
        "n_train_examples": n, "n_valid_examples": len(valid_pairs) if valid_pairs else 0,
        "eval_every": eval_every, "steps_per_epoch": steps_per_epoch, "total_steps": step,
        "trained_tokens": train_pairs.n_tokens(range(n)) * int(n_epochs),
        "wall_time_s": round(time.perf_counter() - started, 3),
    }
    model.info.setdefault("finetuned", []).append(
        {"name": meta["name"], "method": "dpo", "hyperparameters": hyper,
         "n_train_examples": n, "total_steps": step})
    import pandas as pd

    from ftlab.runs.run import Run

    return Run(pd.DataFrame(history).set_index("step"), meta)


__all__ = ["dpo_loss", "dpo_finetune", "evaluate_preferences", "reply_logprobs", "DEFAULTS"]
