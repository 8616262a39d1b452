"""Exercises of notebook 08, inference parameters.

They ask about the distributions on the learner's screen: those of the notebook's own fine-tuned
tiny transformer (3 epochs on Marv, seed 0; trained once per process) and, for the judgement, of the
ticket router that ships with ftlab (``tinylm-attn-tickets-v1``) on the test tickets.
"""

import math
from functools import lru_cache

from ftlab.course.exercise import add

_SETUP = """
from ftlab._data import data_dir
chat = data_dir() / "chat"
train = ftlab.read_chat_jsonl(chat / "marv_train.jsonl")
valid = ftlab.read_chat_jsonl(chat / "marv_valid.jsonl")
model = ftlab.tinylm.load_pretrained()
model.finetune(train, valid, n_epochs=3, seed=0, progress=False)   # the notebook's first cell
question = valid[0]["messages"][:2]                                 # system prompt + question
"""


def _chat(name):
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    return read_chat_jsonl(data_dir() / "chat" / name)


@lru_cache(maxsize=None)
def _model():
    from ftlab.tinylm.model import load_pretrained

    model = load_pretrained()
    model.finetune(_chat("marv_train.jsonl"), _chat("marv_valid.jsonl"), n_epochs=3, seed=0,
                   progress=False)
    return model


def _question():
    return _chat("marv_valid.jsonl")[0]["messages"][:2]


@lru_cache(maxsize=None)
def _first_logits():
    return tuple(float(z) for z in _model().next_token_logits(_question()))


def _probs(logits, temperature):
    from ftlab.sampling import apply_temperature

    return apply_temperature(list(logits), temperature)


def _perplexity(probs):
    p = [x for x in probs if x > 0]
    return math.exp(-sum(x * math.log(x) for x in p))


# ----------------------------------------------------------------------------- section 2


add(
    "08-temperature",
    question=("With `logits`, the model's scores for the first character of its reply (section 2), "
              "what probability does the most likely token get at temperature 0.5? Give it to 3 "
              "decimals."),
    solution=lambda: float(max(_probs(_first_logits(), 0.5))),
    decimals=3,
    hint="Divide every logit by T = 0.5, then take the softmax: e^(z_i/T) / Σ_j e^(z_j/T).",
    worked=_SETUP + """
z = model.next_token_logits(question)
scaled = z / 0.5                                  # temperature divides the scores
p = np.exp(scaled - scaled.max())                 # subtract the max: same softmax, no overflow
p /= p.sum()
print(f"top token's logit {z.max():.3f}; its probability at T = 1: "
      f"{np.exp(z - z.max()).max() / np.exp(z - z.max()).sum():.3f}, at T = 0.5: {p.max():.3f}")
answer = p.max()
""",
    why=("Dividing by T = 0.5 doubles the gaps between the scores, so the favourite's share grows: "
         "{answer:.3f}, against its share at T = 1 in the table. A low temperature sharpens the "
         "distribution."),
    mistakes=[
        (lambda: float(max(_probs(_first_logits(), 1.0))),
         "That is temperature 1, the model's own distribution (the table's T = 1.0 row). Divide "
         "the logits by T = 0.5 first."),
        (lambda: float(max(_probs(_first_logits(), 2.0))),
         "You multiplied the logits by 0.5 (that is temperature 2). Temperature divides them: z / T."),
        (lambda: float(max(_probs(_first_logits(), 1.0))) ** 2,
         "Squaring the probability is not the same as halving the temperature: the softmax "
         "renormalises over all the tokens. Compute e^(z/T) for every token, then divide by the sum."),
    ],
)


add(
    "08-distribution-perplexity",
    question=("What is the perplexity e^H of the model's distribution for that first character "
              "at temperature 1.2? Give it to 2 decimals."),
    solution=lambda: _perplexity(_probs(_first_logits(), 1.2)),
    decimals=2,
    hint="Get the probabilities at T = 1.2 (softmax of logits / 1.2), then H = −Σ p ln p over the "
         "tokens with p > 0, and e^H.",
    worked=_SETUP + """
z = model.next_token_logits(question) / 1.2
p = np.exp(z - z.max())
p /= p.sum()
p = p[p > 0]
entropy = -(p * np.log(p)).sum()                  # nats
print(f"H = {entropy:.4f} nats")
answer = math.exp(entropy)
""",
    why=("H is the entropy in nats and e^H ≈ {answer:.2f}: the distribution is as uncertain as a "
         "choice among that many equally likely tokens. T = 1.2 flattens it, so it is higher "
         "than the table's perplexity at T = 1.0."),
    mistakes=[
        (lambda: math.log(_perplexity(_probs(_first_logits(), 1.2))),
         "That is the entropy H in nats. The perplexity is e^H."),
        (lambda: _perplexity(_probs(_first_logits(), 1.0)),
         "That is the perplexity at T = 1.0 (the table's row). Divide the logits by 1.2 first."),
        (lambda: 2 ** math.log(_perplexity(_probs(_first_logits(), 1.2))),
         "You raised 2 to the entropy in nats. With natural logs the perplexity is e^H (2^H goes "
         "with entropy in bits)."),
        (lambda: 102, "That is the number of tokens in the vocabulary. They are not equally "
                      "likely, so the effective number of choices is far smaller."),
    ],
)


