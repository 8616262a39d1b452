"""Hosted fine-tuning (notebook 09): OpenAI or Azure OpenAI jobs, read back as runs, outputs compared.

``get_client()`` finds a key without ever showing it; ``plan_job`` / ``start_job`` / ``wait`` run a
job; ``fetch_run(job_id)`` reads it back as a ``Run``; ``evaluate_chat`` and ``compare_chat`` score
a model's replies; ``task_accuracy`` scores a classifier's labels (with a Wilson interval and
baselines); ``prompt_baseline`` measures it with few-shot prompts and no training. Nothing here
is needed offline: the course runs on recorded jobs.
"""

from ftlab._lazy import lazy_exports

_EXPORTS = {
    "get_client": "client",
    "HostedError": "client",
    "plan_job": "jobs",
    "start_job": "jobs",
    "wait": "jobs",
    "fetch_run": "fetch",
    "list_jobs": "fetch",
    "evaluate_chat": "evaluate",
    "chat_model": "evaluate",
    "compare_chat": "evaluate",
    "task_accuracy": "accuracy",
    "mean_token_accuracy": "accuracy",
    "TaskAccuracy": "accuracy",
    "few_shot_prompt": "prompting",
    "prompt_baseline": "prompting",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
