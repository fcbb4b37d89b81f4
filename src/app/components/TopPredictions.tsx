import { formatProbability, type Prediction } from '../logic/predictions.ts';

interface Props {
  predictions: Prediction[];
  labelsNote: string;
  trained: boolean;
}

/** The five most probable classes, live, as a list named "Top predictions". */
export function TopPredictions({ predictions, labelsNote, trained }: Props) {
  return (
    <section className="panel" aria-labelledby="predictions-heading">
      <h2 id="predictions-heading">Top predictions</h2>
      <p className="explain">Softmax of the head's output, averaged over the time steps; labels: {labelsNote}.</p>
      {!trained && <p className="note">Random weights: these guesses mean nothing, but every spike below is real.</p>}
      {predictions.length === 0 ? (
        <p className="note">Waiting for the first frame…</p>
      ) : (
        <ol className="predictions" aria-label="Top predictions">
          {predictions.map((p, i) => (
            <li key={p.classIndex} className={i === 0 ? 'top' : undefined} title={`class ${p.classIndex}: ${p.fullLabel}`}>
              <span className="pred-label">{p.label}</span>
              <span className="pred-bar" aria-hidden="true">
                <span style={{ width: `${Math.max(0.5, p.probability * 100)}%` }} />
              </span>
              <span className="pred-prob">{formatProbability(p.probability)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
