"""The work list of a batch: stems independent of processing order, stable shards."""

import pytest

from unmask.plan import in_shard, parse_shard, plan


def _touch(folder, names):
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_stems_follow_the_input_list_and_skipped_inputs_hold_theirs(tmp_path):
    _touch(tmp_path, ["b.jpg", "a.txt", "a.png", "sub/A.jpg", "sub/b.png"])
    jobs = plan([str(tmp_path), str(tmp_path / "sub")])
    names = {j.input.removeprefix(str(tmp_path) + "/"): j.stem for j in jobs}
    assert names == {
        "a.png": "a",
        "a.txt": "a-2",
        "b.jpg": "b",
        "sub/A.jpg": "A-3",
        "sub/b.png": "b-2",
    }
    assert [j.index for j in jobs] == list(range(5))


def test_shards_partition_the_inputs_and_adding_files_moves_none(tmp_path):
    _touch(tmp_path, [f"{i:04d}.jpg" for i in range(60)])
    before = {j.input: [in_shard(j, (i, 3)) for i in range(3)] for j in plan([str(tmp_path)])}
    assert all(sum(flags) == 1 for flags in before.values())
    assert all(any(flags[i] for flags in before.values()) for i in range(3))
    _touch(tmp_path, [f"new{i}.jpg" for i in range(20)])
    after = {j.input: [in_shard(j, (i, 3)) for i in range(3)] for j in plan([str(tmp_path)])}
    assert {k: after[k] for k in before} == before


@pytest.mark.parametrize("bad", ["3/3", "-1/3", "1", "a/b", "0/0"])
def test_a_bad_shard_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="0 <= I < N"):
        parse_shard(bad)
    assert parse_shard("2/3") == (2, 3) and parse_shard(None) is None
