#!/usr/bin/env node
/**
 * Dev-time generator of the sample pictures in `public/samples/` (run once; the PNGs are committed):
 * draws them on a canvas in headless Chromium (playwright-core, /usr/bin/chromium) and saves PNGs.
 * Everything is procedural: hand-drawn-looking digits (white on black, like MNIST), coloured
 * shapes, a sinusoidal grating and a sunset.
 *
 *   node src/app/dev/makeSamples.mjs
 */
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const out = new URL('../../../public/samples/', import.meta.url);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
const page = await browser.newPage();

const pictures = await page.evaluate(() => {
  const S = 224;
  /** A seeded PRNG so the pictures are the same every run. */
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const make = (draw) => {
    const c = document.createElement('canvas');
    c.width = S;
    c.height = S;
    const ctx = c.getContext('2d');
    draw(ctx);
    return c.toDataURL('image/png');
  };
  /** A digit as thick pen strokes on a 28-unit grid (MNIST's), with a little wobble. */
  const digit = (strokes) => make((ctx) => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, S, S);
    ctx.scale(S / 28, S / 28);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2.6;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.shadowColor = 'rgba(255,255,255,0.8)';
    ctx.shadowBlur = 6;
    for (const stroke of strokes) {
      ctx.beginPath();
      stroke(ctx, () => (rand() - 0.5) * 0.6);
      ctx.stroke();
    }
  });
  const three = digit([
    (ctx, j) => {
      ctx.moveTo(9 + j(), 7.5 + j());
      ctx.bezierCurveTo(12, 4.5, 19.5 + j(), 5.5, 18.5, 9.5 + j());
      ctx.bezierCurveTo(17.8, 12.5, 14.5, 13.5, 12.5 + j(), 13.8);
      ctx.bezierCurveTo(17 + j(), 13.5, 20.5, 16, 19.5, 19.5 + j());
      ctx.bezierCurveTo(18.5, 23, 12, 23.5 + j(), 8.5, 20.5);
    },
  ]);
  const seven = digit([
    (ctx, j) => {
      ctx.moveTo(8 + j(), 7 + j());
      ctx.lineTo(20 + j(), 6.5 + j());
      ctx.quadraticCurveTo(15.5, 13, 13 + j(), 22 + j());
    },
    (ctx, j) => {
      ctx.moveTo(11.5 + j(), 14 + j());
      ctx.lineTo(18 + j(), 13.5 + j());
    },
  ]);
  const shapes = make((ctx) => {
    const g = ctx.createLinearGradient(0, 0, 0, S);
    g.addColorStop(0, '#e0f2fe');
    g.addColorStop(1, '#bae6fd');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, S, S);
    ctx.fillStyle = '#dc2626';
    ctx.beginPath();
    ctx.arc(70, 80, 42, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#2563eb';
    ctx.fillRect(120, 40, 70, 70);
    ctx.fillStyle = '#16a34a';
    ctx.beginPath();
    ctx.moveTo(112, 200);
    ctx.lineTo(170, 120);
    ctx.lineTo(210, 200);
    ctx.closePath();
    ctx.fill();
    ctx.fillStyle = '#facc15';
    ctx.beginPath();
    ctx.ellipse(60, 170, 40, 22, -0.3, 0, Math.PI * 2);
    ctx.fill();
  });
  const stripes = make((ctx) => {
    const img = ctx.createImageData(S, S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const r = Math.hypot(x - S / 2, y - S / 2);
        const v = 0.5 + 0.5 * Math.sin((x * Math.cos(0.6) + y * Math.sin(0.6)) * 0.22) * Math.exp(-(r * r) / (2 * 70 * 70));
        const i = (y * S + x) * 4;
        img.data[i] = img.data[i + 1] = img.data[i + 2] = Math.round(v * 255);
        img.data[i + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  });
  const sunset = make((ctx) => {
    const sky = ctx.createLinearGradient(0, 0, 0, S);
    sky.addColorStop(0, '#1e3a8a');
    sky.addColorStop(0.55, '#f97316');
    sky.addColorStop(0.75, '#fde047');
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, S, S);
    ctx.fillStyle = '#fef3c7';
    ctx.beginPath();
    ctx.arc(140, 150, 30, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#14532d';
    ctx.beginPath();
    ctx.moveTo(0, S);
    for (let x = 0; x <= S; x += 8) ctx.lineTo(x, 165 + 18 * Math.sin(x / 30) + 8 * Math.sin(x / 11));
    ctx.lineTo(S, S);
    ctx.closePath();
    ctx.fill();
  });
  return { 'digit-3.png': three, 'digit-7.png': seven, 'shapes.png': shapes, 'stripes.png': stripes, 'sunset.png': sunset };
});

for (const [name, dataUrl] of Object.entries(pictures)) {
  writeFileSync(new URL(name, out), Buffer.from(dataUrl.split(',')[1], 'base64'));
  console.log('wrote', name);
}
await browser.close();
