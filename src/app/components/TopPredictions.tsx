import { formatProbability, UNCERTAIN_BELOW, type Prediction } from '../logic/predictions.ts';

interface Props {
  predictions: Prediction[];
  labelsNote: string;
  trained: boolean;
  /** The top class has less than `UNCERTAIN_BELOW`. */
  uncertain: boolean;
  /** The answer is "no digit": that class is on top, or the top class is under `noDigitBelow`. */
  noDigit: boolean;
  /** The model's threshold, when it is what made the answer "no digit". */
  noDigitBelow?: number;
  /** Why the list is not shown (detect and segment modes). */
  hidden?: string;
}

/**
 * The five most probable classes, live, as a list named "Top predictions"; a top class under
 * `UNCERTAIN_BELOW` is marked uncertain, and a "no digit" answer (that class on top, or the top class
 * under the model's `noDigitBelow`) is said as such.
 */
export function TopPredictions({ predictions, labelsNote, trained, uncertain, noDigit, noDigitBelow, hidden }: Props) {
  return (
    <section className="panel" aria-labelledby="predictions-heading">
      <h2 id="predictions-heading">Top predictions</h2>
      <p className="explain">Softmax of the head's output, averaged over the time steps; labels: {labelsNote}.</p>
      {!trained && <p className="note">Random weights: these guesses mean nothing, but every spike below is real.</p>}
      {hidden ? (
        <p className="note" data-testid="predictions-hidden">{hidden}</p>
      ) : predictions.length > 0 && (noDigit || uncertain) && (
        <p className={`verdict${uncertain ? ' uncertain' : ''}`} data-testid="prediction-verdict">
          {noDigit ? 'No digit in view' : `Uncertain: “${predictions[0].label}”`}
          {noDigitBelow !== undefined && ` — the top class has under ${Math.round(noDigitBelow * 100)} %, the model's least for a digit`}
          {uncertain && ` — the top class has under ${UNCERTAIN_BELOW * 100} %, less than all the others together`}
        </p>
      )}
      {hidden ? null : predictions.length === 0 ? (
        <p className="note">Waiting for the first frame…</p>
      ) : (
        <ol className="predictions" aria-label="Top predictions">
          {predictions.map((p, i) => (
            <li key={p.classIndex} className={i === 0 ? (uncertain ? 'top uncertain' : 'top') : undefined} title={`class ${p.classIndex}: ${p.fullLabel}`}>
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
