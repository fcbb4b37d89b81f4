/** Pictures bundled in `public/samples/`, drawn procedurally by `src/app/dev/makeSamples.mjs`. */
export interface Sample {
  file: string;
  title: string;
}

export const SAMPLES: Sample[] = [
  { file: 'digit-3.png', title: 'Handwritten 3' },
  { file: 'digit-7.png', title: 'Handwritten 7' },
  { file: 'shapes.png', title: 'Shapes' },
  { file: 'stripes.png', title: 'Stripes' },
  { file: 'sunset.png', title: 'Sunset' },
];

export function sampleUrl(file: string): string {
  return `${import.meta.env?.BASE_URL ?? '/'}samples/${file}`;
}
