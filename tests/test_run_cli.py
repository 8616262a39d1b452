"""`ftlab runs` and `ftlab run`: summarise and convert run files from the command line."""

from ftlab.cli import main
from ftlab.runs.run import load_run


def test_runs_lists_the_shipped_recordings(capsys):
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "marv" in out and "patent-insights" in out and "hf_trainer_state" in out


def test_run_summarises_and_converts(tmp_path, capsys):
    path = tmp_path / "step_metrics.csv"
    path.write_text("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
                    "1,2.0,0.5,,\n2,1.5,0.6,1.7,0.55\n3,1.0,0.7,,\n4,0.8,0.8,1.6,0.6\n")
    saved, openai_csv = tmp_path / "run.csv", tmp_path / "out.csv"
    code = main(["run", str(path), "--n-epochs", "2", "--epochs", "--save", str(saved),
                 "--to-openai-csv", str(openai_csv)])
    out = capsys.readouterr().out
    assert code == 0 and "Run 'step_metrics' (openai_csv): 4 steps" in out
    assert "first_step" in out  # the epoch table
    assert load_run(saved).meta["n_epochs"] == 2
    assert load_run(openai_csv).metrics["valid_loss"].dropna().tolist() == [1.7, 1.6]
    assert main(["run", str(path), "--save", str(saved)]) == 2  # never overwrites silently
    assert "exists; pass --overwrite" in capsys.readouterr().err  # the flag, not the keyword


def test_run_of_a_shipped_name_and_a_bad_file(tmp_path, capsys):
    assert main(["run", "marv"]) == 0
    assert "83 steps" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("step,train_loss,train_accuracy\n1,x,0.1\n")
    assert main(["run", str(bad)]) == 2
    assert "line 2, column train_loss" in capsys.readouterr().err


def test_run_says_which_format_it_recognised_and_diagnoses(capsys):
    assert main(["run", "patent-insights"]) == 0
    out = capsys.readouterr().out
    assert "read as openai_csv (openai_sft_patent-insights_step_metrics.csv): OpenAI results CSV" in out
    assert "verdict: overfitting" in out