# ----------------------------------------------------------------------------- section 4


@lru_cache(maxsize=None)
def _least_sure_logits():
    """Logits at the position of section 4 where the model is least sure (highest entropy)."""
    model, question = _model(), _question()
    reply = _chat("marv_valid.jsonl")[0]["messages"][2]["content"]
    best, best_h = None, -1.0
    for k in range(len(reply)):
        z = model.next_token_logits(question, reply_so_far=reply[:k])
        h = math.log(_perplexity(_probs(z, 1.0)))
        if h > best_h:
            best, best_h = z, h
    return tuple(float(v) for v in best)


def _top_p_kept(top_p, logits=None):
    from ftlab.sampling import filtered_distribution

    z = list(logits if logits is not None else _least_sure_logits())
    return int((filtered_distribution(z, 1.0, top_p) > 0).sum())


def _below_p(top_p):
    """How many of the most likely tokens add up to less than top_p (one short of the nucleus)."""
    total, n = 0.0, 0
    for p in sorted(_probs(_least_sure_logits(), 1.0), reverse=True):
        if total + p >= top_p:
            return n
        total, n = total + p, n + 1
    return n


add(
    "08-top-p-kept",
    question=("At section 4's least sure position (`steps[unsure]`, temperature 1), how many "
              "tokens does top-p = 0.5 keep?"),
    solution=lambda: _top_p_kept(0.5),
    hint=("Sort the probabilities from the largest, add them up one by one, and count the tokens "
          "until the running total first reaches 0.5."),
    worked=_SETUP + """
reply = valid[0]["messages"][2]["content"]
entropies = []
for k in range(len(reply)):                        # walk through the reply, as section 4 does
    z = model.next_token_logits(question, reply_so_far=reply[:k])
    p = np.exp(z - z.max()); p /= p.sum()
    entropies.append(-(p[p > 0] * np.log(p[p > 0])).sum())
unsure = int(np.argmax(entropies))
z = model.next_token_logits(question, reply_so_far=reply[:unsure])
p = np.sort(np.exp(z - z.max()) / np.exp(z - z.max()).sum())[::-1]   # largest first
running = np.cumsum(p)
answer = int(np.argmax(running >= 0.5)) + 1        # the first count whose total reaches 0.5
print("largest probabilities:", p[:answer + 1].round(3))
print("running totals:       ", running[:answer + 1].round(3))
""",
    why=("The {answer} most likely tokens are the smallest set whose probabilities add up to at "
         "least 0.5; top-p keeps exactly those and renormalises them."),
    mistakes=[
        (lambda: _top_p_kept(0.9), "That is top-p = 0.9, the table's column. The question asks "
                                   "for top-p = 0.5."),
        (lambda: _below_p(0.5), "Those tokens add up to less than 0.5. The nucleus is the "
                                "smallest set that *reaches* p: one more token."),
        (lambda: 10, "That is top-k = 10, which keeps the same number everywhere. Top-p counts "
                     "tokens until their probabilities add up to p."),
    ],
)


# ----------------------------------------------------------------------------- section 8

# The candidate settings of section 8 (temperature, top_p) and the options built from them.
_SETTINGS = {"T = 0 (greedy)": (0.0, 1.0), "T = 0.7": (0.7, 1.0), "T = 1": (1.0, 1.0),
            "T = 1.5": (1.5, 1.0)}
_OPTIONS = {"a": ("T = 0 (greedy)", "T = 0.7"), "b": ("T = 1", "T = 0 (greedy)"),
            "c": ("T = 0 (greedy)", "T = 0 (greedy)"), "d": ("T = 1.5", "T = 1.5")}


@lru_cache(maxsize=None)
def _router_first_logits():
    """The shipped router's logits for the first character of its reply to each test ticket."""
    from ftlab.tinylm.model import load_pretrained

    router = load_pretrained("tinylm-attn-tickets-v1")
    return tuple(tuple(float(v) for v in router.next_token_logits(record["messages"][:-1]))
                 for record in _chat("tickets_test.jsonl"))


