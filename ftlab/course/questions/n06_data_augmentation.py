"""Exercises of notebook 06, data augmentation."""

from ftlab.course.exercise import add


def _edit_count(rate, length):
    from ftlab.augment.ops import n_edits

    return n_edits(rate, length)


add(
    "06-edit-count",
    question="EDA with α = 0.15 on a user message of 13 words: how many words does synonym "
             "replacement aim to replace?",
    solution=lambda: _edit_count(0.15, 13),
    hint="Use the rule above the table, n = max(1, floor(α·l)): work out α·l first, then decide "
         "which way EDA rounds.",
    worked="""
alpha, length = 0.15, 13
raw = alpha * length                 # 1.95 words: EDA rounds down ...
print(f"α·l = {raw:.2f}, floor(α·l) = {math.floor(raw)}")
answer = max(1, math.floor(raw))     # ... and always changes at least one word
""",
    why="n = max(1, floor(α·l)) = max(1, floor(1.95)) = {answer}: EDA rounds down, so 1.95 words "
        "is one edit (its code takes int(α·l)).",
    mistakes=[
        (lambda: 2, "α·l = 1.95 rounds to 2, but EDA rounds down (int() drops the fraction): "
                    "n = max(1, floor(α·l))."),
        (lambda: 1.95, "α·l = 1.95 is not a whole number of words: n = max(1, floor(α·l))."),
        (lambda: 13, "That is every word of the message. α = 0.15 asks for 15 % of them, rounded "
                     "down, and at least one."),
        (lambda: 0, "floor(1.95) is 1, not 0; and even when floor(α·l) is 0, EDA changes one word."),
    ],
)


def _expected_deletions(p, length):
    # each word goes with probability p; when none went, EDA deletes one
    return length * p + (1 - p) ** length


add(
    "06-deletion-expected",
    question="Random deletion with p = 0.2 on a 10-word message deletes each word with probability "
             "0.2, and one word when chance deleted none. Expected number of words deleted, to 3 "
             "decimals?",
    solution=lambda: _expected_deletions(0.2, 10),
    decimals=3,
    hint="Expected deletions = (expected deletions by chance) + (probability that chance deleted "
         "none) × 1.",
    worked="""
p, length = 0.2, 10
by_chance = length * p                  # each of 10 words goes with probability 0.2
p_none = (1 - p) ** length              # chance deleted nothing: then EDA deletes one word
answer = by_chance + p_none * 1
print(f"l·p = {by_chance}, P(none) = 0.8^10 = {p_none:.4f}, expected = {answer:.4f}")
# the same by simulation: 200,000 messages
rng = np.random.default_rng(0)
deleted = (rng.random((200_000, length)) < p).sum(axis=1)
deleted[deleted == 0] = 1
print(f"simulated: {deleted.mean():.4f}")
""",
    why="E = l·p + P(none deleted)·1 = 10·0.2 + 0.8^10 ≈ {answer:.3f}: the at-least-one rule adds "
        "a little to l·p.",
    mistakes=[
        (lambda: 2.0, "l·p = 2 forgets the at-least-one rule: add P(no word deleted) = 0.8^10."),
        (lambda: 0.8 ** 10, "0.8^10 is only the chance that no word was deleted; add l·p = 2."),
        (lambda: 2.0 + 1, "The extra word is deleted only when chance deleted none, which happens "
                          "with probability 0.8^10, not always: add 0.8^10, not 1."),
    ],
)


def _marv_augmented():
    """Section 6 of notebook 06, as it runs there."""
    from ftlab._data import data_dir
    from ftlab.augment.chat import augment_chat
    from ftlab.chat.files import read_chat_jsonl

    chat = data_dir() / "chat"
    return augment_chat(read_chat_jsonl(chat / "marv_train.jsonl"), ["synonym", "typo"],
                        n_per_example=2, seed=0, valid=read_chat_jsonl(chat / "marv_valid.jsonl"))


add(
    "06-augmented-size",
    question="Section 6 augments the 128 Marv training examples with n_per_example=2 (synonym and "
             "typo, seed 0, valid= the validation file), and augmented.dropped shows a dropped "
             "duplicate. How many examples does augmented.records hold?",
    solution=lambda: len(_marv_augmented().records),
    hint="augment_chat keeps the originals first; when it drops a variant it tries again "
         "(max_tries), so count what it keeps, not what it dropped.",
    worked="""
chat = ftlab.data_dir() / "chat"
train = ftlab.read_chat_jsonl(chat / "marv_train.jsonl")
valid = ftlab.read_chat_jsonl(chat / "marv_valid.jsonl")
result = ftlab.augment_chat(train, ["synonym", "typo"], n_per_example=2, seed=0, valid=valid)
print("dropped:", result.dropped)
variants_per_example = result.provenance.groupby("source_index").size()
print("variants per example:", variants_per_example.value_counts().to_dict())
answer = result.n_original + len(result.provenance)   # originals first, then the variants kept
""",
    why="{answer}: the 128 originals stay first, and a dropped variant is replaced by another try "
        "(augment_chat tries up to n_per_example × max_tries times per example), so each example "
        "still gets its 2 variants.",
    mistakes=[
        (lambda: 128 * 3 - sum(_marv_augmented().dropped.values()),
         "A dropped variant is not a missing one: augment_chat tries again (max_tries), so nothing "
         "is subtracted here."),
        (lambda: 128 * 2, "That counts only the variants: augmented.records keeps the 128 originals "
                          "first."),
        (lambda: 128 * 2 + 1, "n_per_example=2 means 2 variants besides each original, so 3 "
                              "examples per original in all."),
    ],
)


