"""Exercises of notebook 05, training data."""

from ftlab.course.exercise import add


def _default_epochs(n):
    from ftlab.chat.tokens import default_epochs

    return default_epochs(n)


def _broken_report():
    from ftlab._data import data_dir
    from ftlab.chat.validate import validate_chat

    chat = data_dir() / "chat"
    return validate_chat(chat / "broken_train.jsonl", valid=chat / "marv_valid.jsonl")


def _line_of(code):
    return next(p.line for p in _broken_report().problems if p.code == code)


def _broken_line(line):
    import json

    from ftlab._data import data_dir

    # bytes: one line of the file is deliberately not UTF-8
    lines = (data_dir() / "chat" / "broken_train.jsonl").read_bytes().splitlines()
    return json.loads(lines[line - 1])


def _reply_words(record):
    return len(record["messages"][-1]["content"].split())


def _fix_or_drop():
    """Drop (or rewrite) the variant-prompt example when its reply was written under another
    assistant's prompt and looks nothing like Marv's: shorter than every one of Marv's replies."""
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    marv = read_chat_jsonl(data_dir() / "chat" / "marv_train.jsonl")
    variant = _broken_line(_line_of("system_prompt_variant"))
    another_prompt = variant["messages"][0]["content"] != marv[0]["messages"][0]["content"]
    unlike_marv = _reply_words(variant) < min(_reply_words(r) for r in marv)
    return "b" if another_prompt and unlike_marv else "a"


add(
    "05-fix-or-drop",
    question=("The fix above gave lines 19 and 20 of broken_train.jsonl Marv's system prompt, and "
              "validate_chat now passes them. Line 20 was written under another system prompt "
              "and its reply is shown above next to Marv's shortest reply. What should you do "
              "with line 20?"),
    solution=_fix_or_drop,
    hint="The validator checks the format. Read the reply: would Marv have written it?",
    worked="""
import json
chat = ftlab.data_dir() / "chat"
report = ftlab.validate_chat(chat / "broken_train.jsonl", valid=chat / "marv_valid.jsonl")
line = next(p.line for p in report.problems if p.code == "system_prompt_variant")
lines = (chat / "broken_train.jsonl").read_bytes().splitlines()  # line 7 is not UTF-8
line20 = json.loads(lines[line - 1])
reply = line20["messages"][-1]["content"]
marv = ftlab.read_chat_jsonl(chat / "marv_train.jsonl")
marv_words = [len(r["messages"][-1]["content"].split()) for r in marv]
print(f"line {line}'s system prompt: {line20['messages'][0]['content']!r}")
print(f"line {line}'s reply: {reply!r}, {len(reply.split())} word(s)")
print(f"Marv's 128 replies: {min(marv_words)} to {max(marv_words)} words")
# written under another assistant's prompt, and nothing like Marv's replies: another voice
another_prompt = line20["messages"][0]["content"] != marv[0]["messages"][0]["content"]
answer = "b" if another_prompt and len(reply.split()) < min(marv_words) else "a"
""",
    why="Line 20's reply was written for a plain assistant: it is shorter than every one of Marv's "
        "replies and has no sarcasm. Under Marv's system prompt it would teach the model that Marv "
        "sometimes answers plainly — an inconsistency no format check can see. Drop it, or rewrite "
        "the reply in Marv's voice.",
    choices={
        "a": ("Keep it: with Marv's system prompt it now passes every check.",
              "validate_chat checks the format, not the voice. The reply was written for a plain "
              "assistant; under Marv's prompt it teaches that Marv sometimes answers without the "
              "sarcasm, which makes the training data inconsistent."),
        "b": ("Drop it, or rewrite its reply in Marv's voice: the reply was written for another "
              "assistant.", ""),
        "c": ("Keep it with its own system prompt, 'You are a helpful assistant.'",
              "Two system prompts teach two behaviours, and you will call the model with Marv's "
              "prompt only; that is why validate_chat warns about a system_prompt_variant."),
        "d": ("Drop line 19 as well: its system prompt was missing too.",
              "Line 19's reply is in Marv's voice (it answers, then jokes: 'don't walk'); only "
              "its system prompt was missing, so adding Marv's really fixes it. Line 20's reply "
              "was written under another assistant's prompt."),
    },
)