def _label_change(temperature, top_p):
    """Mean chance, over the test tickets, that a draw of the reply's first character differs
    from the greedy one (the labels start with different letters, so this is a different label
    or no label at all)."""
    import numpy as np

    from ftlab.sampling import filtered_distribution

    changes = []
    for logits in _router_first_logits():
        z = np.array(logits)
        p = filtered_distribution(z, temperature, top_p)
        changes.append(1.0 - float(p[int(np.argmax(z))]))
    return float(np.mean(changes))


def _creative_choices(model, question, temperature, top_p):
    """Effective number of choices e^H for the first character of Marv's reply."""
    from ftlab.sampling import filtered_distribution

    return _perplexity(filtered_distribution(model.next_token_logits(question), temperature, top_p))


def _settings_choice():
    """The option whose routing setting never changes the label and whose creative setting keeps
    some variety without flattening the model's own distribution."""
    own = _creative_choices(_model(), _question(), 1.0, 1.0)
    fitting = []
    for key, (routing, creative) in _OPTIONS.items():
        routing_ok = _label_change(*_SETTINGS[routing]) == 0
        variety = _creative_choices(_model(), _question(), *_SETTINGS[creative])
        if routing_ok and 1 < variety <= own:
            fitting.append(key)
    if len(fitting) != 1:
        raise RuntimeError(f"08-settings: expected one fitting option, found {fitting}")
    return fitting[0]


add(
    "08-settings",
    question=("Section 8's table shows, for each setting, how often (at least) a sampled reply "
              "leaves the greedy router's label and how many effective choices Marv's first "
              "character has. Which settings do you use for the ticket router and for Marv's "
              "replies?"),
    choices={
        "a": ("Router at T = 0 (greedy); Marv at T = 0.7", ""),
        "b": ("Router at T = 1 (the model's own distribution); Marv at T = 0 (greedy)",
              "Read the routing column at T = 1: at least that often a sampled reply leaves the "
              "greedy label, so the same ticket can go to a different team from one request to "
              "the next. And greedy Marv has 1 effective choice: every user asking the same "
              "question gets the same reply."),
        "c": ("T = 0 (greedy) for both",
              "Right for the router, but greedy Marv has 1 effective choice: the same reply for "
              "everyone who asks the same question, and section 3's greedy reply ran into a loop. "
              "A task with many good replies can afford some variety."),
        "d": ("T = 1.5 for both: more variety everywhere",
              "At T = 1.5 the routing column shows the largest chance of leaving the greedy "
              "label, and section 7 shows what heat does to Marv's words: the hotter, the fewer "
              "of them are real words. It flattens the distribution for both tasks."),
    },
    solution=_settings_choice,
    hint=("A router needs the same, most likely label every time: which setting never leaves "
          "the greedy label? Marv's replies need some variety, but not a distribution flatter "
          "than the model's own (T = 1)."),
    worked=_SETUP + """
from ftlab.sampling import filtered_distribution
tickets = ftlab.read_chat_jsonl(chat / "tickets_test.jsonl")
router = ftlab.tinylm.load_pretrained("tinylm-attn-tickets-v1")   # the shipped ticket router
first_logits = [router.next_token_logits(r["messages"][:-1]) for r in tickets]
settings = {"T = 0 (greedy)": (0.0, 1.0), "T = 0.7": (0.7, 1.0), "T = 1": (1.0, 1.0),
            "T = 1.5": (1.5, 1.0)}                # (temperature, top_p)
change, choices = {}, {}
for name, (t, top_p) in settings.items():
    per_ticket = []
    for z in first_logits:                        # chance that the first letter is not greedy's
        per_ticket.append(1 - filtered_distribution(z, t, top_p)[np.argmax(z)])
    change[name] = np.mean(per_ticket)
    p = filtered_distribution(model.next_token_logits(question), t, top_p)
    choices[name] = math.exp(-(p[p > 0] * np.log(p[p > 0])).sum())
    print(f"{name:16s} leaves the greedy label {change[name]:.3f}   Marv's effective choices "
          f"{choices[name]:.2f}")
options = {"a": ("T = 0 (greedy)", "T = 0.7"), "b": ("T = 1", "T = 0 (greedy)"),
           "c": ("T = 0 (greedy)", "T = 0 (greedy)"), "d": ("T = 1.5", "T = 1.5")}
answer = [key for key, (routing, creative) in options.items()
          if change[routing] == 0 and 1 < choices[creative] <= choices["T = 1"]][0]
""",
    why=("Right. The router should give the most likely label every time: at T = 0 the chance of "
         "leaving the greedy label is 0. Marv's replies have many good answers: T = 0.7 keeps "
         "some variety (more than 1 effective choice, fewer than the model's own "
         "distribution) and moves one lever only, as OpenAI's API reference advises for "
         "temperature and top_p (section 4). On a hosted API, T = 0 still does not promise the "
         "same reply every time (section 3)."),
)