def _experiment():
    from ftlab.augment.experiment import shipped_results

    return shipped_results()


def _verdict_key():
    row = _experiment().comparisons("test_accuracy").set_index(["arm", "baseline"]).loc[
        ("original + augmented", "original + copies")]
    return {"not detected": "b", "better": "c", "worse": "d"}[row["verdict"]]


add(
    "06-experiment-verdict",
    question="Read the accuracy rows of the comparisons above. Which conclusion about augmentation "
             "and test accuracy do these runs support?",
    solution=_verdict_key,
    hint="Which pair of arms differs only in the wording of the extra examples? Then: does its "
         "interval include 0, and what does an interval that includes 0 allow?",
    worked="""
t_quantile = ftlab.t_quantile   # Student's t quantiles, numpy only

table = pd.read_csv(ftlab.data_dir() / "experiments" / "augment_tickets.csv")
acc = table.pivot(index="seed", columns="arm", values="test_accuracy")
d = acc["original + augmented"] - acc["original + copies"]   # the pair that differs only in wording
n = len(d)
se = d.std(ddof=1) / math.sqrt(n)
t975, t80 = t_quantile(0.975, n - 1), t_quantile(0.80, n - 1)   # n-1 degrees of freedom
low, high = d.mean() - t975 * se, d.mean() + t975 * se
print(f"augmented - copies: {d.mean():+.4f}, 95% CI {low:+.4f} to {high:+.4f} over {n} seeds")
print(f"detectable with 80% power: ±{(t975 + t80) * se:.4f}")
answer = "b" if low <= 0 <= high else ("c" if low > 0 else "d")
""",
    why="The only comparison that isolates augmentation is augmented − copies (same examples, "
        "steps and order; only the wording differs), and its interval decides. An interval that "
        "includes 0 means no effect was detected — not that there is none: every difference "
        "inside the interval fits these runs, and one smaller than the minimum detectable "
        "difference would often be missed. Either way it speaks for these test messages and "
        "this model only.",
    choices={
        "a": ("Augmentation has no effect on accuracy here: the interval of augmented − copies "
              "includes 0.",
              "An interval that includes 0 does not show the effect is 0: it also includes small "
              "effects either way, up to its two ends. Say what the runs allow: no effect was "
              "detected, and any effect inside the interval is still possible."),
        "b": ("No effect of augmentation on accuracy was detected; an effect smaller than the "
              "minimum detectable difference may still exist.",
              "The interval of augmented − copies excludes 0 here: an effect was detected, and "
              "its sign says which way."),
        "c": ("Augmentation raised accuracy: the interval of augmented − copies lies above 0.",
              "Look at the interval again: it does not lie wholly above 0."),
        "d": ("Augmentation lowered accuracy: the interval of augmented − copies lies below 0.",
              "Look at the interval again: it does not lie wholly below 0."),
        "e": ("Augmentation lowered accuracy: the augmented arm's mean accuracy is below the "
              "original arm's.",
              "Augmented − original mixes two things: the rewording and three times the training "
              "steps on repeated examples. The copies arm has the same steps without the "
              "rewording; only augmented − copies measures augmentation, and its interval decides."),
    },
)


def _steps_share():
    means = _experiment().by_seed("test_label_loss").mean()
    return float((means["original + copies"] - means["original"])
                 / (means["original + augmented"] - means["original"]))


def _steps_share_complement():
    means = _experiment().by_seed("test_label_loss").mean()
    return float((means["original + augmented"] - means["original + copies"])
                 / (means["original + augmented"] - means["original"]))


def _steps_share_inverse():
    return 1 / _steps_share()


add(
    "06-steps-share",
    question="In the experiment's results, take the mean test label loss of each arm over the "
             "seeds. What share of the difference (original + augmented) − (original) is already "
             "there with exact copies, (original + copies) − (original)? Answer to 2 decimals.",
    solution=_steps_share,
    decimals=2,
    hint="Average test_label_loss per arm first; then divide the copies' difference from the "
         "original by the augmented arm's difference from the original.",
    worked="""
table = pd.read_csv(ftlab.data_dir() / "experiments" / "augment_tickets.csv")
means = table.groupby("arm")["test_label_loss"].mean()
print(means.round(4).to_string())
more_steps = means["original + copies"] - means["original"]       # same steps, no rewording
naive_gap = means["original + augmented"] - means["original"]     # what you see without a control
print(f"copies - original = {more_steps:+.4f}, augmented - original = {naive_gap:+.4f}")
answer = more_steps / naive_gap
""",
    why="{answer:.2f}: that share of the naive gap appears with exact copies, which change nothing "
        "but the number of steps and repeats. Comparing augmented with original alone would have "
        "blamed augmentation for it; only augmented − copies measures augmentation itself.",
    mistakes=[
        (_steps_share_complement,
         "That is (augmented − copies) / (augmented − original): the share left for augmentation "
         "itself. The question asks for the share the copies already show."),
        (_steps_share_inverse,
         "You divided the other way round: (augmented − original) / (copies − original). Put the "
         "copies' difference on top."),
    ],
)
