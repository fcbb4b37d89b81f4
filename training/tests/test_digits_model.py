"""The trained digits model: checkpoint, safetensors and fixtures agree with the model code.

Run from the project root:  python3 -m unittest discover -s training/tests -v
Skipped until training/runs/default/checkpoint.pth and the exported files exist.
"""
import json
import os
import sys
import unittest

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import export  # noqa: E402
from spikeformer import decode  # noqa: E402
from spikeformer.model import MultiStepLIFNode, SpikeRecorder, Spiking_vit_MetaFormer  # noqa: E402

CKPT = os.path.join(ROOT, 'training', 'runs', 'default', 'checkpoint.pth')
SAFE = os.path.join(ROOT, 'public', 'models', 'digits-tiny.safetensors')
FIX = os.path.join(ROOT, 'tests', 'fixtures', 'digits')
HEAD_PREFIXES = ('fpn.', 'seg_head.', 'det_head.')


@unittest.skipUnless(os.path.exists(CKPT) and os.path.exists(SAFE) and os.path.isdir(FIX), 'no trained model yet')
class DigitsModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.ck = torch.load(CKPT, map_location='cpu')
        # The fixtures are the float64 forward pass (export.fixture_reference says why).
        cls.model = export.fixture_reference(export.load_checkpoint(CKPT))

    def test_checkpoint_layout(self):
        self.assertEqual(self.ck['args'].time_steps, 2)
        self.assertFalse(self.ck['args'].kd)
        sd = self.ck['model']
        backbone = Spiking_vit_MetaFormer(num_classes=10, embed_dim=self.ck['args'].embed_dim,
                                          depths=self.ck['args'].depths).state_dict()
        self.assertEqual([k for k in sd if not k.startswith(HEAD_PREFIXES)], list(backbone.keys()))
        self.assertLess(os.path.getsize(CKPT), 10e6)

    def test_safetensors(self):
        tensors, meta = export.read_safetensors(SAFE)
        self.assertLess(os.path.getsize(SAFE), 8e6)
        sd = self.ck['model']
        self.assertEqual(set(tensors), set(sd))
        for k, v in sd.items():
            self.assertTrue(np.array_equal(tensors[k], v.numpy()), k)
        cfg = json.loads(meta['spikeformer.config'])
        self.assertEqual(cfg['embedDims'], list(self.ck['args'].embed_dim))
        self.assertEqual(cfg['timeSteps'], 2)
        tasks = json.loads(meta['spikeformer.tasks'])
        if getattr(self.ck['args'], 'no_digit_class', False):
            # the digits and 'no digit', with the threshold chosen on val (no_digit_rule.py)
            self.assertEqual(cfg['numClasses'], 11)
            self.assertIsNone(cfg['labels'])
            self.assertEqual(tasks['classify']['classNames'], [str(d) for d in range(10)] + ['no digit'])
            with open(os.path.join(os.path.dirname(CKPT), 'metrics.json')) as f:
                rule = json.load(f)['no_digit_rule']
            self.assertEqual(rule['chosen_on'], 'val')
            self.assertEqual(tasks['classify']['noDigitBelow'], rule['noDigitBelow'])
        else:
            self.assertEqual(cfg['numClasses'], 10)
            self.assertEqual(cfg['labels'], 'mnist-digits')
        self.assertEqual(tasks['segment']['classNames'][0], 'background')

    def test_scene_fixtures(self):
        for name in export.FIXTURE_SCENES:
            with self.subTest(scene=name):
                d = os.path.join(FIX, name)
                x = torch.from_numpy(np.load(os.path.join(d, 'input.npy')))
                out, records = export.run_with_spikes(self.model, x, ('cls', 'seg', 'det'))
                for key, fname in (('logits', 'logits'), ('seg_logits', 'seg_logits'),
                                   ('det_heatmap', 'det_heatmap'), ('det_boxreg', 'det_boxreg')):
                    np.testing.assert_allclose(out[key].numpy(), np.load(os.path.join(d, fname + '.npy')),
                                               atol=1e-4, rtol=0, err_msg=key)
                self.check_spikes(d, records)
                heat = np.load(os.path.join(d, 'det_heatmap.npy'))[0]
                reg = np.load(os.path.join(d, 'det_boxreg.npy'))[0]
                with open(os.path.join(d, 'boxes.json')) as f:
                    want = json.load(f)['boxes']
                self.assertEqual(decode.decode_detections(heat, reg, x.shape[2], x.shape[3]), want)
                mask = decode.decode_mask(np.load(os.path.join(d, 'seg_logits.npy'))[0])
                self.assertTrue(np.array_equal(mask, np.asarray(Image.open(os.path.join(d, 'mask.png')))))

    def test_digit_fixtures(self):
        for name in export.FIXTURE_DIGITS:
            with self.subTest(digit=name):
                d = os.path.join(FIX, name)
                x = torch.from_numpy(np.load(os.path.join(d, 'input.npy')))
                out, records = export.run_with_spikes(self.model, x, ('cls',))
                np.testing.assert_allclose(out['logits'].numpy(), np.load(os.path.join(d, 'logits.npy')),
                                           atol=1e-4, rtol=0)
                self.check_spikes(d, records)

    def check_spikes(self, d, records):
        with open(os.path.join(d, 'spikes.json')) as f:
            spikes = json.load(f)
        layers = spikes['layers']
        # Decidable in fp32: no membrane near the threshold (export.FIXTURE_MIN_MARGIN), as recorded.
        margin = export.threshold_margin(records)
        self.assertGreaterEqual(margin['min'], export.FIXTURE_MIN_MARGIN)
        self.assertEqual(margin['layer'], spikes['thresholdMargin']['layer'])
        self.assertAlmostEqual(margin['min'], spikes['thresholdMargin']['min'], delta=1e-12)
        with open(os.path.join(d, 'spikes.bin'), 'rb') as f:
            blob = f.read()
        self.assertEqual([r['name'] for r in records], [l['name'] for l in layers])
        for got, want in zip(records, layers):
            self.assertEqual(got['ones'], want['ones'], want['name'])
            packed = np.frombuffer(blob[want['offset']:want['offset'] + want['bytes']], np.uint8)
            ref = np.unpackbits(packed, bitorder='little')[:want['total']]
            self.assertTrue(np.array_equal(got['map'].reshape(-1), ref), want['name'])


