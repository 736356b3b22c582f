import type { TaskObject } from '../api.js';
import { turnNumber, type Turn } from '../state.js';

interface Props {
  turns: readonly Turn[];
  tasks: Readonly<Record<string, TaskObject>>;
  selected: string | null;
  onSelect: (taskId: string) => void;
}

const KIND: Record<Turn['kind'], string> = {
  new: 'New shot',
  edit: 'Edit',
  variant: 'Variant',
  aspect: 'Aspect',
  history: 'From history',
};

/**
 * Every turn of this session in the order it was made. Selecting an older turn and editing it
 * starts a branch; the branch point is shown as "from turn N".
 */
export function Timeline({ turns, tasks, selected, onSelect }: Props) {
  if (turns.length === 0) return null;
  const byId = new Map(turns.map((t) => [t.taskId, t]));
  return (
    <section class="panel timeline" aria-labelledby="timeline-title">
      <div class="panel-head">
        <h2 id="timeline-title">Timeline</h2>
        <span class="muted small">Select a turn to view it or branch from it</span>
      </div>
      <ol class="turns">
        {turns.map((t, i) => {
          const task = tasks[t.taskId];
          const thumb = task?.status === 'success' ? task.output?.[0]?.url : undefined;
          const n = turnNumber(turns, t.taskId);
          const prev = turns[i - 1];
          const branched = t.parentId !== null && prev?.taskId !== t.parentId && byId.has(t.parentId);
          return (
            <li key={t.taskId} class={branched ? 'turn-branch' : undefined}>
              <button
                type="button"
                class={`turn${selected === t.taskId ? ' turn-on' : ''}`}
                aria-current={selected === t.taskId ? 'true' : undefined}
                onClick={() => onSelect(t.taskId)}
              >
                <span class="turn-thumb">
                  {thumb ? <img src={thumb} alt="" loading="lazy" /> : <span class={`status-dot status-${task?.status ?? 'queued'}`} />}
                </span>
                <span class="turn-body">
                  <span class="turn-title">
                    Turn {n} · {KIND[t.kind]}
                    {branched && t.parentId && <span class="muted"> · from turn {turnNumber(turns, t.parentId)}</span>}
                    {task?.status === 'fail' && <span class="error-text"> · failed</span>}
                  </span>
                  <span class="turn-prompt">{t.prompt || '(no prompt)'}</span>
                </span>
              </button>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
