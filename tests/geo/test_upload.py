"""Safe staging of uploads: size limit, zip members checked before extraction, temporary folder removed."""

import io
import stat
import tempfile
import zipfile

import pandas as pd
import pytest

from geo.errors import DataError
from geo.upload import Limits, staged, staged_path

CSV = pd.DataFrame({"编号": ["F1"], "名称": ["甲"], "类型": ["养老院"], "经度": [114.3], "纬度": [30.5]}).to_csv(
    index=False).encode("utf-8")
SMALL = Limits(max_bytes=1024 * 1024, max_unzipped_bytes=5 * 1024 * 1024)


@pytest.fixture
def tmpdir_here(tmp_path, monkeypatch):
    """Temporary folders made under tmp_path/tmp, so a test can see whether any is left behind."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _zip(members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _codes(exc) -> list[str]:
    return [p.code for p in exc.value.problems]


def test_a_file_is_staged_in_a_temporary_folder_removed_afterwards(tmpdir_here):
    with staged([("设施.csv", CSV)], layer="facilities", limits=SMALL) as path:
        assert path.read_bytes() == CSV
        assert path.parent.parent == tmpdir_here
    assert list(tmpdir_here.iterdir()) == []


def test_the_folder_is_removed_on_error_too(tmpdir_here):
    with pytest.raises(RuntimeError), staged([("设施.csv", CSV)], layer="facilities", limits=SMALL):
        raise RuntimeError("reader failed")
    assert list(tmpdir_here.iterdir()) == []
    with pytest.raises(DataError):
        with staged([("x.zip", _zip({"../evil.shp": b"x"}))], layer="grids", limits=SMALL):
            pass
    assert list(tmpdir_here.iterdir()) == []


def test_over_the_size_limit(tmpdir_here):
    big = b"a" * (SMALL.max_bytes + 1)
    with pytest.raises(DataError) as exc, staged([("big.csv", big)], layer="cases", limits=SMALL):
        pass
    (p,) = exc.value.problems
    assert (p.code, dict(p.params)) == ("upload.too_large", {"name": "big.csv", "size_mb": "1.0", "limit_mb": "1.0"})
    assert str(p) == ("layer cases: big.csv is 1.0 MB, over the limit of 1.0 MB — split the file or ask the "
                      "administrator to raise GRIDATLAS_MAX_UPLOAD_MB")
    assert list(tmpdir_here.iterdir()) == []  # refused before anything was written


def test_size_limit_comes_from_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDATLAS_MAX_UPLOAD_MB", "1")
    path = tmp_path / "big.csv"
    path.write_bytes(b"a" * (1024 * 1024 + 10))
    with pytest.raises(DataError) as exc, staged_path(path, layer="cases"):
        pass
    assert _codes(exc) == ["upload.too_large"]
    monkeypatch.setenv("GRIDATLAS_MAX_UPLOAD_MB", "2")
    with staged_path(path, layer="cases") as p:
        assert p == path


@pytest.mark.parametrize("member", ["../evil.shp", "a/../../evil.dbf", "/etc/cron.d/evil.shp", "C:/evil.shp",
                                    "..\\evil.shp"])
def test_zip_with_paths_outside_its_folder(tmpdir_here, member):
    data = _zip({"ok.shp": b"x", member: b"x"})
    with pytest.raises(DataError) as exc, staged([("x.zip", data)], layer="grids", limits=SMALL):
        pass
    (p,) = exc.value.problems
    assert (p.code, p.value) == ("upload.zip_unsafe_path", member)
    assert str(p) == (f"layer grids: the zip holds a path outside its folder: {member} — zip the files themselves, "
                      "without folders above them")
    assert not (tmpdir_here.parent / "evil.shp").exists()


def test_zip_with_a_link(tmpdir_here):
    with pytest.raises(DataError) as exc, staged([("x.zip", _zip({"a.shp": b"x"}, links=("a.dbf",)))],
                                                 layer="grids", limits=SMALL):
        pass
    assert _codes(exc) == ["upload.zip_link"]


def test_a_real_zip_bomb_is_refused_before_extraction(tmpdir_here):
    bomb = _zip({"grids.shp": b"\0" * (20 * 1024 * 1024), "grids.dbf": b"x", "grids.shx": b"x"})
    assert len(bomb) < 100 * 1024  # small on disk, 20 MB unpacked
    with pytest.raises(DataError) as exc, staged([("bomb.zip", bomb)], layer="grids", limits=SMALL):
        pass
    (p,) = exc.value.problems
    assert p.code == "upload.zip_bomb"
    assert dict(p.params)["size_mb"] == "20.0" and dict(p.params)["limit_mb"] == "5.0"
    assert list(tmpdir_here.iterdir()) == []
    # under the total limit, a single member compressed more than 100 times is refused as well
    ratio_bomb = _zip({"grids.shp": b"\0" * (2 * 1024 * 1024), "grids.dbf": b"x", "grids.shx": b"x"})
    with pytest.raises(DataError) as exc, staged([("r.zip", ratio_bomb)], layer="grids", limits=SMALL):
        pass
    assert _codes(exc) == ["upload.zip_bomb"]
    assert int(dict(exc.value.problems[0].params)["ratio"]) > 100


def test_too_many_members(tmpdir_here):
    data = _zip({f"f{i}.txt": b"x" for i in range(201)})
    with pytest.raises(DataError) as exc, staged([("m.zip", data)], layer="grids", limits=SMALL):
        pass
    assert _codes(exc) == ["upload.zip_bomb"]


def test_zip_without_shp(tmpdir_here):
    data = _zip({"grids.dbf": b"x", "grids.shx": b"x", "readme.txt": b"x"})
    with pytest.raises(DataError) as exc, staged([("x.zip", data)], layer="grids", limits=SMALL):
        pass
    (p,) = exc.value.problems
    assert (p.code, dict(p.params)) == ("upload.no_shp", {"members": "grids.dbf, grids.shx, readme.txt"})


def test_only_the_shapefile_parts_are_extracted(tmpdir_here):
    data = _zip({"out/grids.shp": b"s", "out/grids.dbf": b"d", "out/grids.prj": b"p", "out/run.exe": b"MZ",
                 "out/other.dbf": b"o", "__MACOSX/out/._grids.shp": b"m", "out/.hidden.shp.xml": b"h"})
    with staged([("x.zip", data)], layer="grids", limits=SMALL) as path:
        assert path.name == "grids.shp"
        assert sorted(p.name for p in path.parent.iterdir()) == ["grids.dbf", "grids.prj", "grids.shp"]
    assert list(tmpdir_here.iterdir()) == []


def test_a_csv_inside_a_zip_and_loose_shapefile_parts(tmpdir_here):
    with staged([("x.zip", _zip({"设施.csv": CSV}))], layer="facilities", limits=SMALL) as path:
        assert path.name == "设施.csv" and path.read_bytes() == CSV
    parts = [("g.shp", b"s"), ("g.dbf", b"d"), ("g.shx", b"x")]
    with staged(parts, layer="grids", limits=SMALL) as path:
        assert path.name == "g.shp"
    with pytest.raises(DataError) as exc, staged(parts[1:], layer="grids", limits=SMALL):
        pass
    assert _codes(exc) == ["upload.no_shp"]


def test_unexpected_file_types_and_no_file(tmpdir_here):
    with pytest.raises(DataError) as exc, staged([("run.exe", b"MZ")], layer="grids", limits=SMALL):
        pass
    assert _codes(exc) == ["upload.unsupported_type"]
    with pytest.raises(DataError) as exc, staged([], layer="grids", limits=SMALL):
        pass
    assert _codes(exc) == ["upload.no_file"]
