"""Convert the real recorded runs into ftlab's run format: ``data/runs/NAME.csv`` + SOURCES.md.

    python tools/make_sample_runs.py [RECORDED_DIR]

Reads the original files (default ``../shared/recorded``, never committed to this repository)
with ftlab's own readers, adds what their provenance tells (model, hyperparameters, story,
source) and saves each run. Re-run it after a reader changes; tests/test_samples.py checks the
shipped runs against the originals.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ftlab.runs.run import load_run  # noqa: E402

# name -> (original file, meta the file itself cannot tell, (repository, commit, path))
RUNS = {
    "marv": (
        "openai_sft_seed-marv_job_stdout.txt",
        {"model": "gpt-4o-mini-2024-07-18", "n_train_examples": 28, "n_epochs": 3,
         "batch_size": 1,
         "story": "the course's own Marv job (Module 11.3): training loss only, printed by the "
                  "notebook, step 2 lost between polls"},
        ("peterruler/chatgpt-finetune", "08bf90eaa6c68315369afad0335a60cdf0253d6e",
         "t81_559_class_11_3_code.ipynb (cell output)")),
    "patent-insights": (
        "openai_sft_patent-insights_step_metrics.csv",
        {"model": "gpt-3.5-turbo-0125", "n_epochs": 3, "batch_size": 2,
         "learning_rate_multiplier": 2,
         "story": "validation loss lowest at step 100 and higher after, while training loss "
                  "falls from epoch to epoch"},
        ("rashmishreev/Patent-Insights-298B", "699f9eb0030ab738a64f166caa9ca1ac11b5a441",
         "step_metrics.csv")),
    "patent-insights-last-events": (
        "openai_sft_patent-insights_list_events_limit10.txt",
        {"model": "gpt-3.5-turbo-0125", "batch_size": 2, "learning_rate_multiplier": 2,
         "story": "the same job's last 10 events: exact final metrics including the full "
                  "validation loss, checkpoints and the model name"},
        ("rashmishreev/Patent-Insights-298B", "92d1e5a38e23992d71ba5047ee6c13411ef4c810",
         "fine-tuning_1.ipynb (cell output)")),
    "historygpt": (
        "openai_sft_historygpt_step_metrics.csv",
        {"model": "gpt-3.5-turbo-0125", "n_epochs": 5, "batch_size": 7,
         "learning_rate_multiplier": 0.2,
         "story": "a short run validated at every step: noisy curves that need smoothing"},
        ("QuantumApple99/HistoryGPT", "87086aad284eef947aa7ccc6b23112703e9df9f6",
         "step_metrics.csv")),
    "nlbse-noval": (
        "openai_sft_nlbse_noval_step_metrics.csv",
        {"story": "no validation file: training loss alone; in the last quarter most steps "
                  "are below 0.01, with spikes on the rest"},
        ("G4BE-334/NLBSE-issue-report-classification",
         "64ecef25a7b2a8c234aae9ccabf9a70fb8bb54ef", "step_metrics.csv")),
    "ms-thesis-legacy": (
        "openai_legacy_ms-thesis_compiled_results.csv",
        {"model": "davinci", "n_epochs": 4, "batch_size": 1,
         "story": "legacy /v1/fine-tunes run (davinci): validation every 8 steps, token and "
                  "sequence accuracy"},
        ("rhakbari/ms-thesis-gpt-3", "0c94950fcccce9fcf5563d63122d987c6af968fe",
         "compiled_results.csv")),
    "tinyllama-trl": (
        "hf_trl_sft_tinyllama_trainer_state.json",
        {"model": "TinyLlama (LoRA)",
         "story": "Hugging Face TRL SFTTrainer run: healthy, validation loss falls at every "
                  "evaluation"},
        ("Dheena731/tinyLlama-finetune", "c9a022f72867a9ed79bfa32f4fb75e5d50fb7bda",
         "trainer_state.json")),
    # The logs learners bring after 2027-01-06: Azure OpenAI, Hugging Face, LLaMA-Factory, MLX-LM.
    "azure-storytelling": (
        "azure_results_ankitg28.csv",
        {"model": "gpt-4o-mini (the repository's README)", "n_epochs": 3,
         "story": "results.csv in the column set Azure OpenAI documents: validation at every "
                  "step, full validation at each epoch's end (steps 100, 200, 300), lowest after "
                  "epoch 2"},
        ("ankitg28/ankitg28-BrainyBytes_Storytelling_for_Smart_Learning",
         "eb3d0143fb3669d009b3815b9c716b906baf0eb0", "finetuning/results.csv")),
    "hf-ner-console": (
        "hf_console_nicolassalvan_ner_slurm-1361.out",
        {"model": "token classification (transformers 4.x)", "n_epochs": 10,
         "story": "Hugging Face Trainer console output: no step numbers, an evaluation at each "
                  "epoch's end; eval loss lowest at epoch 2 and higher at every later epoch, "
                  "while the task's F1 ends higher (0.598 at epoch 2, 0.654 at epoch 10)"},
        ("Nicolassalvan/mti881-projet2", "f85fda370bcf71c499687de1ac681638dbdd6022",
         "ResultsEtape1/default (learning rate 5e-5)/slurm-1361.out")),
    "llamafactory-qwen": (
        "llamafactory_trainer_log_linxiang-ai.jsonl",
        {"model": "Qwen2.5-7B (LoRA)", "n_epochs": 3,
         "story": "LLaMA-Factory trainer_log.jsonl: training loss every 5 steps, evaluation at "
                  "steps 100, 200, 300 and 369"},
        ("linxiang-ai/qwen-lora-sft", "a5f89f9ea2ba9ef6bd6d43c2e04ee6c93f776b8c",
         "results/trainer_log.jsonl")),
    "mlx-medical": (
        "mlx_lora_arjun-254.log",
        {"model": "MLX-LM LoRA",
         "story": "mlx_lm.lora console log on a Mac: training loss every 10 iterations, "
                  "validation at iterations 1, 200, 400 and 600"},
        ("Arjun-254/Medical_Question_Answering_SLM", "3ea854e5c9343a289b24d8297fc9aa4ca7b1b791",
         "training_output.txt")),
    "roberta-tensorboard": (
        "tfevents_aguleon_roberta_lora_run4.events.out.tfevents.1744230855.b-3-167.5388.4",
        {"model": "RoBERTa (LoRA), AG News",
         "story": "Hugging Face Trainer TensorBoard event file: training and evaluation every "
                  "100 steps to step 1200"},
        ("AguLeon/LoRA_RoBERTa_AGNews", "53cfbd8a51cc7bc954c451fb4c44a05060545b80",
         "runs/run4/events.out.tfevents.1744230855.b-3-167.5388.4")),
}


def convert(recorded: Path, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Shipped runs: where they come from", "",
             "Each file here is a real fine-tuning run, read from its original file by ftlab's "
             "own readers", "(`tools/make_sample_runs.py`) and saved in ftlab's run format: one "
             "line `# ftlab run {meta as JSON}`,", "then the metrics as CSV indexed by step. The "
             "numbers are unchanged; the originals were committed", "publicly on GitHub by the "
             "people who ran the jobs. Load one with `ftlab.load_sample(name)`.", "",
             "| run | steps | original format | story | source repository @ commit : path |",
             "|---|---|---|---|---|"]
    for name, (original, extra, (repo, commit, path)) in RUNS.items():
        meta = {**extra, "source": {"repository": repo, "commit": commit, "path": path,
                                    "file": original}}
        run = load_run(recorded / original, name=name, meta=meta)
        run.save(out / f"{name}.csv", overwrite=True)
        notes = "; ".join(run.meta.get("notes", []))
        lines.append(f"| `{name}` | {run.n_steps} | {run.format} | {extra['story']}"
                     + (f" (note: {notes})" if notes else "") + " | "
                     f"[{repo}](https://github.com/{repo}) @ `{commit}` : `{path}` |")
        print(f"{name}: {run.n_steps} steps ({run.format})")
    lines += ["", "The original files and their provenance notes are described in the course's "
              "`recorded/PROVENANCE.md`;", "they are not part of this repository."]
    (out / "SOURCES.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "recorded"
    convert(source, ROOT / "data" / "runs")
