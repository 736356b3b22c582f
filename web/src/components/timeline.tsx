import type { TaskObject } from '../api.js';
import { describeChanges } from '../planner.js';
import type { Turn } from '../state.js';
import { useThumbnail } from '../thumbnail.js';

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
  reframe: 'Moved',
  history: 'From history',
  matte: 'Cutout fixed',
};
const OF: Record<Turn['kind'], string> = { new: '', edit: ' of', variant: ' of', aspect: ' of', reframe: ' from', history: ', from', matte: ' of' };

/**
 * Every turn of this session in the order it was made, numbered #1, #2 … Selecting an older turn and
 * editing it starts a branch: the new turn says which one it edits ("Edit of #1") and is indented
 * when that is not the turn just above it.
 */
export function Timeline({ turns, tasks, selected, onSelect }: Props) {
  if (turns.length === 0) return null;
  const index = new Map(turns.map((t, i) => [t.taskId, i + 1]));
  return (
    <section class="panel timeline" aria-labelledby="timeline-title">
      <div class="panel-head">
        <h2 id="timeline-title">Timeline</h2>
        <span class="muted small">Select a turn to view it or branch from it</span>
      </div>
      <ol class="turns">
        {turns.map((t, i) => {
          const task = tasks[t.taskId];
          const changes = describeChanges(task?.reshoot?.plan);
          const parentNo = t.parentId ? index.get(t.parentId) : undefined;
          const branched = parentNo !== undefined && parentNo !== i;
          return (
            <li key={t.taskId} class={branched ? 'turn-branch' : undefined}>
              <button
                type="button"
                class={`turn${selected === t.taskId ? ' turn-on' : ''}`}
                aria-current={selected === t.taskId ? 'true' : undefined}
                onClick={() => onSelect(t.taskId)}
              >
                <TurnThumb task={task} />
                <span class="turn-body">
                  <span class="turn-title">
                    #{i + 1} · {KIND[t.kind]}
                    {parentNo !== undefined && `${OF[t.kind]} #${parentNo}`}
                    {task?.status === 'fail' && <span class="error-text"> · failed</span>}
                  </span>
                  <span class="turn-prompt">{t.prompt || '(no prompt)'}</span>
                  {changes.length > 0 && <span class="turn-changes">{changes.join(' · ')}</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function TurnThumb({ task }: { task: TaskObject | undefined }) {
  const url = task?.status === 'success' ? task.output?.[0]?.url : undefined;
  const thumb = useThumbnail(url, 160);
  return (
    <span class="turn-thumb">
      {!url ? <span class={`status-dot status-${task?.status ?? 'queued'}`} /> : thumb !== undefined && <img src={thumb ?? url} alt="" decoding="async" />}
    </span>
  );
}
