import pytest

from unmask.data.formats import read_faces
from unmask.data.manifest import face_id, load_manifest, split_of


def test_split_is_stable_and_roughly_80_10_10():
    keys = [f"img_{i}.jpg" for i in range(5000)]
    splits = [split_of(k) for k in keys]
    assert splits == [split_of(k) for k in keys]
    share = {s: splits.count(s) / len(keys) for s in ("train", "val", "test")}
    assert 0.77 < share["train"] < 0.83 and 0.08 < share["test"] < 0.12
    assert face_id("a.jpg") == face_id("a.jpg") != face_id("b.jpg")


def test_utk_names_parse(tmp_path):
    (tmp_path / "25_1_3_20170104.jpg").write_bytes(b"x")
    (tmp_path / "7_0_0_2017.jpg").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / ".DS_Store").write_text("")
    faces = {f.key: f for f in read_faces(tmp_path, "utk")}
    assert faces["25_1_3_20170104.jpg"].gender == "female"
    assert faces["25_1_3_20170104.jpg"].age == 25
    assert faces["7_0_0_2017.jpg"].gender == "male"
    assert faces["notes.txt"].gender is None  # listed, so the builder can report it skipped
    assert ".DS_Store" not in faces


def test_celeba_and_csv(tmp_path):
    (tmp_path / "img_align_celeba").mkdir()
    (tmp_path / "list_attr_celeba.txt").write_text(
        "2\nSmiling Male\n000001.jpg 1 -1\n000002.jpg -1 1\n"
    )
    faces = read_faces(tmp_path, "celeba")
    assert [f.gender for f in faces] == ["female", "male"]
    (tmp_path / "labels.csv").write_text("file,gender,age\na.jpg,F,30\nb.jpg,male,\n")
    rows = read_faces(tmp_path, "csv", tmp_path / "labels.csv")
    assert [(r.gender, r.age) for r in rows] == [("female", 30), ("male", None)]
    with pytest.raises(ValueError):
        read_faces(tmp_path, "csv")
    with pytest.raises(ValueError):
        read_faces(tmp_path, "bogus")
    with pytest.raises(FileNotFoundError):
        read_faces(tmp_path / "missing", "none")


def test_load_manifest_filters(tiny_dataset):
    rows = load_manifest(tiny_dataset, "test")
    assert rows and all(r["split"] == "test" for r in rows)
    with pytest.raises(ValueError):
        load_manifest(tiny_dataset, "nope")
