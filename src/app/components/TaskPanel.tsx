import type { Detection } from '../../tasks/index.ts';
import { choiceLabel, type TaskChoice } from '../../model/tasks.ts';
import { classCss } from '../logic/taskOverlay.ts';

interface Props {
  choices: TaskChoice[];
  choice: TaskChoice;
  onChoice(c: TaskChoice): void;
  inputSize: number;
  /** Null when detection is not running. */
  detections: Detection[] | null;
  /** Segmentation class names (background first) when segmentation is running, else null. */
  segClasses: string[] | null;
  /** Pixels per class of the current mask. */
  segHistogram: number[] | null;
  maskOpacity: number;
  onMaskOpacity(v: number): void;
  /** Why the chosen task shows nothing on this backend, if so. */
  unavailable?: string;
}

/** Task switch (classify / detect / segment / all), the detections list and the mask legend. */
export function TaskPanel({ choices, choice, onChoice, inputSize, detections, segClasses, segHistogram, maskOpacity, onMaskOpacity, unavailable }: Props) {
  return (
    <section className="panel" aria-labelledby="tasks-heading">
      <h2 id="tasks-heading">Tasks</h2>
      <div className="task-switch" role="radiogroup" aria-label="Task">
        {choices.map((c) => (
          <label key={c}>
            <input type="radio" name="task" value={c} checked={choice === c} onChange={() => onChoice(c)} /> {choiceLabel(c)}
          </label>
        ))}
      </div>
      {choices.length === 1 && <p className="note">This model has the classification head only.</p>}
      {choice !== 'classify' && (
        <p className="explain">
          One backbone pass at {inputSize}×{inputSize} feeds every head; boxes and the mask are drawn over the input preview.
        </p>
      )}
      {unavailable && <p className="status status-bad">{unavailable}</p>}
      {detections && (
        <>
          <h3>Detections</h3>
          {detections.length === 0 ? (
            <p className="note">No detections above the score threshold.</p>
          ) : (
            <ol className="detections" aria-label="Detections">
              {detections.map((d, i) => (
                <li key={i}>
                  <span className="swatch" style={{ background: classCss(d.class, false) }} aria-hidden="true" />
                  <span className="det-label">{d.label}</span> <span className="det-score">{(d.score * 100).toFixed(0)}%</span>{' '}
                  <span className="det-box note">
                    [{Math.round(d.x0)}, {Math.round(d.y0)}, {Math.round(d.x1)}, {Math.round(d.y1)}]
                  </span>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
      {segClasses && (
        <>
          <h3>Segmentation</h3>
          <label className="opacity">
            Mask opacity{' '}
            <input type="range" min={0} max={1} step={0.05} value={maskOpacity} onChange={(e) => onMaskOpacity(Number(e.target.value))} />
          </label>
          <ul className="legend" aria-label="Segmentation legend">
            {segClasses.map((name, c) => (
              <li key={c}>
                <span className="swatch" style={{ background: classCss(c, true), outline: c === 0 ? '1px solid var(--border)' : undefined }} aria-hidden="true" />
                {name}
                {segHistogram && segHistogram[c] > 0 ? <span className="note"> · {segHistogram[c]} px</span> : null}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