add(
    "05-default-epochs",
    question="A training file has 25 examples. By the cookbook's rule, how many epochs does "
             "n_epochs='auto' give it?",
    solution=lambda: _default_epochs(25),
    hint="Start from 3 epochs and count the example passes (examples × epochs): the rule wants at "
         "least 100.",
    worked="""
n = 25
epochs = 3                      # the target
print("example passes at 3 epochs:", n * epochs)
if n * epochs < 100:            # too few passes: raise the epochs, in whole epochs, at most 25
    epochs = min(25, 100 // n)
elif n * epochs > 25_000:       # too many: lower them, at least 1
    epochs = max(1, 25_000 // n)
print(f"epochs = {epochs}, example passes = {n * epochs}")
answer = epochs
""",
    why="3 epochs would be only 75 example passes, under the minimum of 100, so the rule raises it to "
        "100 // 25 = {answer}.",
    mistakes=[
        (lambda: 3, "3 is the target, but 25 × 3 = 75 example passes is under the minimum of 100."),
        (lambda: 100 / 25 + 1, "The rule uses whole epochs: 100 // 25, no extra epoch."),
        (lambda: 25_000 // 25, "25,000 is the *maximum* number of example passes; this dataset is small."),
        (lambda: 25, "25 is the most epochs the rule ever picks, for the tiniest files; here "
                     "100 // 25 is enough to reach 100 example passes."),
        (lambda: 25 * 3, "75 is the number of example passes at 3 epochs (25 × 3), not a number of "
                         "epochs: it is under 100, so the rule raises the epochs."),
    ],
)

add(
    "05-billed-tokens",
    question=("60 training examples of 200 tokens each (counted with the chat overhead), n_epochs='auto'. "
              "By the cookbook's estimate, how many tokens are billed?"),
    solution=lambda: 60 * 200 * _default_epochs(60),
    hint="Find the epochs with the default-epochs rule first; every epoch bills the whole file.",
    worked="""
n, tokens_per_example = 60, 200
epochs = 3 if 100 <= n * 3 <= 25_000 else None   # 180 example passes: inside 100-25,000
print(f"{n} × 3 = {n * 3} example passes -> {epochs} epochs")
tokens_per_epoch = n * tokens_per_example
print(f"tokens per epoch: {tokens_per_epoch:,}")
answer = tokens_per_epoch * epochs
""",
    why="60 × 3 = 180 example passes is inside 100–25,000, so 3 epochs: 60 × 200 × 3 = {answer:,} tokens.",
    mistakes=[
        (lambda: 60 * 200, "That is one epoch. Training is billed for every epoch."),
        (lambda: 60 * 200 * 4, "The minimum only matters below 100 example passes; 60 × 3 = 180 is enough."),
        (lambda: 60 * 200 * 100 // 60,
         "That applies the 100-example-passes minimum, but 60 × 3 = 180 passes already reach it: "
         "the rule keeps 3 epochs."),
    ],
)

add(
    "05-leak-line",
    question=("Validate data/chat/broken_train.jsonl with valid=data/chat/marv_valid.jsonl. On which line "
              "of the *training* file is the example whose reply leaks from the validation file?"),
    solution=lambda: _line_of("leakage"),
    hint="validate_chat(..., valid=...) reports each problem with a code and a line; look for the "
         "code 'leakage'.",
    worked="""
chat = ftlab.data_dir() / "chat"
report = ftlab.validate_chat(chat / "broken_train.jsonl", valid=chat / "marv_valid.jsonl")
leaks = [p for p in report.problems if p.code == "leakage"]
for p in leaks:
    print(p.line, p.code, p.message)
answer = leaks[0].line
""",
    why="Line {answer}: the same conversation is line 1 of marv_valid.jsonl, so a model trained on it "
        "is scored on an example it has memorised and the validation loss looks better than it is.",
    mistakes=[
        (lambda: 1, "Line 1 is the copy in the *validation* file; the question asks for the training line."),
        (lambda: _line_of("duplicate_example"),
         "That line is a duplicate of another line inside the training file (duplicate_example), "
         "not a leak from validation."),
    ],
)
