import type { EngineName } from '../../../src/contract/models.js';
import type { TaskObject } from '../api.js';
import { ENGINE_LABELS, fallbackNote, lockFigures, lockRefusal } from '../engine-choice.js';
import { readableMessage } from '../messages.js';

/**
 * What a generative engine did to the product, in plain words: which engine painted the scene, where
 * it put the product, how its outline matched the photo and the product's colour error before → after
 * the lock; or that the studio stood in, and why. Nothing for a studio render.
 */
export function LockReport({ task }: { task: TaskObject }) {
  const ext = task.reshoot ?? {};
  const fallback = fallbackNote(ext.fallback);
  if (!ext.lock && !fallback) return null;
  const engine = ext.upstream?.engine ?? ext.engine;
  const painted = engine ? (ENGINE_LABELS[engine as EngineName] ?? engine) : null;
  const lock = ext.lock ? lockFigures(ext.lock) : null;

  return (
    <section class="lock-report" aria-label="Product lock">
      {fallback && (
        <p class="notice" role="status">
          {fallback}
        </p>
      )}
      {lock && (
        <>
          <p class="lock-summary">
            {painted && (
              <span class="lock-engine">
                Painted by <b>{painted}</b>.{' '}
              </span>
            )}
            {lock.summary}
          </p>
          <dl class="lock-figures">
            {lock.figures.map((f) => (
              <div key={f.label} class="lock-figure" title={f.title}>
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </section>
  );
}

/** A failed render: the reason, and for a strict lock's refusal what it means and what to do. */
export function TaskFailure({ task }: { task: TaskObject }) {
  const refusal = lockRefusal(task.error);
  if (refusal) {
    return (
      <div class="lock-refusal">
        <h2>The product lock refused this render</h2>
        <p>{refusal}.</p>
        <p class="muted small">
          The model changed the product's shape, so the photographed product cannot be pasted back faithfully. Render again with another seed, or pick the Blend lock to keep such
          frames.
        </p>
        {task.error?.code && <code class="small">{task.error.code}</code>}
      </div>
    );
  }
  return (
    <div>
      <h2>This render failed</h2>
      <p>{task.error ? readableMessage(task.error.message) : 'No reason was given.'}</p>
      {task.error?.code && <code class="small">{task.error.code}</code>}
    </div>
  );
}
