"""Parity of training/spikeformer/model.py with the official code's outputs in tests/fixtures/official.

Run from the project root:  python3 -m unittest discover -s training/tests -v
"""
import json
import os
import sys
import unittest

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

from spikeformer.model import (SpikeRecorder, Spiking_vit_MetaFormer,  # noqa: E402
                               load_official_checkpoint)

REF = os.path.join(ROOT, 'tests', 'fixtures', 'official')
MODELS = ['metaspikformer-tiny-t1', 'metaspikformer-tiny-t4-kd']


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_tsv(path):
    keys = {}
    with open(path) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            name, shape, dtype = line.rstrip('\n').split('\t')
            keys[name] = (json.loads(shape), dtype)
    return keys


class KeySetTest(unittest.TestCase):
    def check(self, tsv, dims, kd):
        torch.manual_seed(0)
        model = Spiking_vit_MetaFormer(num_classes=1000, embed_dim=dims, kd=kd)
        sd = model.state_dict()
        ref = read_tsv(os.path.join(REF, 'keys', tsv))
        self.assertEqual(list(sd.keys()), list(ref.keys()))
        for k, (shape, dtype) in ref.items():
            self.assertEqual(list(sd[k].shape), shape, k)
            self.assertEqual(str(sd[k].dtype).replace('torch.', ''), dtype, k)
        with open(os.path.join(REF, 'keys', tsv)) as f:
            header = f.readline()
        learnable = sum(p.numel() for p in model.parameters())
        self.assertIn(f'{learnable} learnable parameters', header)

    def test_15M(self):
        self.check('metaspikformer-15M.tsv', [64, 128, 256, 360], False)

    def test_55M_kd(self):
        self.check('metaspikformer-55M-kd.tsv', [128, 256, 512, 640], True)


class ReferenceParityTest(unittest.TestCase):
    def run_model(self, name):
        folder = os.path.join(REF, name)
        cfg = read_json(os.path.join(folder, 'config.json'))
        model = load_official_checkpoint(os.path.join(folder, 'checkpoint.pth')).eval()
        self.assertEqual(model.T, cfg['time_steps'])
        self.assertEqual(model.kd, cfg['kd'])
        self.assertEqual(model.embed_dim, cfg['embed_dim'])
        for case in cfg['cases']:
            with self.subTest(model=name, case=case):
                x = torch.from_numpy(np.load(os.path.join(folder, case, 'input.npy')))
                rec = SpikeRecorder(model, keep_maps=True)
                with torch.no_grad():
                    xt = model.expand_time(x)
                    feat = model.forward_features(xt)
                    logits = model.forward_head(feat)
                rec.remove()
                ref_logits = np.load(os.path.join(folder, case, 'logits.npy'))
                np.testing.assert_allclose(logits.numpy(), ref_logits, atol=1e-4, rtol=0)
                ref_feat = np.load(os.path.join(folder, case, 'features.npy'))
                np.testing.assert_allclose(feat.numpy(), ref_feat, atol=1e-4, rtol=0)
                spikes = read_json(os.path.join(folder, case, 'spikes.json'))
                self.assertEqual(int(np.argmax(ref_logits)), spikes['top1'])
                self.assertEqual(int(logits.argmax()), spikes['top1'])
                layers = spikes['layers']
                self.assertEqual(len(rec.records), len(layers))
                self.assertEqual(len(layers), 77)
                with open(os.path.join(folder, case, 'spikes.bin'), 'rb') as f:
                    blob = f.read()
                for got, want in zip(rec.records, layers):
                    self.assertEqual(got['name'], want['name'])
                    self.assertEqual(got['shape'], want['shape'], want['name'])
                    self.assertEqual(got['ones'], want['ones'], want['name'])
                    self.assertEqual(got['total'], want['total'], want['name'])
                    packed = np.frombuffer(blob[want['offset']:want['offset'] + want['bytes']], np.uint8)
                    ref_map = np.unpackbits(packed, bitorder='little')[:want['total']]
                    self.assertTrue(np.array_equal(got['map'].reshape(-1), ref_map),
                                    f"spike map differs in {want['name']}")

    def test_tiny_t1(self):
        self.run_model('metaspikformer-tiny-t1')

    def test_tiny_t4_kd(self):
        self.run_model('metaspikformer-tiny-t4-kd')


if __name__ == '__main__':
    unittest.main()
