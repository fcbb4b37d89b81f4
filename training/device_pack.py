"""Packs what a training run needs on a machine that cannot fetch anything (a lent GPU machine):
MNIST's four IDX files (gzip) and the font files of generalization.py's families, subset to the
glyphs of printable ASCII (the generators draw digits and generalization.LETTERS), with their outlines and hinting.

    python3 training/device_pack.py OUT_DIR

OUT_DIR/mnist/*.gz and OUT_DIR/fonts/*.{ttf,otf}; on the other machine, gunzip the former into
$MNIST_DIR and point $SPIKEFORMER_FONT_DIRS at the latter (training/device_train.sh does both).
Every subset font is checked to render each drawn character exactly as the full font does.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gzip
import shutil

import numpy as np

import data
import generalization

TEXT = '0123456789' + generalization.LETTERS  # what the generators draw
KEEP = ''.join(chr(c) for c in range(32, 127))  # all of printable ASCII is kept: FreeType's auto-hinter
# measures its alignment zones on Latin letters (e.g. 'o', 'x', 'H'), so a font without them renders
# the digits differently

def subset_font(src: str, dst: str) -> None:
    from fontTools import subset
    options = subset.Options()
    options.hinting = True
    options.notdef_outline = True
    options.layout_features = ['*']
    font = subset.load_font(src, options)
    s = subset.Subsetter(options)
    s.populate(text=KEEP)
    s.subset(font)
    subset.save_font(font, dst, options)


def main(out: str) -> None:
    os.makedirs(os.path.join(out, 'mnist'), exist_ok=True)
    os.makedirs(os.path.join(out, 'fonts'), exist_ok=True)
    mnist = data.ensure_mnist()
    for name in data.MNIST_SHA256:
        with open(os.path.join(mnist, name), 'rb') as f, gzip.open(os.path.join(out, 'mnist', name + '.gz'), 'wb') as g:
            shutil.copyfileobj(f, g)
    total = 0
    for which in ('train', 'held-out'):
        for src in generalization.font_files(which):
            dst = os.path.join(out, 'fonts', os.path.basename(src))
            subset_font(src, dst)
            for ch in TEXT:
                if not np.array_equal(generalization.glyph_alpha(src, ch), generalization.glyph_alpha(dst, ch)):
                    raise SystemExit(f'{dst}: {ch!r} renders differently from {src}')
            total += os.path.getsize(dst)
    print(f'{out}: MNIST gzip and {len(os.listdir(os.path.join(out, "fonts")))} fonts ({total / 1e6:.1f} MB)')


if __name__ == '__main__':
    main(sys.argv[1])
