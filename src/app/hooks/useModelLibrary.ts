/** The model library (`logic/modelLibrary.ts`) as React state: the worker and store it uses, its first load. */
import { useEffect, useState, useSyncExternalStore } from 'react';
import { builtinOrRandom } from '../engine/builtinModel.ts';
import { ModelStore } from '../engine/modelStore.ts';
import { ModelWorkerClient } from '../engine/modelWorkerClient.ts';
import { ModelLibrary } from '../logic/modelLibrary.ts';

/** `url`: a checkpoint to download and run first (`?model=<URL>`); the built-in model if it cannot be. */
export function useModelLibrary(randomOnly: boolean, url: string | null = null) {
  const [library] = useState(() => {
    const worker = new ModelWorkerClient();
    return new ModelLibrary({ worker, store: new ModelStore(), builtin: (random, options) => builtinOrRandom(worker, random, options) });
  });
  const state = useSyncExternalStore(library.subscribe, library.getState);
  useEffect(() => {
    library.start(randomOnly, url);
    return () => library.cancel();
  }, [library, randomOnly, url]);
  return { ...state, library };
}
