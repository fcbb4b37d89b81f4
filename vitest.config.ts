import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

// Kept apart from vite.config.ts (the app build). Two projects, run together by `vitest run`:
//  - node:   tests/**/*.test.ts in Node;
//  - webgpu: tests/webgpu/*.browser.test.ts in headless Debian Chromium, WebGPU on SwiftShader
//            (`apt-get install -y chromium`, or scripts/ready.sh).
const chromiumArgs = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
];

export default defineConfig({
  test: {
    reporters: ['default', './tests/helpers/summaryReporter.ts'],
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/**/*.browser.test.ts', '**/node_modules/**'],
          testTimeout: 60000,
        },
      },
      {
        test: {
          name: 'webgpu',
          include: ['tests/**/*.browser.test.ts'],
          testTimeout: 180000,
          hookTimeout: 180000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
                args: chromiumArgs,
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
