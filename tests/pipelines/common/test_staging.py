import os

import pytest

from pipelines.common.staging import MANIFEST, Staging, run_id


def _complete(staging: Staging, marker: str) -> None:
    os.makedirs(staging.path("train"), exist_ok=True)
    with open(staging.path("train", "part.parquet"), "w") as f:
        f.write(marker)
    with open(staging.path(MANIFEST), "w") as f:
        f.write("{}")


def test_publish_replaces_the_old_subset_whole(tmp_path):
    first = Staging(str(tmp_path), "clocks", "aaa")
    first.prepare(restart=False)
    _complete(first, "old")
    first.publish()
    second = Staging(str(tmp_path), "clocks", "bbb")
    second.prepare(restart=False)
    _complete(second, "new")
    os.makedirs(second.path("stale_only_in_new"))
    second.publish()
    final = tmp_path / "clocks"
    assert (final / "train" / "part.parquet").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["clocks"]  # no staging or replaced folders left behind


def test_publish_refuses_an_incomplete_run(tmp_path):
    staging = Staging(str(tmp_path), "clocks", "aaa")
    staging.prepare(restart=False)
    with pytest.raises(RuntimeError, match="no manifest"):
        staging.publish()


def test_prepare_resumes_same_run_and_clears_other_runs(tmp_path):
    old = Staging(str(tmp_path), "clocks", "old")
    old.prepare(restart=False)
    same = Staging(str(tmp_path), "clocks", "same")
    assert same.prepare(restart=False) is False
    open(same.path("shard"), "w").close()
    assert Staging(str(tmp_path), "clocks", "same").prepare(restart=False) is True
    assert not os.path.exists(old.dir)
    assert Staging(str(tmp_path), "clocks", "same").prepare(restart=True) is False
    assert not os.path.exists(same.path("shard"))


def test_run_id_depends_on_every_value():
    assert run_id({"a": 1, "b": [1, 2]}) == run_id({"b": [1, 2], "a": 1})
    assert run_id({"a": 1}) != run_id({"a": 2})