class ThresholdMarginTest(unittest.TestCase):
    @staticmethod
    def forward(model, x):
        """export.run_with_spikes for a bare neuron: (output, records with margins)."""
        rec = SpikeRecorder(model, margins=True)
        with torch.no_grad():
            out = model(x)
        rec.remove()
        return out, rec.records

    def run_lif(self, x):
        return self.forward(torch.nn.Sequential(MultiStepLIFNode()), torch.tensor(x, dtype=torch.float64))[1][0]

    def test_closest_non_exact_approach(self):
        # h = x/2 at t=0; then h = v + (x - v)/2 with v = 0 after a spike.
        r = self.run_lif([[2.0, 1.0, 2.0 - 6e-6], [0.0, 0.0, 1.0 + 4e-6]])
        # t=0: h = 1 (an exact hit: fires, not counted), 0.5, 1 - 3e-6; t=1: h = 0, 0.25, 1 + 5e-7 (fires)
        self.assertEqual(r['ones'], 2)
        self.assertAlmostEqual(r['margin'], 5e-7, delta=1e-12)

    def test_exact_hits_only(self):
        self.assertEqual(self.run_lif([[2.0, 0.5]])['margin'], 0.75)

    def test_export_picks_decidable_inputs(self):
        lif = torch.nn.Sequential(MultiStepLIFNode())
        inputs = [2.0 - 2e-7, 2.0 + 1e-5, 0.4, 2.0 - 1e-6, 3.0]  # margins 1e-7, 5e-6, 0.8, 5e-7, 0.5
        sample = lambda i: (np.full((1, 1), inputs[i]), i)
        run = lambda model, x, tasks: self.forward(model, x[None])  # noqa: E731 (T = 1)
        found = export.decidable_inputs(lif, sample, None, 3, run=run)
        self.assertEqual([f[0] for f in found], [1, 2, 4])
        with self.assertRaisesRegex(RuntimeError, r'only 3 of the first 5 .* come to 1\.0e-07'):
            export.decidable_inputs(lif, sample, None, 4, run=run, limit=5)


class DecodeTest(unittest.TestCase):
    def test_threshold_constant(self):
        import math
        self.assertAlmostEqual(decode.DET_LOGIT_THRESHOLD, math.log(0.3 / 0.7), places=15)

    def test_nms_and_order(self):
        heat = np.full((10, 8, 8), -5, np.float32)
        heat[3, 2, 2] = 2.0   # strong 3
        heat[5, 2, 3] = 1.0   # overlapping 5, suppressed by class-agnostic NMS
        heat[1, 6, 6] = 2.0   # tie with the 3: class 1 comes first
        heat[1, 6, 5] = 2.0   # plateau neighbour: kept as candidate, removed by NMS
        reg = np.full((4, 8, 8), 2, np.float32)  # 16x16 boxes: neighbours overlap with IoU 0.6
        dets = decode.decode_detections(heat, reg, 32, 32)
        self.assertEqual([(d['class'], d['cell']) for d in dets], [(1, [6, 5]), (3, [2, 2])])
        self.assertEqual((dets[1]['x0'], dets[1]['y0'], dets[1]['x1'], dets[1]['y1']), (2.0, 2.0, 18.0, 18.0))


if __name__ == '__main__':
    unittest.main()
