import type { TaskObject } from '../api.js';
import { readableFields } from '../messages.js';
import type { Batch } from '../state.js';

interface Props {
  batch: Batch;
  tasks: Readonly<Record<string, TaskObject>>;
  onPick: (taskId: string) => void;
  onClose: () => void;
}

const STATUS_WORD: Record<string, string> = { queued: 'Queued', handling: 'Rendering', archiving: 'Saving', fail: 'Failed' };

/** Four renders side by side: photographic takes for variants, placements for an aspect set. */
export function BatchGrid({ batch, tasks, onPick, onClose }: Props) {
  const title = batch.kind === 'variants' ? 'Variants' : 'Aspect set';
  return (
    <section class="panel batch" aria-labelledby="batch-title">
      <div class="panel-head">
        <h2 id="batch-title">{title}</h2>
        <button type="button" class="btn btn-quiet btn-small" onClick={onClose}>
          Close
        </button>
      </div>
      <ul class={`batch-grid batch-${batch.kind}`}>
        {batch.items.map((item) => {
          const task = tasks[item.taskId];
          const url = task?.status === 'success' ? task.output?.[0]?.url : undefined;
          return (
            <li key={item.taskId}>
              <button type="button" class="batch-item" disabled={!url} onClick={() => onPick(item.taskId)} aria-label={`Open ${item.label}`}>
                <span class="batch-frame" style={{ aspectRatio: frameRatio(item.request.input.aspect_ratio) }}>
                  {url ? (
                    <img src={url} alt={`${title}: ${item.label}`} loading="lazy" />
                  ) : (
                    <span class={`batch-wait${task?.status === 'fail' ? ' error-text' : ''}`}>
                      {STATUS_WORD[task?.status ?? 'queued']}
                      {task?.status === 'fail' && task.error ? `: ${readableFields(task.error.message)}` : '…'}
                    </span>
                  )}
                </span>
                <span class="batch-label">{item.label}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function frameRatio(r: string): string {
  if (r === 'auto' || !r.includes(':')) return '1 / 1';
  return r.replace(':', ' / ');
}
